"""Image references the API accepts: registry references only, parsed without looking at the
server's filesystem (the CLI's parser treats an existing path as a local image)."""

from __future__ import annotations

from hullscan.errors import InvalidReferenceError
from hullscan.image.reference import RegistryReference, parse_registry_reference

REGISTRY_SCHEMES = ("registry:", "docker://")
LOCAL_SCHEMES = ("docker-archive:", "oci-archive:", "oci-dir:", "oci:", "dir:", "sbom:")


def registry_only(reference: str) -> RegistryReference:
    """``reference`` (``[registry:]HOST/REPO[:TAG][@DIGEST]``) normalised; an error for
    anything else (archives, layouts, directories)."""
    text = reference.strip()
    for scheme in REGISTRY_SCHEMES:
        if text.startswith(scheme):
            text = text[len(scheme):]
    if text.startswith(LOCAL_SCHEMES):
        raise InvalidReferenceError("the service pulls from registries only: name an image "
                                    "as host/repository:tag or @digest", subject=reference)
    return parse_registry_reference(text)
