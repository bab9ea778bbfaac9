"""Secrets in every layer's files (including deleted ones), ENV, labels and build history."""

from hullscan.checks.secrets.config import load_max_file_size, load_secret_config
from hullscan.checks.secrets.rules import ALLOW_RULES, RULES, AllowRule, SecretRule
from hullscan.checks.secrets.scanner import (
    DEFAULT_MAX_FILE_SIZE,
    SecretHit,
    SecretVisitor,
    findings,
    redact,
    redact_text,
    scan_bytes,
    scan_config,
)

__all__ = [
    "ALLOW_RULES",
    "DEFAULT_MAX_FILE_SIZE",
    "RULES",
    "AllowRule",
    "SecretHit",
    "SecretRule",
    "SecretVisitor",
    "findings",
    "load_max_file_size",
    "load_secret_config",
    "redact",
    "redact_text",
    "scan_bytes",
    "scan_config",
]
