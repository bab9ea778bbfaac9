"""atheris target ``gem``: gemspecs and Gemfile.lock.

Run: ``fuzz/run_all.sh 600 gem``, or by hand as fuzz/README.md shows.
"""

from atheris_main import run

if __name__ == "__main__":
    run("gem")
