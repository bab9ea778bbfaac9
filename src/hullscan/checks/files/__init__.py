"""File checks over every layer's entries (deleted files included) and the final view.

* ``HS-FILE-SETUID`` / ``HS-FILE-SETGID``: setuid/setgid regular files (those for which
  ``owned(path)`` is true, i.e. shipped by an OS package, are skipped when ``owned`` is given);
* ``HS-FILE-WORLD-WRITABLE``: world-writable regular files (every layer) and directories
  (final view; sticky directories like ``/tmp`` excepted);
* ``HS-FILE-SENSITIVE-NAME``: private keys, key stores, ``.env`` and credential files by name;
* ``HS-FILE-PASSWD-UID0``, ``HS-FILE-SHADOW-EMPTY``, ``HS-FILE-PASSWD-LOGIN-SHELL``: from the
  captured ``etc/passwd`` and ``etc/shadow`` of the final view;
* ``HS-FILE-PKG-MODIFIED``: files whose md5 differs from their dpkg ``md5sums`` list (needs an
  :class:`Md5Visitor` in the layer pass).

Capture what :func:`wanted_paths` names during the layer pass.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hullscan.catalog.package import LayerRef
from hullscan.checks.finding import Category, CheckFinding
from hullscan.image.filesystem import SquashedFilesystem, deleting_layer
from hullscan.image.layer import Commit, FileEntry, FileKind, LayerContents
from hullscan.image.layer_cache import describe
from hullscan.vuln.severity import Severity

__all__ = ["DEFAULT_HASHED_PREFIXES", "SENSITIVE_NAMES", "Md5Visitor", "check_files",
           "wanted_paths"]

_MD5SUMS = re.compile(r"var/lib/dpkg/info/[^/]+\.md5sums")


def wanted_paths(path: str) -> bool:
    """Files whose contents the file checks need captured."""
    return path in ("etc/passwd", "etc/shadow") or bool(_MD5SUMS.fullmatch(path))


DEFAULT_HASHED_PREFIXES = ("bin/", "sbin/", "lib/", "lib64/", "usr/bin/", "usr/sbin/",
                           "usr/lib/", "usr/lib64/", "usr/libexec/")
"""Where dpkg-owned executables and libraries live (md5sums lists no conffiles)."""


MD5_VISITOR_VERSION = 1
"""Bump when what :class:`Md5Visitor` records per layer changes meaning."""


class Md5Visitor:
    """A :class:`~hullscan.image.layer.LayerVisitor` hashing regular files during the pass.

    Keeps nothing in the layer results (``visit`` returns False); digests stay here, by
    ``(layer_index, path)``. Files over the reader's capture limit are never visited and
    so cannot be verified.
    """

    def __init__(self, owned: Callable[[str], bool] | None = None,
                 prefixes: tuple[str, ...] = DEFAULT_HASHED_PREFIXES) -> None:
        self._owned = owned
        self._prefixes = prefixes
        self.digests: dict[tuple[int, str], str] = {}

    def wants(self, entry: FileEntry) -> bool:
        """Regular files under dpkg-owned paths (``owned``, else the default prefixes)."""
        if entry.kind is not FileKind.REGULAR:
            return False
        if self._owned is not None:
            return self._owned(entry.path)
        return entry.path.startswith(self._prefixes)

    def visit(self, entry: FileEntry, content: bytes) -> bool:
        """Hash; keep nothing."""
        self.digests[(entry.layer_index, entry.path)] = hashlib.md5(
            content, usedforsecurity=False).hexdigest()
        return False

    def cache_key(self) -> str | None:
        """The hashed prefixes; None with an ``owned`` predicate (it depends on the image)."""
        if self._owned is not None:
            return None
        return f"md5/{MD5_VISITOR_VERSION}:{describe(self._prefixes)}"

    def export_layer(self, index: int) -> Any:
        """Digests by path of layer ``index``."""
        return {path: digest for (layer, path), digest in self.digests.items() if layer == index}

    def import_layer(self, contents: LayerContents, state: Any) -> Commit:
        """Record an exported layer's digests at ``contents.layer.index``."""
        index = contents.layer.index
        digests = {(index, str(path)): str(digest) for path, digest in state.items()}
        return lambda: self.digests.update(digests)

    def digest(self, entry: FileEntry) -> str | None:
        """The md5 of that version of the file, if it was hashed."""
        return self.digests.get((entry.layer_index, entry.path))


