"""Read a stream ahead in a background thread, so that reading, hashing and decompression
overlap with parsing where they release the GIL.

File and socket reads and SHA-256 (hashlib, on large buffers) release the GIL; ISA-L's
inflate does not (measured: an inflate thread and a Python loop take as long together as one
after the other), so with gzip layers the overlap is the reads and the hashing, not the
inflating. The tar parsing and the analysers that consume the chunks are Python.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Read = Callable[[int], bytes]

CHUNK = 1024 * 1024
DEPTH = 8
"""Chunks held at most: memory stays bounded (``DEPTH * CHUNK``) whatever the consumer does."""


class _Failed:
    """What the producer raised, handed over to be raised again in the consumer."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


@contextmanager
def read_ahead(read: Read, *, chunk: int = CHUNK, depth: int = DEPTH) -> Iterator[Read]:
    """A ``read`` that returns the next chunk ``read(chunk)`` produced in the background
    (whatever size is asked for), ``b""`` at the end, and raises what the producer raised.

    Leaving the block stops the producer and waits for it, so nothing reads the underlying
    stream afterwards.
    """
    chunks: queue.Queue[bytes | _Failed] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        while not stop.is_set():
            try:
                item: bytes | _Failed = read(chunk)
            except BaseException as error:  # handed to the consumer, raised there
                item = _Failed(error)
            while not stop.is_set():
                try:
                    chunks.put(item, timeout=0.05)
                    break
                except queue.Full:
                    continue
            if isinstance(item, _Failed) or not item:
                return

    finished = False

    def consume(_size: int = -1) -> bytes:
        nonlocal finished
        if finished:
            return b""
        item = chunks.get()
        if isinstance(item, _Failed):
            finished = True
            raise item.error
        if not item:
            finished = True
        return item

    producer = threading.Thread(target=produce, name="hullscan-read-ahead", daemon=True)
    producer.start()
    try:
        yield consume
    finally:
        stop.set()
        producer.join()
