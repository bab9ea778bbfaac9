"""atheris target ``go_binary``: Go binary build info and go.mod.

Run: ``fuzz/run_all.sh 600 go_binary``, or by hand as fuzz/README.md shows.
"""

from atheris_main import run

if __name__ == "__main__":
    run("go_binary")
