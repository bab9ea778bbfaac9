"""The gate registry: every gate module contributes its :class:`Gate` here."""

from __future__ import annotations

from hullscan.policy.gates import (
    always,
    config,
    distro,
    files,
    licenses,
    metadata,
    packages,
    passwd,
    secrets,
    vulnerabilities,
)
from hullscan.policy.gates.base import GateRegistry

GATES = GateRegistry([
    always.GATE, config.GATE, config.DOCKERFILE_GATE, distro.GATE, files.GATE,
    licenses.GATE, metadata.GATE, packages.GATE, passwd.GATE, secrets.GATE,
    vulnerabilities.GATE,
])
"""Every gate hullscan knows, by name."""
