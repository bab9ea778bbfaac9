"""Image sources: registry, docker save tar, OCI layout (dir and archive), root filesystem."""
