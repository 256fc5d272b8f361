"""kafka-python checksums every record batch it produces or fetches with CRC-32C.
The engine installs the C implementation (`crc32c`), which kafka-python picks up by
itself: its pure-Python one was half the relay's time and 40 % of a consumer's
(docs/benchmarks.md). A venv without it would still work, at half the speed, and
nobody would notice; so it is checked here, and checked to agree with kafka-python's own."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from kafka.record import util
from kafka.record._crc32c import crc as pure_python_crc32c


def test_kafka_python_checksums_in_c() -> None:
    assert util.crc32c_c is not None, "the crc32c package is missing: pip install the project's dependencies"
    assert util.calc_crc32c.__defaults__ == (util.crc32c_c,)


@given(st.binary(max_size=4096))
def test_the_c_checksum_is_kafka_pythons_own(data: bytes) -> None:
    assert util.calc_crc32c(memoryview(data)) == pure_python_crc32c(memoryview(data))


def test_the_checksum_of_the_standard_check_string() -> None:
    assert util.calc_crc32c(memoryview(b"123456789")) == 0xE3069283  # CRC-32C's check value (RFC 3720, B.4)
