"""atheris target ``manifest``: image manifests and indexes, and platform selection.

Run: ``fuzz/run_all.sh 600 manifest``, or by hand as fuzz/README.md shows.
"""

from atheris_main import run

if __name__ == "__main__":
    run("manifest")
