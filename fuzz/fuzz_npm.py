"""atheris target ``npm``: npm package.json, package-lock, yarn.lock and pnpm-lock.

Run: ``fuzz/run_all.sh 600 npm``, or by hand as fuzz/README.md shows.
"""

from atheris_main import run

if __name__ == "__main__":
    run("npm")
