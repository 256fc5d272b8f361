"""Production's store: an S3-compatible object store (SeaweedFS in the tests, any
S3 in production) through boto3, one object per blob, keyed by the blob's name.

Blobs are read only through the API, under the scope of the clue or task that
holds them: the bucket is never public and no URL of it is handed out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from photos.blobs import BlobStore, checked_name, checked_time, is_name

# A missing key (HEAD answers a bare 404). A missing bucket is not among them: it
# was made at start, so its loss is an error to see, not an empty store.
_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3BlobStore(BlobStore):
    def __init__(self, *, endpoint: str, bucket: str, access_key: str, secret_key: str,
                 region: str = "us-east-1", prefix: str = "", timeout_s: float = 10) -> None:
        self.bucket = bucket
        # Keys are prefix + name: several stores (a test's each) can share one bucket.
        self.prefix = prefix
        self._s3: Any = boto3.client(
            "s3", endpoint_url=endpoint or None, region_name=region,
            aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None,
            config=Config(
                # Path-style (http://host/bucket/key): S3-compatible servers on one
                # host have no wildcard DNS for bucket.host.
                s3={"addressing_style": "path"},
                # botocore's default since 1.36 streams CRC32 trailers (aws-chunked),
                # which S3-compatible servers do not all accept; MD5/SigV4 suffices.
                request_checksum_calculation="when_required", response_checksum_validation="when_required",
                connect_timeout=timeout_s, read_timeout=timeout_s,
                retries={"max_attempts": 3, "mode": "standard"}))
        self._region = region
        self._ensure_bucket()

    def _ensure_bucket(self) -> None:
        """Made on first use, so a fresh server (a test's, a new deployment's) works at once."""
        try:
            self._s3.head_bucket(Bucket=self.bucket)
            return
        except ClientError as e:
            if _code(e) not in {"404", "NoSuchBucket", "NotFound"}:
                raise
        where = {} if self._region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": self._region}}
        try:
            self._s3.create_bucket(Bucket=self.bucket, **where)
        except ClientError as e:
            # Two processes starting at once: the other one made it.
            if _code(e) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise

    def put(self, name: str, data: bytes) -> None:
        name = checked_name(name)
        if self._exists(name):
            return  # content-addressed: the same name already holds the same bytes
        # One PUT: S3 makes an object visible whole or not at all.
        self._s3.put_object(Bucket=self.bucket, Key=self.prefix + name, Body=bytes(data),
                            ContentType="application/octet-stream")

    def get(self, name: str) -> bytes | None:
        try:
            answer = self._s3.get_object(Bucket=self.bucket, Key=self.prefix + checked_name(name))
        except ClientError as e:
            if _code(e) in _MISSING:
                return None
            raise
        with answer["Body"] as body:
            data: bytes = body.read()
        return data

    def delete(self, name: str) -> None:
        # S3 answers 204 whether or not the key was there.
        self._s3.delete_object(Bucket=self.bucket, Key=self.prefix + checked_name(name))

    def names(self) -> Iterator[str]:
        for name, _ in self._listing():
            yield name

    def names_older_than(self, cutoff: datetime) -> Iterator[str]:
        """By the object's LastModified (the server's clock, to the second), which the listing carries."""
        cutoff = checked_time(cutoff)
        for name, written in self._listing():
            if written < cutoff:
                yield name

    def _listing(self) -> Iterator[tuple[str, datetime]]:
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                name = item["Key"][len(self.prefix):]
                if is_name(name):  # whatever else shares the bucket is not ours
                    yield name, item["LastModified"]

    def _exists(self, name: str) -> bool:
        try:
            self._s3.head_object(Bucket=self.bucket, Key=self.prefix + name)
            return True
        except ClientError as e:
            if _code(e) in _MISSING:
                return False
            raise


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
