"""Fuzz targets for every parser that reads image content (see ``fuzz/README.md``)."""
