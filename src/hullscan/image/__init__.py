"""Stage 1: acquire an image (registry, archives, layouts, root filesystems) and read its layers."""
