#!/usr/bin/env bash
# Quick start on a fresh Debian machine (as root): install hullscan in .venv, build a real
# Debian-based image locally (no Docker, no registry needed), inspect it, build the
# vulnerability database and scan the image.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v debootstrap >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
[ -x .venv/bin/hullscan ] || { python3 -m venv .venv && .venv/bin/pip install -q -e .; }
.venv/bin/python examples/build_demo_image.py
.venv/bin/hullscan inspect oci-dir:examples/out/demo-oci:demo
# The vulnerability database: from the shared feed snapshot when it is beside the project
# (offline machines), else downloaded from the public feeds.
if [ -d ../shared/vulndata ]; then
  .venv/bin/hullscan db build --from ../shared/vulndata --db examples/out/vulnerability.db
else
  .venv/bin/hullscan db update --db examples/out/vulnerability.db
fi
.venv/bin/hullscan scan oci-dir:examples/out/demo-oci:demo --db examples/out/vulnerability.db
