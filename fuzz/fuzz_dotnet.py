"""atheris target ``dotnet``: .NET deps.json.

Run: ``fuzz/run_all.sh 600 dotnet``, or by hand as fuzz/README.md shows.
"""

from atheris_main import run

if __name__ == "__main__":
    run("dotnet")
