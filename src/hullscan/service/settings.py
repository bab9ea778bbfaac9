"""Names and defaults the service's commands share; light on purpose (no web or task stack),
so that the CLI can declare the commands' options without importing them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

DEFAULT_QUEUE = "hullscan"
BROKER_VARIABLE = "HULLSCAN_BROKER_URL"
DATABASE_URL_VARIABLE = "HULLSCAN_DATABASE_URL"
DATA_DIR_VARIABLE = "HULLSCAN_DATA_DIR"
CLAIM_STALE_AFTER = 60.0
"""Seconds without a heartbeat after which another worker may take a claim over."""
VISIBILITY_TIMEOUT = 3600.0
"""Redis only: seconds before an unacknowledged job goes to another worker."""


def data_dir_from(environ: Mapping[str, str]) -> Path:
    """``$HULLSCAN_DATA_DIR``, else ``$XDG_DATA_HOME/hullscan/service``
    (``~/.local/share/hullscan/service``)."""
    if environ.get(DATA_DIR_VARIABLE):
        return Path(environ[DATA_DIR_VARIABLE]).expanduser()
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "hullscan" / "service"


def default_data_dir() -> Path:
    """:func:`data_dir_from` this process's environment."""
    return data_dir_from(os.environ)


ALLOWED_NETWORKS_VARIABLE = "HULLSCAN_ALLOWED_NETWORKS"
"""CIDRs (spaces or commas; ``private`` for RFC 1918, loopback and ULA) the service may reach
for its users although they are not public (see :mod:`hullscan.service.egress`)."""
ALLOW_PRIVATE_NETWORKS_VARIABLE = "HULLSCAN_ALLOW_PRIVATE_NETWORKS"
"""``1``/``true``: as if ``private`` were listed in ``HULLSCAN_ALLOWED_NETWORKS``."""
