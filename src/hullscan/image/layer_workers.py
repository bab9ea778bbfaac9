"""Layers read in forked processes: the CPU-bound part of a scan on more than one core.

One pass over a layer is Python work (tar headers, the analysers) under one GIL, and ISA-L's
inflate holds the GIL as well, so threads cannot spread it over cores; processes can. Where
the source can be read from a copy of this process (local archives and layouts, see
:attr:`ImageSource.reads_in_forked_process`) and the visitor can export what it found per
layer (the states the layer cache stores), a :class:`LayerPool` forks workers that take the
layers still to read one at a time, in order, from a counter they share. Each worker reads
its layer with its own copy of the visitor and its own read budget and sends the result back
in the layer cache's encoding. This process records the results in layer order as it records
cache entries (checked, counted against the image's budget), so the outcome is the one a
single process reaches (``tests/image/test_layer_workers.py``). It reads no layer itself:
reading ahead while waiting would change its visitor out of order, and recording costs a
fraction of reading.

Taking layers one at a time balances the work whatever it is made of: a 400 MB layer of a
few thousand files and twenty layers of 28,000 small files each cost what they cost.

Forking is only safe before other threads start, so only callers without threads of their
own ask for workers (``AcquireOptions.layer_workers``: the command line); the service keeps
one process per analysis.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import pickle
import queue
import signal
import struct
import tempfile
import threading
from collections.abc import Sequence
from typing import IO, Any

from hullscan.errors import HullscanError
from hullscan.image.layer import LayerInfo, LayerVisitor, cache_key_of
from hullscan.image.layer_cache import encode_layer
from hullscan.image.limits import ReadBudget

_LENGTH = struct.Struct("!Q")


def exportable(visitor: LayerVisitor) -> bool:
    """Can the visitor's per-layer results be carried to another process? Exactly when they
    can be cached: the cache's tests hold such a visitor's export complete."""
    return cache_key_of(visitor) is not None


class _Claims:
    """The next layer to take, shared by forked workers.

    The counter lives in shared memory; it is changed under a POSIX record lock, which the
    kernel releases when its holder dies (a killed worker cannot leave it held).
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self._counter = mmap.mmap(-1, 8)
        self._lock = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()

    def next(self) -> int | None:
        """Take the next position, None when every one is taken."""
        fcntl.lockf(self._lock, fcntl.LOCK_EX)
        try:
            position = int.from_bytes(self._counter[:8], "little")
            if position >= self.count:
                return None
            self._counter[:8] = (position + 1).to_bytes(8, "little")
            return position
        finally:
            fcntl.lockf(self._lock, fcntl.LOCK_UN)

    def close(self) -> None:
        self._counter.close()
        self._lock.close()