SENSITIVE_NAMES: tuple[tuple[str, Severity, str], ...] = (
    ("id_rsa", Severity.HIGH, "SSH private key"),
    ("id_dsa", Severity.HIGH, "SSH private key"),
    ("id_ecdsa", Severity.HIGH, "SSH private key"),
    ("id_ed25519", Severity.HIGH, "SSH private key"),
    ("*.pem", Severity.MEDIUM, "PEM file (certificate or private key)"),
    ("*.key", Severity.HIGH, "private key"),
    ("*.kdbx", Severity.HIGH, "KeePass database"),
    ("*.pfx", Severity.HIGH, "PKCS#12 key store"),
    ("*.p12", Severity.HIGH, "PKCS#12 key store"),
    ("*.jks", Severity.MEDIUM, "Java key store"),
    (".env", Severity.MEDIUM, "environment file"),
    (".htpasswd", Severity.HIGH, "password file"),
    (".netrc", Severity.HIGH, "login credentials"),
    (".pgpass", Severity.HIGH, "database passwords"),
    (".git-credentials", Severity.HIGH, "git credentials"),
    ("credentials", Severity.MEDIUM, "credentials file"),
    (".dockercfg", Severity.HIGH, "registry credentials"),
    ("*.ovpn", Severity.MEDIUM, "VPN profile"),
)
"""(file-name glob, severity, what it is)."""

_PUBLIC_PLACES = ("etc/ssl/certs/", "usr/share/ca-certificates/", "etc/pki/",
                  "etc/ca-certificates/", "usr/lib/ssl/certs/", "usr/local/share/ca-certificates/")
_PUBLIC_NAMES = ("cacert.pem", "ca-bundle.pem", "ca-certificates.pem")
_NO_LOGIN = ("nologin", "false", "sync", "shutdown", "halt", "true")


@dataclass(frozen=True)
class _Rule:
    id: str
    title: str
    severity: Severity
    rationale: str
    remediation: str


_SETUID = _Rule("HS-FILE-SETUID", "setuid file", Severity.MEDIUM,
                "A setuid binary runs with its owner's rights and is a privilege-escalation path.",
                "Remove the setuid bit (chmod u-s) unless the file needs it.")
_SETGID = _Rule("HS-FILE-SETGID", "setgid file", Severity.LOW,
                "A setgid binary runs with its group's rights.",
                "Remove the setgid bit (chmod g-s) unless the file needs it.")
_WRITABLE = _Rule("HS-FILE-WORLD-WRITABLE", "World-writable file or directory", Severity.MEDIUM,
                  "Any user in the container can change it.",
                  "Remove write permission for others (chmod o-w), or set the sticky bit on "
                  "shared directories.")
_NAME = _Rule("HS-FILE-SENSITIVE-NAME", "Sensitive file in image", Severity.MEDIUM,
              "Keys and credential files in an image are readable by anyone who pulls it, "
              "even when a later layer deletes them.",
              "Do not copy secrets into the image; use build secrets and runtime mounts.")
_UID0 = _Rule("HS-FILE-PASSWD-UID0", "Extra user with uid 0", Severity.HIGH,
              "A second uid-0 account is a root account under another name.",
              "Remove the account or give it an unprivileged uid.")
_EMPTY = _Rule("HS-FILE-SHADOW-EMPTY", "Account with an empty password", Severity.HIGH,
               "An empty password hash allows logging in without a password.",
               "Lock the account (passwd -l) or set a password hash.")
_SHELL = _Rule("HS-FILE-PASSWD-LOGIN-SHELL", "System account with a login shell", Severity.LOW,
               "Service accounts with a shell can be logged into or used interactively.",
               "Set the shell to /usr/sbin/nologin.")
_MODIFIED = _Rule("HS-FILE-PKG-MODIFIED", "OS package file modified", Severity.MEDIUM,
                  "A file differing from its package's checksum was changed after install.",
                  "Reinstall the package or rebuild without modifying packaged files.")


class _Reporter:
    def __init__(self, layers: Sequence[LayerContents], filesystem: SquashedFilesystem,
                 layer_refs: Sequence[LayerRef | None]) -> None:
        self._layers = sorted(layers, key=lambda c: c.layer.index)
        self._filesystem = filesystem
        self._refs = layer_refs
        self.findings: list[CheckFinding] = []

    def ref(self, index: int) -> LayerRef | None:
        if 0 <= index < len(self._refs):
            return self._refs[index]
        return None

    def deleted_by(self, entry: FileEntry) -> LayerRef | None:
        """The later layer that deleted or replaced ``entry`` (None when it is still final)."""
        final = self._filesystem.entry(entry.path)
        if final is not None and final.layer_index == entry.layer_index:
            return None
        index = deleting_layer(self._layers, entry.path, entry.layer_index)
        return None if index is None else self.ref(index)

    def add(self, rule: _Rule, *, entry: FileEntry | None = None, path: str | None = None,
            severity: Severity | None = None, evidence: str | None = None) -> None:
        layer = deleted = None
        if entry is not None:
            layer, deleted, path = self.ref(entry.layer_index), self.deleted_by(entry), entry.path
        self.findings.append(CheckFinding(
            rule_id=rule.id, title=rule.title, severity=severity or rule.severity,
            category=Category.FILE, rationale=rule.rationale, remediation=rule.remediation,
            layer=layer, path=path, deleted_by=deleted, evidence=evidence))


