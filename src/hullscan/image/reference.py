"""Image references: explicit schemes (as syft users know them) and Docker-style registry names.

``registry:REF``, ``docker-archive:PATH[:TAG]``, ``oci-archive:PATH[:REF]``, ``oci-dir:PATH[:REF]``
and ``dir:PATH`` name a source explicitly; without a scheme an existing file or folder is an
archive, layout or root filesystem, and anything else is a registry reference.
"""

from __future__ import annotations

import enum
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

from hullscan.errors import ImageNotFoundError, InvalidReferenceError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API_HOST = "registry-1.docker.io"
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})

# The grammar of github.com/distribution/reference, written as regular expressions.
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_PATH_RE = re.compile(rf"^{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$")
_DOMAIN_RE = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$"
)
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")
_MAX_NAME_LENGTH = 255


class SourceKind(enum.StrEnum):
    """Where an image lives; the value is the scheme users write."""

    REGISTRY = "registry"
    DOCKER_ARCHIVE = "docker-archive"
    OCI_ARCHIVE = "oci-archive"
    OCI_DIR = "oci-dir"
    DIRECTORY = "dir"
    SBOM = "sbom"
    """Not an image: an SBOM (CycloneDX, SPDX, hullscan JSON) describing one."""


_SCHEME_ALIASES: dict[str, SourceKind] = {
    "registry": SourceKind.REGISTRY,
    "docker": SourceKind.REGISTRY,
    "docker-archive": SourceKind.DOCKER_ARCHIVE,
    "oci-archive": SourceKind.OCI_ARCHIVE,
    "oci-dir": SourceKind.OCI_DIR,
    "oci": SourceKind.OCI_DIR,
    "dir": SourceKind.DIRECTORY,
    "sbom": SourceKind.SBOM,
}


@dataclass(frozen=True)
class RegistryReference:
    """A normalised registry reference, e.g. ``docker.io/library/alpine:latest``."""

    registry: str
    """Registry host with optional port, as users write it (``docker.io``, ``127.0.0.1:5000``)."""
    repository: str
    """Repository path inside the registry (``library/alpine``)."""
    tag: str | None
    """Tag, or None when only a digest was given."""
    digest: str | None
    """Manifest digest (``sha256:...``) when pinned."""

    @property
    def api_host(self) -> str:
        """Host that serves the distribution API (Docker Hub's differs from its name)."""
        return DOCKER_HUB_API_HOST if self.registry == DOCKER_HUB else self.registry

    @property
    def name(self) -> str:
        """``registry/repository`` without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def manifest_reference(self) -> str:
        """What goes after ``/manifests/``: the digest when pinned, else the tag."""
        return self.digest or self.tag or "latest"

    def with_digest(self, digest: str) -> RegistryReference:
        """The same repository pinned to ``digest`` (tag kept for display)."""
        return RegistryReference(self.registry, self.repository, self.tag, digest)

    def with_repository(self, registry: str, repository: str, tag: str | None) -> RegistryReference:
        """Another repository, keeping nothing but what is given."""
        return RegistryReference(registry, repository, tag, None)

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_registry_reference(text: str) -> RegistryReference:
    """Normalise a reference as Docker does (``alpine`` -> ``docker.io/library/alpine:latest``)."""
    original = text
    if not text or text != text.strip():
        raise InvalidReferenceError("empty or padded image reference", subject=repr(original))
    digest: str | None = None
    if "@" in text:
        text, digest = text.split("@", 1)
        if not _DIGEST_RE.match(digest):
            raise InvalidReferenceError(f"invalid digest {digest!r}", subject=original)
        algorithm, _, encoded = digest.partition(":")
        if algorithm == "sha256" and not re.fullmatch(r"[a-f0-9]{64}", encoded):
            raise InvalidReferenceError("sha256 digest must be 64 lowercase hex digits",
                                        subject=original)
    tag: str | None = None
    last_slash = text.rfind("/")
    last_colon = text.rfind(":")
    if last_colon > last_slash:
        text, tag = text[:last_colon], text[last_colon + 1 :]
        if not _TAG_RE.match(tag):
            raise InvalidReferenceError(f"invalid tag {tag!r}", subject=original)
    registry, _, path = text.partition("/")
    if not path or not ("." in registry or ":" in registry or registry == "localhost"
                        or registry != registry.lower()):
        registry, path = DOCKER_HUB, text
    if registry in _DOCKER_HUB_ALIASES:
        registry = DOCKER_HUB
    if not _DOMAIN_RE.match(registry):
        raise InvalidReferenceError(f"invalid registry host {registry!r}", subject=original)
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if path != path.lower() and _PATH_RE.match(path.lower()):
        raise InvalidReferenceError("repository name must be lowercase", subject=original)
    if not _PATH_RE.match(path):
        raise InvalidReferenceError(f"invalid repository name {path!r}", subject=original)
    if len(registry) + 1 + len(path) > _MAX_NAME_LENGTH:
        raise InvalidReferenceError("repository name longer than 255 characters", subject=original)
    if tag is None and digest is None:
        tag = "latest"
    return RegistryReference(registry, path, tag, digest)


@dataclass(frozen=True)
class ImageReference:
    """What the user asked for: a source kind plus where to find the image in it."""

    kind: SourceKind
    text: str
    """The reference exactly as the user wrote it (for messages)."""
    path: Path | None = None
    """Archive, layout or directory path for local sources."""
    selector: str | None = None
    """Tag (docker-archive) or ref name (OCI) selecting one image inside a local source."""
    registry: RegistryReference | None = None
    """The normalised reference for registry sources."""


def parse_image_reference(text: str) -> ImageReference:
    """Parse a user's image reference, with or without an explicit scheme."""
    scheme, sep, rest = text.partition(":")
    kind = _SCHEME_ALIASES.get(scheme) if sep else None
    # "localhost:5000/x" or "host:port" have no known scheme and are registry references.
    if kind is None:
        return _detect(text)
    if not rest:
        raise InvalidReferenceError(f"nothing after the {scheme}: scheme", subject=text)
    if kind is SourceKind.REGISTRY:
        return ImageReference(kind, text, registry=parse_registry_reference(rest))
    path, selector = _split_path_and_selector(rest)
    if not path.exists():
        raise ImageNotFoundError("no such file or directory", subject=text)
    if kind is SourceKind.DIRECTORY and selector is not None:
        raise InvalidReferenceError(f"no such directory: {rest}", subject=text)
    return ImageReference(kind, text, path=path, selector=selector)


