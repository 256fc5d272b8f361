"""Photos as evidence: the bytes a rider's photo is kept as, and where.

  images.py     reencode: a photo decided from its bytes, refused (no image, bombs, too big) or re-encoded bare
  blobs.py      BlobStore, the contract every store keeps (put, get, delete, names, names_older_than), and the rule for a blob's name
  files.py      FileBlobStore, the embedded default: a file per blob under var/photos/, written atomically
  memory.py     MemoryBlobStore, a dict, for unit tests
  s3.py         S3BlobStore, an S3-compatible object store through boto3 (production)
"""
