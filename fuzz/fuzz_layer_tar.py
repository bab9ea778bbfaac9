"""atheris target ``layer_tar``: layer tar streams: entries, whiteouts, links, compression.

Run: ``fuzz/run_all.sh 600 layer_tar``, or by hand as fuzz/README.md shows.
"""

from atheris_main import run

if __name__ == "__main__":
    run("layer_tar")
