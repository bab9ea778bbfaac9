"""Paths inside an image: lexical normalisation that confines entries to the image root."""

from __future__ import annotations

from hullscan.errors import HostileContentError


def normalise_member_path(name: str, *, subject: str) -> str:
    """Normalise a tar member name to ``a/b/c`` form (the root is ``""``).

    Absolute names are confined to the image root, as Docker and containerd do; a name whose
    ``..`` components climb above the root is refused, never followed.
    """
    if "\x00" in name:
        raise HostileContentError(f"entry name contains a NUL byte: {name!r}", subject=subject)
    plain = name[2:] if name.startswith("./") else name
    if "//" not in plain and "/." not in f"/{plain}":
        # No empty, ".", ".." or other dot-led component: only outer slashes to drop (the
        # usual name, at a tenth of the cost of the walk below).
        return plain.strip("/")
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise HostileContentError(f"entry {name!r} escapes the image root (path traversal)",
                                          subject=subject)
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def parent_of(path: str) -> str:
    """``a/b/c`` -> ``a/b``; ``a`` -> ``""``."""
    return path.rpartition("/")[0]


def join_confined(base: str, relative: str) -> list[str]:
    """Join a link target onto ``base`` as components, clamping ``..`` at the root (chroot)."""
    parts = [] if relative.startswith("/") else [p for p in base.split("/") if p]
    for part in relative.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
        else:
            parts.append(part)
    return parts
