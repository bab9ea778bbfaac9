"""dpkg: ``/var/lib/dpkg/status``, distroless ``status.d/*``, ``info/*.list`` and copyright files.

Malformed stanzas: a line that is neither ``Field: value``, a continuation line (leading space or
tab) nor blank cannot be read, so the whole file is rejected with :class:`CorruptContentError`
naming the path (the syft ``corrupt`` fixture is such a file: its fields are misspelt and a
description line has lost its indentation). A stanza that is well formed but names no package
(``Package:`` empty) is skipped, and a stanza without ``Version`` is kept with an empty version.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from hullscan.catalog.model import FoundPackage
from hullscan.errors import CorruptContentError

_FIELD = re.compile(r"^([!-9;-~]+):[ \t]*(.*)$")
_SOURCE = re.compile(r"^(\S+)(?:\s*\((.+)\))?\s*$")
_DEP_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9+.\-]*)")
_INSTALLED = ("install", "ok", "installed")


def parse_stanzas(path: str, content: bytes) -> list[dict[str, str]]:
    """Split RFC822-like dpkg control data into stanzas (field names as written).

    Continuation lines are joined to the previous field's value with a newline.
    """
    text = content.decode("utf-8", errors="replace")
    stanzas: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            if current:
                stanzas.append(current)
            current, last = {}, None
            continue
        if line[0] in " \t":
            if last is None:
                raise CorruptContentError(
                    f"line {number}: continuation line outside a field", subject=path
                )
            current[last] += "\n" + line.strip()
            continue
        match = _FIELD.match(line)
        if match is None:
            raise CorruptContentError(f"line {number}: not a 'Field: value' line", subject=path)
        last = match.group(1)
        current[last] = match.group(2).strip()
    if current:
        stanzas.append(current)
    return stanzas


def _dependency_names(value: str) -> list[str]:
    names: list[str] = []
    for clause in value.replace("\n", " ").split(","):
        for alternative in clause.split("|"):
            match = _DEP_NAME.match(alternative)
            if match:
                names.append(match.group(1))
    return names


def parse_status(path: str, content: bytes) -> list[FoundPackage]:
    """Packages installed according to a dpkg status file or a distroless ``status.d`` file.

    Stanzas whose ``Status`` is anything but ``install ok installed`` are skipped; stanzas with no
    ``Status`` field (usual in ``status.d``) are kept.
    """
    packages: list[FoundPackage] = []
    for stanza in parse_stanzas(path, content):
        name = stanza.get("Package", "").strip()
        if not name:
            continue
        status = stanza.get("Status")
        if status is not None and tuple(status.split()) != _INSTALLED:
            continue
        version = stanza.get("Version", "").strip()
        source_name: str | None = None
        source_version: str | None = None
        source = stanza.get("Source", "").strip()
        if source:
            match = _SOURCE.match(source)
            if match is None:
                raise CorruptContentError(f"package {name}: bad Source field", subject=path)
            source_name = match.group(1)
            source_version = (match.group(2) or "").strip() or version
        dependencies: list[str] = []
        for field_name in ("Pre-Depends", "Depends"):
            for dep in _dependency_names(stanza.get(field_name, "")):
                if dep not in dependencies:
                    dependencies.append(dep)
        packages.append(
            FoundPackage(
                name=name,
                version=version,
                ecosystem="deb",
                path=path,
                source_name=source_name,
                source_version=source_version,
                architecture=stanza.get("Architecture") or None,
                supplier=stanza.get("Maintainer") or None,
                dependencies=tuple(dependencies),
            )
        )
    return packages


def parse_file_list(content: bytes) -> tuple[str, ...]:
    """Paths from ``info/<pkg>.list`` (or ``<pkg>:<arch>.list``), without the leading slash.

    The ``/.`` root entry and blank lines are dropped.
    """
    files: list[str] = []
    for raw in content.decode("utf-8", errors="surrogateescape").splitlines():
        entry = raw.strip().lstrip("/")
        if entry and entry != ".":
            files.append(entry)
    return tuple(files)


_DEP5_SPDX = {
    "expat": "MIT",
    "mit": "MIT",
    "apache-2": "Apache-2.0",
    "apache-2.0": "Apache-2.0",
    "bsd-2-clause": "BSD-2-Clause",
    "bsd-3-clause": "BSD-3-Clause",
    "bsd-4-clause": "BSD-4-Clause",
    "isc": "ISC",
    "zlib": "Zlib",
    "artistic": "Artistic-1.0-Perl",
    "artistic-2.0": "Artistic-2.0",
    "cc0-1.0": "CC0-1.0",
    "mpl-1.1": "MPL-1.1",
    "mpl-2.0": "MPL-2.0",
    "public-domain": "public-domain",
}
_GNU = re.compile(r"^(a?gpl|lgpl|gfdl)-?(\d+(?:\.\d+)?)(\+|\.0\+)?$")
_LICENSE_FIELD = re.compile(r"License:[ \t]*(\S[^\n]*)$", re.MULTILINE)
"""A DEP-5 ``License:`` field once at the start of a line (checked by the caller: a pattern
starting with ``^`` cannot use the regex engine's search for its literal prefix)."""
_COMMON = re.compile(r"/usr/share/common-licenses/([A-Za-z0-9.+\-]+?)(?=[\s'`\"),;:]|\.(?:\s|$)|$)")
_LATER = re.compile(r"[\s'`\"]*(?:\)\s*)?(?:or|,)?\s*(?:\(at your option\)\s*)?any later|\+")
_FREE_TEXT = [
    # (pattern, licence, a lower-case literal every match contains, where matches start
    # relative to it). The regexes cannot use the engine's literal-prefix search
    # (case-insensitive, or starting with \b), and copyright files run to megabytes: the
    # patterns are only tried where their literal occurs (parsing an image's copyright files
    # became five times faster; the same matches, see _free_text_matches).
    (re.compile(r"Apache License,?\s+Version\s+2\.0", re.IGNORECASE), "Apache-2.0",
     "apache license", (0,)),
    (re.compile(r"\bMIT License\b"), "MIT", "mit license", (0,)),
    (
        re.compile(
            r"GNU (Lesser|Library) General Public License[^.]*?version\s+2\.1"
            r"(\s*,?\s*or\s*(\(at your option\)\s*)?any later)?",
            re.IGNORECASE,
        ),
        "LGPL-2.1",
        "general public license",
        (len("gnu library "), len("gnu lesser ")),
    ),
    (
        re.compile(
            r"GNU General Public License[^.]*?version\s+([23])"
            r"(\s*(?:of the License)?\s*,?\s*or\s*(\(at your option\)\s*)?any later)?",
            re.IGNORECASE,
        ),
        "GPL",
        "general public license",
        (len("gnu "),),
    ),
]


def _free_text_matches(pattern: re.Pattern[str], literal: str, offsets: tuple[int, ...],
                       text: str, lower: str) -> Iterator[re.Match[str]]:
    """What ``pattern.finditer(text)`` finds, trying the pattern only where ``literal`` is
    (``offsets`` before it, earliest first)."""
    if len(lower) != len(text):  # lower-casing changed lengths: positions do not line up
        yield from pattern.finditer(text)
        return
    end = 0
    position = lower.find(literal)
    while position >= 0:
        for offset in offsets:
            start = position - offset
            if start >= end and (match := pattern.match(text, start)) is not None:
                yield match
                end = match.end()
                break
        position = lower.find(literal, max(position + 1, end))


def _license_fields(text: str) -> Iterator[re.Match[str]]:
    """DEP-5 ``License:`` fields: :data:`_LICENSE_FIELD` where it starts a line."""
    for match in _LICENSE_FIELD.finditer(text):
        if not match.start() or text[match.start() - 1] == "\n":
            yield match


def _lower_for_search(text: str) -> str:
    """``text.lower()`` as far as searching it for the ASCII literals of :data:`_FREE_TEXT`
    (none holds a ``?``) can tell: other characters become ``?``.

    Lower-casing text with non-ASCII characters in it was a third of the time of reading an
    image's copyright files; ASCII text lowers ten times faster. Only the Kelvin sign lowers
    to ASCII (``k``), and only U+0130 lowers to two characters: for it, the real thing is
    returned, longer than ``text``, and :func:`_free_text_matches` searches it all.
    """
    if text.isascii() or "\u0130" in text:
        return text.lower()
    return text.replace("\u212a", "k").encode("ascii", "replace").decode("ascii").lower()


def license_to_spdx(name: str, or_later: bool = False) -> str:
    """Map a Debian licence name (``GPL-2``, ``BSD-3-clause``, ``Expat``) to SPDX where obvious.

    Unknown names are returned as written.
    """
    cleaned = name.strip().rstrip(".,;")
    lower = cleaned.lower()
    if lower in _DEP5_SPDX:
        return _DEP5_SPDX[lower]
    match = _GNU.match(lower)
    if match:
        family = {"gpl": "GPL", "lgpl": "LGPL", "agpl": "AGPL", "gfdl": "GFDL"}[match.group(1)]
        number = match.group(2)
        if "." not in number:
            number += ".0"
        later = or_later or bool(match.group(3))
        return f"{family}-{number}-{'or-later' if later else 'only'}"
    return cleaned


def _add(found: list[str], value: str) -> None:
    if value and value not in found:
        found.append(value)


def parse_copyright(content: bytes) -> tuple[str, ...]:
    """Licence names in a ``/usr/share/doc/<pkg>/copyright`` file, SPDX ids where obvious.

    Reads DEP-5 ``License:`` fields (each ``or``/``and`` part), references to
    ``/usr/share/common-licenses/<name>`` and a few common free-text licence statements.
    De-duplicated, first occurrence order kept.
    """
    text = content.decode("utf-8", errors="replace")
    found: list[str] = []
    events: list[tuple[int, str]] = []
    for match in _license_fields(text):
        expression = match.group(1).strip()
        for part in re.split(r"\s+(?:or|and)\s+|\s*[,|]\s*", expression):
            part = part.strip("() ")
            if part and " " not in part:
                events.append((match.start(), license_to_spdx(part)))
    for match in _COMMON.finditer(text):
        after = text[match.end() : match.end() + 80].lower()
        later = bool(_LATER.match(after))
        events.append((match.start(), license_to_spdx(match.group(1), or_later=later)))
    lower = _lower_for_search(text)
    for pattern, kind, literal, offsets in _FREE_TEXT:
        for match in _free_text_matches(pattern, literal, offsets, text, lower):
            if kind == "GPL":
                later = bool(match.group(2))
                value = f"GPL-{match.group(1)}.0-{'or-later' if later else 'only'}"
            elif kind == "LGPL-2.1":
                value = f"LGPL-2.1-{'or-later' if match.group(2) else 'only'}"
            else:
                value = kind
            events.append((match.start(), value))
    for _, value in sorted(events, key=lambda event: event[0]):
        _add(found, value)
    return tuple(found)
