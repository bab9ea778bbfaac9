"""atheris target ``versions``: the 11 version schemes and the range syntaxes.

Run: ``fuzz/run_all.sh 600 versions``, or by hand as fuzz/README.md shows.
"""

from atheris_main import run

if __name__ == "__main__":
    run("versions")
