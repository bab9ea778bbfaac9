"""atheris target ``composer``: Composer installed.json and composer.lock.

Run: ``fuzz/run_all.sh 600 composer``, or by hand as fuzz/README.md shows.
"""

from atheris_main import run

if __name__ == "__main__":
    run("composer")
