"""atheris target ``apk``: apk installed databases.

Run: ``fuzz/run_all.sh 600 apk``, or by hand as fuzz/README.md shows.
"""

from atheris_main import run

if __name__ == "__main__":
    run("apk")
