"""atheris target ``python``: Python METADATA/PKG-INFO, requirements, poetry/Pipfile/uv locks.

Run: ``fuzz/run_all.sh 600 python``, or by hand as fuzz/README.md shows.
"""

from atheris_main import run

if __name__ == "__main__":
    run("python")