class LayerPool:
    """Workers reading ``layers`` of ``source`` with copies of ``visitor``; see the module.

    Fork it before starting any thread of this process's own (a forked child holds only the
    forking thread, and locks other threads held stay held in it).
    """

    def __init__(self, source: Any, layers: Sequence[LayerInfo], visitor: LayerVisitor,
                 workers: int) -> None:
        self.layers = list(layers)
        self._claims = _Claims(len(self.layers))
        self._messages: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._ready: dict[int, tuple[str, Any]] = {}
        self._owners: dict[int, int] = {}
        self._ended: dict[int, str] = {}
        self._pipes: dict[int, IO[bytes]] = {}
        self._reaped: set[int] = set()
        self._drains: list[threading.Thread] = []
        try:
            for _ in range(workers):
                self._fork(source, visitor)
        except BaseException:
            self.close()
            raise
        for pid, pipe in self._pipes.items():
            # Drained as the workers write, so that none waits for this process to get to
            # its layers (a pipe holds 64 KiB).
            drain = threading.Thread(target=self._read_messages, args=(pid, pipe),
                                     daemon=True, name=f"layer-worker-{pid}")
            drain.start()
            self._drains.append(drain)

    def _fork(self, source: Any, visitor: LayerVisitor) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the caller's code
            os.close(read_end)
            _work(source, self.layers, visitor, self._claims, write_end)
        os.close(write_end)
        self._pipes[pid] = os.fdopen(read_end, "rb")

    def result(self, position: int) -> dict[str, Any]:
        """The encoded result of ``layers[position]`` once its worker has sent it; raises the
        worker's error, or an error when the worker died."""
        while position not in self._ready:
            owner = self._owners.get(position)
            if owner in self._ended or (owner is None and len(self._ended) == len(self._pipes)):
                why = self._ended.get(owner or 0, "every worker has ended")
                raise HullscanError(f"layer worker ended without a result for layer "
                                    f"{self.layers[position].index} ({why})")
            self._handle(self._messages.get())
        kind, payload = self._ready.pop(position)
        if kind == "error":
            raise payload
        result: dict[str, Any] = payload
        return result

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "claimed":
            self._owners[message[1]] = message[2]
        elif kind in ("layer", "error"):
            self._ready[message[1]] = (kind, message[2])
        else:  # "ended"
            self._ended[message[1]] = self._exit_status(message[1])

    def _read_messages(self, pid: int, pipe: IO[bytes]) -> None:
        with contextlib.suppress(OSError, ValueError):  # ValueError: closed by close()
            while len(header := pipe.read(_LENGTH.size)) == _LENGTH.size:
                (length,) = _LENGTH.unpack(header)
                data = pipe.read(length)
                if len(data) < length:
                    break
                # Our own forked process wrote this: plain data (lists, strings, numbers)
                # or one of our errors, no object made from the image.
                self._messages.put(pickle.loads(data))
        self._messages.put(("ended", pid))

    def _exit_status(self, pid: int) -> str:
        _, status = os.waitpid(pid, 0)  # its pipe has ended: it has exited or is exiting
        self._reaped.add(pid)
        if os.WIFSIGNALED(status):
            return f"killed by signal {os.WTERMSIG(status)}"
        return f"exit status {os.waitstatus_to_exitcode(status)}"

    def close(self) -> None:
        """Stop the workers still running, reap them and end the reading threads."""
        for pid in self._pipes.keys() - self._reaped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            self._reaped.add(pid)
        for drain in self._drains:
            drain.join()  # each pipe ends with its worker
        for pipe in self._pipes.values():
            pipe.close()
        self._claims.close()


def _work(source: Any, layers: list[LayerInfo], visitor: LayerVisitor, claims: _Claims,
          out: int) -> None:
    """A worker's whole life: take, read, send, until no layer is left; then exit without
    running the parent's clean-up."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        with os.fdopen(out, "wb") as pipe:
            source.after_fork()
            budget = ReadBudget(source.options.limits, subject=source.metadata.reference)
            while (position := claims.next()) is not None:
                _send(pipe, ("claimed", position, os.getpid()))
                layer = layers[position]
                try:
                    contents = source.read_layer(layer, visitor=visitor, budget=budget)
                    state = visitor.export_layer(layer.index)  # type: ignore[attr-defined]
                    _send(pipe, ("layer", position, encode_layer(contents, state)))
                except HullscanError as error:
                    _send(pipe, ("error", position, _portable(error)))
                    return
                except Exception as error:  # a bug: say what it was rather than die silently
                    failure = HullscanError(f"layer worker failed: {error!r}")
                    _send(pipe, ("error", position, failure))
                    return
    except BaseException:  # nothing may escape into the parent's code
        code = 1
    finally:
        os._exit(code)


def _portable(error: HullscanError) -> HullscanError:
    """The error itself when it survives pickling, else a plain one with its text."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # any pickling failure
        return HullscanError(error.reason, subject=error.subject)
    return error


def _send(pipe: IO[bytes], message: tuple[Any, ...]) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(_LENGTH.pack(len(data)) + data)
    pipe.flush()