def check_files(layers: Sequence[LayerContents], filesystem: SquashedFilesystem,
                layer_refs: Sequence[LayerRef | None],
                owned: Callable[[str], bool] | None = None, *,
                md5: Md5Visitor | None = None,
                names: tuple[tuple[str, Severity, str], ...] = SENSITIVE_NAMES
                ) -> list[CheckFinding]:
    """Run every file check; ``layer_refs`` is indexed by layer index."""
    reporter = _Reporter(layers, filesystem, layer_refs)
    for contents in sorted(layers, key=lambda c: c.layer.index):
        for entry in contents.entries:
            _check_entry(reporter, entry, owned, names)
    for entry in filesystem:
        if entry.kind is FileKind.DIRECTORY and entry.mode & stat.S_IWOTH \
                and not entry.mode & stat.S_ISVTX:
            reporter.add(_WRITABLE, entry=entry, evidence=f"mode {entry.mode:04o}")
    _check_accounts(reporter, filesystem)
    if md5 is not None:
        _verify(reporter, filesystem, md5)
    return reporter.findings


def _check_entry(reporter: _Reporter, entry: FileEntry, owned: Callable[[str], bool] | None,
                 names: tuple[tuple[str, Severity, str], ...]) -> None:
    if entry.kind is not FileKind.REGULAR:
        return
    mode = f"mode {entry.mode:04o}"
    is_owned = owned is not None and owned(entry.path)
    if entry.mode & stat.S_ISUID and not is_owned:
        reporter.add(_SETUID, entry=entry, evidence=mode)
    if entry.mode & stat.S_ISGID and not is_owned:
        reporter.add(_SETGID, entry=entry, evidence=mode)
    if entry.mode & stat.S_IWOTH:
        reporter.add(_WRITABLE, entry=entry, evidence=mode)
    name = entry.path.rpartition("/")[2]
    if is_owned or entry.path.startswith(_PUBLIC_PLACES) or name in _PUBLIC_NAMES \
            or "/certifi/" in entry.path:
        return
    for pattern, severity, what in names:
        if fnmatch.fnmatchcase(name, pattern):
            reporter.add(_NAME, entry=entry, severity=severity, evidence=what)
            break


def _records(data: bytes | None) -> list[list[str]]:
    if data is None:
        return []
    text = data.decode("utf-8", "replace")
    return [line.split(":") for line in text.splitlines()
            if line.strip() and not line.startswith("#")]


def _check_accounts(reporter: _Reporter, filesystem: SquashedFilesystem) -> None:
    passwd = filesystem.entry("etc/passwd")
    for fields in _records(filesystem.read("etc/passwd")):
        if len(fields) < 7 or not fields[2].isdigit():
            continue
        user, uid, shell = fields[0], int(fields[2]), fields[6].strip()
        if uid == 0 and user != "root":
            reporter.add(_UID0, entry=passwd, evidence=f"user {user} has uid 0")
        elif 0 < uid < 1000 and shell and shell.rpartition("/")[2] not in _NO_LOGIN:
            reporter.add(_SHELL, entry=passwd, evidence=f"user {user} (uid {uid}): {shell}")
    shadow = filesystem.entry("etc/shadow")
    for fields in _records(filesystem.read("etc/shadow")):
        if len(fields) >= 2 and fields[1] == "":
            reporter.add(_EMPTY, entry=shadow, evidence=f"user {fields[0]} has no password")


def _verify(reporter: _Reporter, filesystem: SquashedFilesystem, md5: Md5Visitor) -> None:
    lists = sorted(e.path for e in filesystem if _MD5SUMS.fullmatch(e.path))
    for list_path in lists:
        data = filesystem.read(list_path)
        if data is None:
            continue
        package = list_path.rpartition("/")[2].removesuffix(".md5sums")
        for line in data.decode("utf-8", "replace").splitlines():
            expected, _, path = line.strip().partition(" ")
            path = path.strip().lstrip("/")
            if not path or len(expected) != 32:
                continue
            entry = filesystem.entry(path) or filesystem.entry(filesystem.resolve(path))
            if entry is None or entry.kind is not FileKind.REGULAR:
                continue
            actual = md5.digest(entry)
            if actual is not None and actual != expected.lower():
                reporter.add(_MODIFIED, entry=entry, evidence=f"package {package}: md5 differs")
