"""atheris target ``java``: Java archives (jar/war/ear, nested).

Run: ``fuzz/run_all.sh 600 java``, or by hand as fuzz/README.md shows.
"""

from atheris_main import run

if __name__ == "__main__":
    run("java")
