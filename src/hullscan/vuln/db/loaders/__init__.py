"""Feed loaders, each recognising its feed by content (never by file name).

A loader has ``recognise(name, first_bytes) -> bool`` (``first_bytes``: up to
:data:`HEAD_BYTES` of the decompressed document) and ``load(stream, writer, name)``, which
parses one document and hands rows to the :class:`~hullscan.vuln.db.writer.Writer`.
:func:`find_loader` tries them in :data:`LOADERS` order, most specific first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from hullscan.vuln.db.loaders import (
    alpine,
    cve5,
    debian,
    epss,
    friendsofphp,
    kev,
    nswg,
    nvd,
    osv,
    rubysec,
)
from hullscan.vuln.db.writer import Writer

HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Loader:
    """One feed format."""

    name: str
    recognise: Callable[[str, bytes], bool]
    load: Callable[[BinaryIO, Writer, str], None]


LOADERS: tuple[Loader, ...] = (
    Loader("kev", kev.recognise, kev.load),
    Loader("nvd", nvd.recognise, nvd.load),
    Loader("cve5", cve5.recognise, cve5.load),
    Loader("alpine-secdb", alpine.recognise, alpine.load),
    Loader("nswg", nswg.recognise, nswg.load),
    Loader("debian-tracker", debian.recognise, debian.load),
    Loader("osv", osv.recognise, osv.load),
    Loader("epss", epss.recognise, epss.load),
    Loader("friendsofphp", friendsofphp.recognise, friendsofphp.load),
    Loader("rubysec", rubysec.recognise, rubysec.load),
)


def find_loader(name: str, first_bytes: bytes) -> Loader | None:
    """The loader for a document, judged by its first bytes; ``None`` if none claims it."""
    head = first_bytes.removeprefix(b"\xef\xbb\xbf").lstrip()
    for loader in LOADERS:
        if loader.recognise(name, head):
            return loader
    return None
