"""Stage 3: match packages against vulnerability data."""
