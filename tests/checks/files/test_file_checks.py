"""File checks over hand-built layers: setuid, world-writable, names, accounts, md5 verify."""

from __future__ import annotations

import hashlib

from hullscan.catalog.package import LayerRef
from hullscan.checks.files import Md5Visitor, check_files, wanted_paths
from hullscan.checks.finding import Category, CheckFinding
from hullscan.image.filesystem import SquashedFilesystem
from hullscan.image.layer import CapturePaths, CompositeVisitor, LayerContents
from hullscan.vuln.severity import Severity
from tests.image.layer_helpers import Member, read

REFS = tuple(LayerRef(i, f"sha256:{i}", f"step {i}") for i in range(4))


def _check(layers: list[LayerContents], **kwargs: object) -> list[CheckFinding]:
    return check_files(layers, SquashedFilesystem(layers), REFS, **kwargs)  # type: ignore[arg-type]


def _by(rule_id: str, findings: list[CheckFinding]) -> list[CheckFinding]:
    return [f for f in findings if f.rule_id == rule_id]


def test_setuid_in_final_view_and_in_deleted_layer() -> None:
    layers = [read([Member("usr/bin/passwd", b"p", mode=0o4755),
                    Member("opt/tool", b"t", mode=0o4755),
                    Member("opt/group", b"g", mode=0o2755),
                    Member("usr/bin/ls", b"l", mode=0o755)], index=0),
              read([Member("opt/.wh.tool")], index=1)]
    findings = _check(layers)
    setuid = {f.path: f for f in _by("HS-FILE-SETUID", findings)}
    assert set(setuid) == {"usr/bin/passwd", "opt/tool"}
    assert setuid["opt/tool"].deleted_by == REFS[1] and setuid["opt/tool"].layer == REFS[0]
    assert setuid["usr/bin/passwd"].deleted_by is None
    assert setuid["opt/tool"].category is Category.FILE
    assert [f.path for f in _by("HS-FILE-SETGID", findings)] == ["opt/group"]


def test_setuid_replaced_by_a_later_layer_and_owned_files_excluded() -> None:
    layers = [read([Member("usr/bin/su", b"s", mode=0o4755),
                    Member("usr/local/bin/x", b"x", mode=0o4755)], index=0),
              read([Member("usr/local/bin/x", b"x", mode=0o755)], index=1)]
    findings = _check(layers, owned=lambda path: path == "usr/bin/su")
    [only] = _by("HS-FILE-SETUID", findings)
    assert only.path == "usr/local/bin/x" and only.deleted_by == REFS[1]


def test_deleted_by_opaque_directory() -> None:
    layers = [read([Member("app/secret/id_rsa", b"k")], index=0),
              read([Member("app/secret/.wh..wh..opq"), Member("app/secret/readme", b"r")],
                   index=1)]
    [key] = _by("HS-FILE-SENSITIVE-NAME", _check(layers))
    assert key.deleted_by == REFS[1] and key.severity is Severity.HIGH


def test_world_writable() -> None:
    layers = [read([Member("tmp", directory=True, mode=0o1777),
                    Member("data", directory=True, mode=0o777),
                    Member("srv", directory=True, mode=0o755),
                    Member("data/f", b"f", mode=0o666),
                    Member("data/g", b"g", mode=0o644),
                    Member("data/link", symlink="g", mode=0o777)], index=0)]
    paths = {f.path for f in _by("HS-FILE-WORLD-WRITABLE", _check(layers))}
    assert paths == {"data", "data/f"}


