#!/usr/bin/env bash
# Quick start on a fresh Debian machine (as root): install hullscan in .venv, build a real
# Debian-based image locally (no Docker, no registry needed) and inspect it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v debootstrap >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
[ -x .venv/bin/hullscan ] || { python3 -m venv .venv && .venv/bin/pip install -q -e .; }
.venv/bin/python examples/build_demo_image.py
.venv/bin/hullscan inspect oci-dir:examples/out/demo-oci:demo
