"""The SQLite schema of the vulnerability database, versioned with ``PRAGMA user_version``.

One ``affected`` row per (vulnerability, namespace, package, range set). ``ranges_json`` holds a
JSON list of OSV-style ranges so that one evaluator handles every source::

    [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2"}]}]

Non-OSV sources keep their native range language in typed entries the evaluator understands:
``{"type": "NPM_RANGE", "range": "<1.2.3 || >=2 <2.1", "patched": ">=1.2.3"}`` (NSWG),
``{"type": "COMPOSER", "constraints": [">=2.0,<2.0.5", "<1.2"]}`` (FriendsOfPHP; each string is one
branch, ``,`` means AND inside it, the list means OR), ``{"type": "GEM", "patched": [...],
"unaffected": [...]}`` (rubysec; each item a gem requirement such as ``"~> 5.2.4, >= 5.2.4.3"``).
An empty list means the record says the package is *not* affected (``fix_state`` then is
``not-affected``; for example Alpine ``secfixes`` entries under version ``0``).

``fix_state`` is one of ``fixed``, ``not-fixed``, ``wont-fix``, ``not-affected``, ``unknown``.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 1

# Fix states written into ``affected.fix_state``.
FIXED = "fixed"
NOT_FIXED = "not-fixed"
WONT_FIX = "wont-fix"
NOT_AFFECTED = "not-affected"
UNKNOWN = "unknown"

TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE source (
    name TEXT PRIMARY KEY,
    records INTEGER NOT NULL,
    built_at TEXT NOT NULL,
    data_date TEXT,
    etag TEXT,
    last_modified TEXT
);
CREATE TABLE vulnerability (
    id TEXT PRIMARY KEY,
    summary TEXT,
    details TEXT,
    published TEXT,
    modified TEXT,
    withdrawn TEXT,
    source TEXT NOT NULL,
    record_url TEXT
);
CREATE TABLE alias (
    vuln_id TEXT NOT NULL,
    alias TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'alias'
);
CREATE TABLE affected (
    vuln_id TEXT NOT NULL,
    namespace TEXT NOT NULL,
    package TEXT NOT NULL,
    scheme TEXT NOT NULL,
    ranges_json TEXT NOT NULL,
    versions_json TEXT NOT NULL,
    fixed_versions_json TEXT NOT NULL,
    fix_state TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE TABLE severity (
    vuln_id TEXT NOT NULL,
    source TEXT NOT NULL,
    type TEXT NOT NULL,
    score REAL,
    vector TEXT,
    rating TEXT
);
CREATE TABLE reference (
    vuln_id TEXT NOT NULL,
    url TEXT NOT NULL,
    type TEXT
);
CREATE TABLE kev (
    cve TEXT NOT NULL,
    source TEXT NOT NULL,
    date_added TEXT,
    due_date TEXT,
    ransomware TEXT,
    vendor TEXT,
    product TEXT,
    name TEXT,
    PRIMARY KEY (cve, source)
);
CREATE TABLE epss (
    cve TEXT PRIMARY KEY,
    score REAL NOT NULL,
    percentile REAL NOT NULL
);
CREATE TABLE cpe_match (
    vuln_id TEXT NOT NULL,
    criteria TEXT NOT NULL,
    vulnerable INTEGER NOT NULL,
    version_start_including TEXT,
    version_start_excluding TEXT,
    version_end_including TEXT,
    version_end_excluding TEXT,
    source TEXT NOT NULL
);
"""

# Created after loading: building indexes once is much faster than maintaining them per insert.
INDEXES = """
CREATE INDEX affected_package ON affected (namespace, package);
CREATE INDEX affected_vuln ON affected (vuln_id);
CREATE INDEX alias_vuln ON alias (vuln_id);
CREATE INDEX alias_alias ON alias (alias);
CREATE INDEX severity_vuln ON severity (vuln_id);
CREATE INDEX reference_vuln ON reference (vuln_id);
CREATE INDEX cpe_match_vuln ON cpe_match (vuln_id);
CREATE INDEX cpe_match_criteria ON cpe_match (criteria);
"""

EXPECTED_TABLES = frozenset(
    {
        "meta",
        "source",
        "vulnerability",
        "alias",
        "affected",
        "severity",
        "reference",
        "kev",
        "epss",
        "cpe_match",
    }
)


def create_tables(connection: sqlite3.Connection) -> None:
    """Create every table (no indexes yet) and stamp the schema version."""
    connection.executescript(TABLES)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def create_indexes(connection: sqlite3.Connection) -> None:
    """Create the lookup indexes; call once, after all rows are in."""
    connection.executescript(INDEXES)
