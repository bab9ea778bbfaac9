"""The squashed view of an image: layers merged in order, honouring whiteouts and opaque dirs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from hullscan.errors import HostileContentError
from hullscan.image.layer import FileEntry, FileKind, LayerContents
from hullscan.image.paths import join_confined


class SymlinkLoopError(HostileContentError):
    """A path whose symlinks never end (or need more hops than allowed)."""


class SquashedFilesystem:
    """What a container started from the image would see, with the layer behind every file.

    Built from metadata only: file contents stay in the per-layer results that captured them.
    """

    def __init__(self, layers: Sequence[LayerContents], *, max_link_hops: int = 40) -> None:
        self._layers: dict[int, LayerContents] = {}
        self._entries: dict[str, FileEntry] = {}
        self._children: dict[str, set[str]] = {"": set()}
        self._max_link_hops = max_link_hops
        self._resolved_dirs: dict[str, str] = {}
        """Directories (as written) resolved so far; emptied whenever a layer is applied."""
        for contents in layers:
            self.apply(contents)

    def apply(self, contents: LayerContents) -> None:
        """Lay one more layer on top (layers must come in order)."""
        self._resolved_dirs.clear()
        self._layers[contents.layer.index] = contents
        for directory in contents.opaque_dirs:
            for child in list(self._children.get(directory, ())):
                self._remove(f"{directory}/{child}".lstrip("/"))
        for path in contents.whiteouts:
            self._remove(path)
        for entry in contents.entries:
            previous = self._entries.get(entry.path)
            if previous is not None and previous.kind is FileKind.DIRECTORY \
                    and entry.kind is not FileKind.DIRECTORY:
                self._remove(entry.path)
            self._add(entry)

    def _add(self, entry: FileEntry) -> None:
        self._entries[entry.path] = entry
        path = entry.path
        while path:
            parent, _, name = path.rpartition("/")
            siblings = self._children.setdefault(parent, set())
            if name in siblings:
                break
            siblings.add(name)
            path = parent
        if entry.kind is FileKind.DIRECTORY:
            self._children.setdefault(entry.path, set())

    def _remove(self, path: str) -> None:
        """Remove ``path`` and everything below it."""
        pending = [path]
        while pending:
            current = pending.pop()
            self._entries.pop(current, None)
            for child in self._children.pop(current, ()):
                pending.append(f"{current}/{child}")
        parent, _, name = path.rpartition("/")
        self._children.get(parent, set()).discard(name)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[FileEntry]:
        return iter(self._entries.values())

    def entry(self, path: str) -> FileEntry | None:
        """The entry stored at exactly ``path`` (no symlink resolution)."""
        return self._entries.get(path.strip("/"))

    def exists(self, path: str) -> bool:
        """True for stored entries and implied parent directories."""
        path = path.strip("/")
        return path in self._entries or path in self._children

    def symlink_names(self) -> set[str]:
        """The last names of every symlink's path (``lib`` for ``usr/lib`` -> ...)."""
        return {entry.path.rpartition("/")[2] for entry in self._entries.values()
                if entry.kind is FileKind.SYMLINK}

    def resolve(self, path: str) -> str:
        """Follow symlinks in every component of ``path``, confined to the image root.

        The directory part is resolved once per directory (callers resolve thousands of
        paths sharing a few hundred directories); each resolution is bounded by the hop limit.
        """
        parts = [part for part in path.split("/") if part]
        if len(parts) <= 1:
            return self._walk([], parts, path)
        directory = "/".join(parts[:-1])
        base = self._resolved_dirs.get(directory)
        if base is None:
            base = self._resolved_dirs[directory] = self._walk([], parts[:-1], path)
        name = parts[-1]
        candidate = f"{base}/{name}" if base else name
        entry = self._entries.get(candidate)
        if name not in (".", "..") and (entry is None or entry.kind is not FileKind.SYMLINK
                                         or not entry.link_target):
            return candidate  # what _walk returns for a last component that is no link
        return self._walk(base.split("/") if base else [], parts[-1:], path)

    def _walk(self, resolved: list[str], pending: list[str], path: str) -> str:
        """Resolve the ``pending`` components below the already resolved ``resolved``."""
        hops = 0
        while pending:
            part = pending.pop(0)
            if part == ".":
                continue
            if part == "..":
                if resolved:
                    resolved.pop()
                continue
            candidate = "/".join([*resolved, part])
            entry = self._entries.get(candidate)
            if entry is not None and entry.kind is FileKind.SYMLINK and entry.link_target:
                hops += 1
                if hops > self._max_link_hops:
                    raise SymlinkLoopError(f"too many levels of symbolic links resolving /{path}")
                target = join_confined("/".join(resolved), entry.link_target)
                pending = target + pending
                resolved = []
                continue
            resolved.append(part)
        return "/".join(resolved)

    def read(self, path: str) -> bytes | None:
        """Contents of ``path`` (symlinks followed), if a layer captured them."""
        resolved = self.resolve(path)
        entry = self._entries.get(resolved)
        if entry is None or entry.kind not in (FileKind.REGULAR, FileKind.HARDLINK):
            return None
        captured = self._layers[entry.layer_index].captured
        return captured.get(entry.path)

    def layer_of(self, path: str) -> int | None:
        """Index of the layer that last wrote ``path``."""
        entry = self._entries.get(path.strip("/"))
        return entry.layer_index if entry else None

    def listdir(self, path: str) -> list[str]:
        """Names directly below ``path`` (sorted)."""
        return sorted(self._children.get(path.strip("/"), ()))


def deleting_layer(layers: Sequence[LayerContents], path: str, written_in: int) -> int | None:
    """The first layer after ``written_in`` that deletes ``path`` (whiteout of it or of a
    parent, opaque parent directory) or writes it again; None if none does."""
    parts = path.split("/")
    parents = {"/".join(parts[:i]) for i in range(1, len(parts))}
    for contents in sorted(layers, key=lambda c: c.layer.index):
        if contents.layer.index <= written_in:
            continue
        whiteouts = set(contents.whiteouts)
        if path in whiteouts or parents & whiteouts or parents & set(contents.opaque_dirs) \
                or any(entry.path == path for entry in contents.entries):
            return contents.layer.index
    return None
