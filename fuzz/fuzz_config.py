"""atheris target ``config``: image config JSON and its history/env views.

Run: ``fuzz/run_all.sh 600 config``, or by hand as fuzz/README.md shows.
"""

from atheris_main import run

if __name__ == "__main__":
    run("config")
