"""Version schemes: one entry point, :func:`compare`, and a registry of schemes.

``compare(scheme, a, b)`` returns a negative number, zero or a positive number as ``a`` is
older than, equal to or newer than ``b`` under ``scheme``. Each scheme lives in its own
module and is registered in :data:`SCHEMES` (name -> object with ``parse``, ``validate`` and
``compare``); parsing is cached, so comparing the same versions again is cheap.
Unparsable versions raise :class:`InvalidVersionError` (a ``CorruptContentError``).

:func:`scheme_for_ecosystem` maps OSV ecosystem names and purl types to scheme names.
Range evaluation (OSV events, npm ranges, Composer constraints, gem requirements) is in
:mod:`hullscan.versions.ranges`.
"""

from __future__ import annotations

from collections.abc import Mapping

from hullscan.versions import apk, composer, dpkg, gem, maven, nuget, pep440, rpm, semver
from hullscan.versions._base import InvalidVersionError, Scheme

__all__ = [
    "SCHEMES",
    "InvalidVersionError",
    "Scheme",
    "compare",
    "get_scheme",
    "scheme_for_ecosystem",
]

SCHEMES: Mapping[str, Scheme] = {
    "dpkg": dpkg.SCHEME,
    "rpm": rpm.SCHEME,
    "apk": apk.SCHEME,
    "pep440": pep440.SCHEME,
    "semver": semver.SEMVER,
    "npm": semver.NPM,
    "golang": semver.GOLANG,
    "maven": maven.SCHEME,
    "gem": gem.SCHEME,
    "nuget": nuget.SCHEME,
    "composer": composer.SCHEME,
}


def get_scheme(name: str) -> Scheme:
    """Return the registered scheme ``name``; an unknown name is a ``ValueError``."""
    try:
        return SCHEMES[name]
    except KeyError:
        raise ValueError(f"unknown version scheme {name!r}") from None


def compare(scheme: str, a: str, b: str) -> int:
    """Compare versions ``a`` and ``b`` under ``scheme``: negative, zero or positive."""
    return get_scheme(scheme).compare(a, b)


#: OSV ecosystem names (the part before the first ``:``) and purl types -> scheme.
_ECOSYSTEMS = {
    # OSV ecosystems
    "pypi": "pep440",
    "npm": "npm",
    "go": "golang",
    "crates.io": "semver",
    "maven": "maven",
    "nuget": "nuget",
    "rubygems": "gem",
    "packagist": "composer",
    "hex": "semver",
    "pub": "semver",
    "swifturl": "semver",
    "debian": "dpkg",
    "ubuntu": "dpkg",
    "alpine": "apk",
    "wolfi": "apk",
    "chainguard": "apk",
    "almalinux": "rpm",
    "rocky linux": "rpm",
    "red hat": "rpm",
    "opensuse": "rpm",
    "suse": "rpm",
    "mageia": "rpm",
    "photon os": "rpm",
    "azure linux": "rpm",
    "openeuler": "rpm",
    # purl types
    "deb": "dpkg",
    "rpm": "rpm",
    "apk": "apk",
    "golang": "golang",
    "cargo": "semver",
    "gem": "gem",
    "composer": "composer",
}


def scheme_for_ecosystem(ecosystem: str) -> str:
    """Return the scheme for an OSV ecosystem (``Debian:12``, ``PyPI``) or a purl type.

    The OSV release suffix (``:12``, ``:22.04:LTS``) is ignored. Unknown ecosystems raise
    ``ValueError``: guessing a scheme would give wrong answers silently.
    """
    name = ecosystem.strip().lower()
    scheme = _ECOSYSTEMS.get(name) or _ECOSYSTEMS.get(name.split(":", 1)[0].strip())
    if scheme is None:
        raise ValueError(f"no version scheme for ecosystem {ecosystem!r}")
    return scheme
