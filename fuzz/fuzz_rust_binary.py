"""atheris target ``rust_binary``: cargo-auditable Rust binaries and Cargo.lock.

Run: ``fuzz/run_all.sh 600 rust_binary``, or by hand as fuzz/README.md shows.
"""

from atheris_main import run

if __name__ == "__main__":
    run("rust_binary")
