#!/usr/bin/env python3
"""Readiness probe for the broker started by scripts/kafka.sh.

An open port is not enough: a KRaft broker accepts TCP connections before it
has caught up with the metadata log and been unfenced, and clients that connect
in that window get errors or empty metadata. So this speaks the Kafka wire
protocol and succeeds only when a Metadata response lists at least one live
broker (a fenced broker is not listed).

Standard library only, so it works before the project's Python dependencies
are installed.

    probe.py HOST PORT [N]    exit 0 when ready (N live brokers listed, default 1: a
                              cluster's start waits for all of them), 1 otherwise
"""
import socket
import struct
import sys

API_METADATA = 3
API_VERSIONS = 18
CLIENT_ID = b"gridgov-kafka-probe"


def request(sock, api_key, version, correlation_id, body=b""):
    # Request header v1 (non-flexible): key, version, correlation id, client id.
    header = struct.pack(">hhih", api_key, version, correlation_id, len(CLIENT_ID)) + CLIENT_ID
    msg = header + body
    sock.sendall(struct.pack(">i", len(msg)) + msg)
    size = struct.unpack(">i", recv_exact(sock, 4))[0]
    payload = recv_exact(sock, size)
    got = struct.unpack(">i", payload[:4])[0]
    if got != correlation_id:
        raise RuntimeError(f"correlation id {got} != {correlation_id}")
    return payload[4:]


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed by broker")
        buf += chunk
    return buf


def metadata_version(sock):
    # ApiVersions v0 is the one request every broker version must accept.
    body = request(sock, API_VERSIONS, 0, 1)
    error, count = struct.unpack(">hi", body[:6])
    if error:
        raise RuntimeError(f"ApiVersions error code {error}")
    for i in range(count):
        key, lo, hi = struct.unpack(">hhh", body[6 + 6 * i: 12 + 6 * i])
        if key == API_METADATA:
            # v4..v8 share the non-flexible layout parsed below; Kafka 4.x
            # dropped the oldest versions (KIP-896), so never ask below its min.
            v = max(lo, 4)
            if v > min(hi, 8):
                raise RuntimeError(f"no Metadata version in 4..8 (broker has {lo}..{hi})")
            return v
    raise RuntimeError("broker does not list the Metadata API")


def live_brokers(sock, version):
    body = struct.pack(">i", 0)  # empty topic list: no topics, just brokers
    body += b"\x00"  # allow_auto_topic_creation = false
    if version >= 8:
        body += b"\x00\x00"  # no authorized-operations lookups
    resp = request(sock, API_METADATA, version, 2, body)
    # v3+: throttle_time_ms, then the broker array.
    (count,) = struct.unpack(">i", resp[4:8])
    return count


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    least = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    try:
        with socket.create_connection((host, port), timeout=5) as sock:
            sock.settimeout(5)
            n = live_brokers(sock, metadata_version(sock))
    except (OSError, RuntimeError, struct.error) as exc:
        print(f"probe: {host}:{port}: {exc}", file=sys.stderr)
        return 1
    if n < least:
        print(f"probe: {host}:{port}: metadata lists {n} live broker(s), not yet {least}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
