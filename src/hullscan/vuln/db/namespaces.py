"""Namespaces and package-name normalisation shared by the database and the matcher.

A *namespace* is where a package name is unique: a lower-case ecosystem, plus the release for
distributions (``pypi``, ``npm``, ``debian:12``, ``alpine:3.11``, ``almalinux:9``). Both sides of a
match (advisory rows and installed packages) must go through :func:`normalise_package` so that
``Django`` and ``django`` meet.
"""

from __future__ import annotations

import re

# OSV ecosystem name (case-folded) -> namespace, for ecosystems without releases.
_LANGUAGE_ECOSYSTEMS = {
    "pypi": "pypi",
    "npm": "npm",
    "go": "go",
    "crates.io": "crates.io",
    "maven": "maven",
    "nuget": "nuget",
    "rubygems": "rubygems",
    "packagist": "packagist",
    "hex": "hex",
    "pub": "pub",
    "hackage": "hackage",
    "cran": "cran",
    "swifturl": "swifturl",
    "github actions": "github-actions",
    "bitnami": "bitnami",
    "wolfi": "wolfi",
    "chainguard": "chainguard",
}

# OSV distribution ecosystem (the part before the first ``:``, case-folded) -> namespace prefix.
_DISTRO_ECOSYSTEMS = {
    "debian": "debian",
    "ubuntu": "ubuntu",
    "alpine": "alpine",
    "almalinux": "almalinux",
    "rocky linux": "rocky",
    "red hat": "redhat",
    "opensuse": "opensuse",
    "suse": "suse",
    "mageia": "mageia",
    "photon os": "photon",
    "openeuler": "openeuler",
}

# Version comparison scheme for each namespace (prefix before ``:``).
_SCHEMES = {
    "pypi": "pep440",
    "npm": "semver",
    "go": "semver",
    "crates.io": "semver",
    "maven": "maven",
    "nuget": "nuget",
    "rubygems": "gem",
    "ruby": "gem",
    "packagist": "composer",
    "hex": "semver",
    "pub": "semver",
    "debian": "dpkg",
    "ubuntu": "dpkg",
    "ubuntu-pro": "dpkg",
    "alpine": "apk",
    "wolfi": "apk",
    "chainguard": "apk",
    "almalinux": "rpm",
    "rocky": "rpm",
    "redhat": "rpm",
    "opensuse": "rpm",
    "suse": "rpm",
    "mageia": "rpm",
    "photon": "rpm",
    "openeuler": "rpm",
}

_RELEASE_NUMBER = re.compile(r"\d+(?:\.\d+)*")
_PEP503 = re.compile(r"[-_.]+")


def osv_namespace(ecosystem: str) -> str | None:
    """The namespace for an OSV ``ecosystem`` string, or ``None`` for one we do not know.

    ``PyPI`` -> ``pypi``; ``Debian:12`` -> ``debian:12``; ``Alpine:v3.20`` -> ``alpine:3.20``;
    ``Ubuntu:22.04:LTS`` -> ``ubuntu:22.04``; ``Ubuntu:Pro:18.04:LTS`` -> ``ubuntu-pro:18.04``;
    ``Rocky Linux:9`` -> ``rocky:9``; ``Red Hat:enterprise_linux:9::appstream`` -> ``redhat:9``.
    """
    text = ecosystem.strip()
    if not text:
        return None
    base, _, rest = text.partition(":")
    key = base.strip().casefold()
    if not rest:
        return _LANGUAGE_ECOSYSTEMS.get(key)
    if key in _LANGUAGE_ECOSYSTEMS:  # e.g. "Maven:https://repo.example" (custom registries)
        return _LANGUAGE_ECOSYSTEMS[key]
    prefix = _DISTRO_ECOSYSTEMS.get(key)
    if prefix is None:
        return None
    parts = [part.strip() for part in rest.split(":")]
    if prefix == "ubuntu" and parts and parts[0].casefold() == "pro":
        prefix = "ubuntu-pro"
        parts = parts[1:]
    if prefix == "ubuntu" and parts and parts[0].casefold() == "fips":
        return None
    for part in parts:
        match = _RELEASE_NUMBER.search(part)
        if match:
            release = match.group(0)
            if prefix in ("almalinux", "rocky", "redhat"):
                release = release.split(".")[0]
            return f"{prefix}:{release}"
    return None


def distro_namespace(distro: str, release: str) -> str:
    """``("Alpine", "v3.11")`` -> ``alpine:3.11``; ``("rhel", "9.4")`` -> ``redhat:9``."""
    key = distro.strip().casefold()
    prefix = _DISTRO_ECOSYSTEMS.get(key, {"rhel": "redhat", "rocky": "rocky"}.get(key, key))
    match = _RELEASE_NUMBER.search(release)
    number = match.group(0) if match else release.strip().casefold()
    if prefix in ("almalinux", "rocky", "redhat"):
        number = number.split(".")[0]
    if prefix == "alpine":
        number = ".".join(number.split(".")[:2])
    return f"{prefix}:{number}"


def normalise_package(namespace: str, name: str) -> str:
    """The canonical spelling of ``name`` inside ``namespace``.

    PyPI: PEP 503 (lower case, runs of ``-_.`` become ``-``); Packagist and NuGet: lower case;
    Maven: ``group:artifact`` without spaces; everything else (npm, Go module paths, gems,
    crates, distribution packages) as given, only stripped of surrounding white space.
    """
    ecosystem = namespace.partition(":")[0]
    text = name.strip()
    if ecosystem == "pypi":
        return _PEP503.sub("-", text).lower()
    if ecosystem in ("packagist", "nuget"):
        return text.lower()
    if ecosystem == "maven":
        return ":".join(part.strip() for part in text.split(":"))
    return text


def version_scheme(namespace: str) -> str:
    """The version-comparison scheme for ``namespace``: ``pep440``, ``dpkg``, ``rpm``, ``apk``…"""
    return _SCHEMES.get(namespace.partition(":")[0], "generic")
