"""atheris target ``rpm``: rpm databases (SQLite, BerkeleyDB, NDB) and header blobs.

Run: ``fuzz/run_all.sh 600 rpm``, or by hand as fuzz/README.md shows.
"""

from atheris_main import run

if __name__ == "__main__":
    run("rpm")
