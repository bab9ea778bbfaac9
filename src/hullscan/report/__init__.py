"""Stage 6: render results for people and machines."""
