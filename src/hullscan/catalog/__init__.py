"""Stage 2: catalog the packages inside an image (OS and language ecosystems)."""
