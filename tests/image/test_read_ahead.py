"""Reading ahead in a thread: same bytes, errors raised in the reader, the producer stopped."""

from __future__ import annotations

import io
import threading

import pytest

from hullscan.errors import CorruptContentError
from hullscan.image.read_ahead import read_ahead


def test_the_consumer_gets_every_byte_in_order() -> None:
    data = bytes(range(256)) * 40_000
    source = io.BytesIO(data)
    with read_ahead(source.read, chunk=65_536, depth=3) as read:
        parts = []
        while chunk := read(10):
            parts.append(chunk)
        assert read(10) == b""
    assert b"".join(parts) == data


def test_a_producer_error_is_raised_in_the_consumer_after_the_good_chunks() -> None:
    chunks = iter([b"a", b"b"])

    def read(_size: int) -> bytes:
        chunk = next(chunks, None)
        if chunk is None:
            raise CorruptContentError("gzip stream is truncated")
        return chunk

    with read_ahead(read) as ahead:
        assert ahead(1) + ahead(1) == b"ab"
        with pytest.raises(CorruptContentError, match="truncated"):
            ahead(1)
        assert ahead(1) == b""


def test_leaving_early_stops_the_producer_and_holds_few_chunks() -> None:
    produced = 0
    lock = threading.Lock()

    def endless(size: int) -> bytes:
        nonlocal produced
        with lock:
            produced += 1
        return b"x" * size

    with read_ahead(endless, chunk=1024, depth=4) as read:
        assert read(1) == b"x" * 1024
    # Stopped and joined: nothing reads the stream once the block is left.
    count = produced
    assert not any(t.name == "hullscan-read-ahead" for t in threading.enumerate())
    assert count <= 1 + 4 + 1  # consumed, queued, and one in the producer's hands
