"""atheris target ``dpkg``: dpkg status files, file lists and copyright files.

Run: ``fuzz/run_all.sh 600 dpkg``, or by hand as fuzz/README.md shows.
"""

from atheris_main import run

if __name__ == "__main__":
    run("dpkg")