def _split_path_and_selector(rest: str) -> tuple[Path, str | None]:
    """Split ``PATH[:SELECTOR]``; the path is the longest existing prefix, else all of it."""
    if Path(rest).exists():
        return Path(rest), None
    for index, char in enumerate(rest):
        if char == ":" and index and Path(rest[:index]).exists():
            return Path(rest[:index]), rest[index + 1 :] or None
    return Path(rest), None


def _detect(text: str) -> ImageReference:
    """Auto-detect: an existing file or folder is local, anything else names a registry image."""
    path, selector = _split_path_and_selector(text)
    if path.exists():
        return ImageReference(detect_local_kind(path), text, path=path, selector=selector)
    return ImageReference(SourceKind.REGISTRY, text, registry=parse_registry_reference(text))


def detect_local_kind(path: Path) -> SourceKind:
    """Tell an OCI layout, a docker save tar, an OCI archive, an SBOM or a root filesystem
    apart."""
    if path.is_dir():
        if (path / "oci-layout").is_file() and (path / "index.json").is_file():
            return SourceKind.OCI_DIR
        return SourceKind.DIRECTORY
    with path.open("rb") as handle:
        head = handle.read(4096)
    # A JSON document is read as an SBOM (its reader says so clearly if it is none); tar
    # archives start with a member name, never with "{". Markers such as "bomFormat" can sit
    # megabytes into a file whose keys are sorted, so they are not looked for here.
    if head.lstrip().startswith(b"{"):
        return SourceKind.SBOM
    try:
        with tarfile.open(path, "r:") as archive:
            names = set()
            for member in archive:
                names.add(member.name.lstrip("./"))
                if "manifest.json" in names:
                    return SourceKind.DOCKER_ARCHIVE
            if "oci-layout" in names and "index.json" in names:
                return SourceKind.OCI_ARCHIVE
    except (tarfile.TarError, OSError) as error:
        raise InvalidReferenceError(f"not an image archive ({error})", subject=str(path)) from error
    raise InvalidReferenceError(
        "tar holds neither manifest.json (docker save) nor an OCI layout", subject=str(path)
    )
