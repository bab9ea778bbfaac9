"""Layers read in forked processes: the CPU-bound part of a scan on more than one core.

One pass over a layer is Python work (tar headers, the analysers) under one GIL, and ISA-L's
inflate holds the GIL as well, so threads cannot spread it over cores; processes can. Where
the source can be read from a copy of this process (local archives and layouts, see
:attr:`ImageSource.reads_in_forked_process`) and the visitor can export what it found per
layer (the states the layer cache stores), the layers still to read are split into
contiguous runs: this process reads the first run itself while each forked worker reads one
of the others with its own copy of the visitor and its own read budget, sending every
layer's result back in the layer cache's encoding as soon as it is done. This process takes
the results in layer order, exactly as it takes cache entries (checked, recorded, counted
against the image's budget), so the outcome is the one a single process reaches: the cache
tests hold the two paths equal, and ``tests/image/test_layer_workers.py`` holds this one.

Forking is only safe before other threads start, so the callers that may fork are the
command-line ones (``AcquireOptions.layer_workers``); the service keeps one process per
analysis.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import signal
import struct
import threading
from collections.abc import Iterator, Sequence
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


def split_runs(layers: Sequence[LayerInfo], lanes: int) -> list[list[LayerInfo]]:
    """At most ``lanes`` contiguous runs of ``layers`` with sizes as even as the order allows
    (the largest run as small as possible); fewer when there are fewer layers."""
    lanes = max(1, min(lanes, len(layers)))
    sizes = [max(layer.size, 1) for layer in layers]

    def runs_within(bound: int) -> list[list[LayerInfo]] | None:
        runs: list[list[LayerInfo]] = [[]]
        total = 0
        for layer, size in zip(layers, sizes, strict=True):
            if runs[-1] and total + size > bound:
                runs.append([])
                total = 0
            runs[-1].append(layer)
            total += size
        return runs if len(runs) <= lanes else None

    low, high = max(sizes, default=1), sum(sizes) or 1
    while low < high:  # the smallest bound that needs no more than ``lanes`` runs
        middle = (low + high) // 2
        if runs_within(middle) is None:
            low = middle + 1
        else:
            high = middle
    return runs_within(low) or [list(layers)]


class LayerWorker:
    """A forked copy of this process reading ``layers`` of ``source`` with ``visitor``.

    Fork every worker before starting any thread of this process's own (a forked child holds
    only the forking thread, and locks other threads held stay held in it).
    """

    def __init__(self, source: Any, layers: Sequence[LayerInfo], visitor: LayerVisitor) -> None:
        self.layers = list(layers)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the caller's code
            os.close(read_end)
            _work(source, self.layers, visitor, write_end)
        os.close(write_end)
        self.pid: int | None = pid
        self._pipe: IO[bytes] = os.fdopen(read_end, "rb")
        self._messages: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        # Drained as the worker writes, so that it never waits for this process to get to
        # its layers (a pipe holds 64 KiB).
        self._drain = threading.Thread(target=self._read_messages, daemon=True,
                                       name=f"layer-worker-{pid}")
        self._drain.start()

    def results(self) -> Iterator[tuple[LayerInfo, dict[str, Any]]]:
        """Each layer's encoded result, in order, as the worker finishes it; raises the
        worker's error where it failed."""
        for layer in self.layers:
            kind, payload = self._messages.get()
            if kind == "error":
                raise payload
            if kind == "ended":
                raise HullscanError(f"layer worker ended without a result for layer "
                                    f"{layer.index} ({self._exit_status()})")
            yield layer, payload
        self.close()

    def _read_messages(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # ValueError: closed by close()
            while len(header := self._pipe.read(_LENGTH.size)) == _LENGTH.size:
                (length,) = _LENGTH.unpack(header)
                data = self._pipe.read(length)
                if len(data) < length:
                    break
                # Our own forked process wrote this: plain data (lists, strings, numbers)
                # or one of our errors, no object made from the image.
                kind, payload = pickle.loads(data)
                self._messages.put((str(kind), payload))
        self._messages.put(("ended", None))

    def _exit_status(self) -> str:
        if self.pid is None:
            return "already reaped"
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        if os.WIFSIGNALED(status):
            return f"killed by signal {os.WTERMSIG(status)}"
        return f"exit status {os.waitstatus_to_exitcode(status)}"

    def close(self) -> None:
        """Stop the worker if it still runs, reap it and end the reading thread."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = None
        self._drain.join()  # the pipe ends with the worker
        self._pipe.close()


def _work(source: Any, layers: list[LayerInfo], visitor: LayerVisitor, out: int) -> None:
    """The worker's whole life: read, send, exit without running the parent's clean-up."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        with os.fdopen(out, "wb") as pipe:
            try:
                source.after_fork()
                budget = ReadBudget(source.options.limits, subject=source.metadata.reference)
                for layer in layers:
                    contents = source.read_layer(layer, visitor=visitor, budget=budget)
                    state = visitor.export_layer(layer.index)  # type: ignore[attr-defined]
                    _send(pipe, ("layer", encode_layer(contents, state)))
            except HullscanError as error:
                _send(pipe, ("error", _portable(error)))
            except Exception as error:  # a bug: say what it was rather than die silently
                _send(pipe, ("error", HullscanError(f"layer worker failed: {error!r}")))
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


def _send(pipe: IO[bytes], message: tuple[str, Any]) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(_LENGTH.pack(len(data)) + data)
    pipe.flush()
