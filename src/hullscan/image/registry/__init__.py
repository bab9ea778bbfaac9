"""Stage 1, registry: talk to OCI/Docker registries (references, auth, manifests, blobs)."""