def test_sensitive_names() -> None:
    layers = [read([Member("root/.ssh/id_ed25519", b"k"), Member("app/.env", b"A=b"),
                    Member("app/server.key", b"k"), Member("app/store.p12", b"k"),
                    Member("home/u/.aws/credentials", b"c"), Member("app/db.kdbx", b"k"),
                    Member("etc/nginx/.htpasswd", b"h"),
                    Member("etc/ssl/certs/ca.pem", b"c"),
                    Member("usr/lib/python3/site-packages/certifi/cacert.pem", b"c"),
                    Member("app/main.py", b"print()"),
                    Member("root/.ssh/id_ed25519.pub", b"pub")], index=0)]
    paths = {f.path for f in _by("HS-FILE-SENSITIVE-NAME", _check(layers))}
    assert paths == {"root/.ssh/id_ed25519", "app/.env", "app/server.key", "app/store.p12",
                     "home/u/.aws/credentials", "app/db.kdbx", "etc/nginx/.htpasswd"}


PASSWD = (b"root:x:0:0:root:/root:/bin/bash\n"
          b"toor:x:0:0::/root:/bin/sh\n"
          b"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
          b"sync:x:4:65534:sync:/bin:/bin/sync\n"
          b"backdoor:x:101:101::/var/lib/x:/bin/bash\n"
          b"alice:x:1000:1000::/home/alice:/bin/bash\n")
SHADOW = (b"root:*:19000:0:99999:7:::\n"
          b"daemon:!:19000::::::\n"
          b"alice::19000:0:99999:7:::\n")


def test_passwd_and_shadow_problems() -> None:
    assert wanted_paths("etc/passwd") and wanted_paths("etc/shadow")
    assert wanted_paths("var/lib/dpkg/info/bash.md5sums") and not wanted_paths("etc/group")
    layers = [read([Member("etc/passwd", PASSWD), Member("etc/shadow", SHADOW, mode=0o640)],
                   index=0, wanted=("etc/passwd", "etc/shadow"))]
    findings = _check(layers)
    assert [f.evidence for f in _by("HS-FILE-PASSWD-UID0", findings)] == ["user toor has uid 0"]
    assert [f.evidence for f in _by("HS-FILE-SHADOW-EMPTY", findings)] == [
        "user alice has no password"]
    assert [f.evidence for f in _by("HS-FILE-PASSWD-LOGIN-SHELL", findings)] == [
        "user backdoor (uid 101): /bin/bash"]
    assert _by("HS-FILE-PASSWD-UID0", findings)[0].path == "etc/passwd"


def test_clean_accounts_have_no_findings() -> None:
    layers = [read([Member("etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
                    Member("etc/shadow", b"root:!::0:::::\n", mode=0o640)],
                   index=0, wanted=("etc/passwd", "etc/shadow"))]
    assert _check(layers) == []


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_md5_verify_catches_a_modified_package_file() -> None:
    md5sums = (f"{_md5(b'original bash')}  usr/bin/bash\n"
               f"{_md5(b'ls')}  bin/ls\n"
               f"{_md5(b'gone')}  usr/share/doc/bash/README\n").encode()
    visitor = Md5Visitor()
    both = CompositeVisitor([visitor, CapturePaths(wanted_paths)])
    layers = [read([Member("usr/bin/bash", b"original bash", mode=0o755),
                    Member("usr/bin/ls", b"ls", mode=0o755),
                    Member("bin", symlink="usr/bin"),
                    Member("var/lib/dpkg/info/bash.md5sums", md5sums)], index=0, visitor=both),
              read([Member("usr/bin/bash", b"trojaned bash", mode=0o755)], index=1,
                   visitor=both)]
    assert layers[0].captured.keys() == {"var/lib/dpkg/info/bash.md5sums"}
    findings = _check(layers, md5=visitor)
    [modified] = _by("HS-FILE-PKG-MODIFIED", findings)
    assert modified.path == "usr/bin/bash" and modified.layer == REFS[1]
    assert modified.deleted_by is None and modified.evidence == "package bash: md5 differs"
    v2 = Md5Visitor()
    unmodified = [read([Member("usr/bin/bash", b"original bash", mode=0o755),
                        Member("var/lib/dpkg/info/bash.md5sums", md5sums)], index=0,
                       visitor=CompositeVisitor([v2, CapturePaths(wanted_paths)]))]
    assert not _by("HS-FILE-PKG-MODIFIED", _check(unmodified, md5=v2))

