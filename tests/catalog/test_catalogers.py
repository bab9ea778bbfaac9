"""Every cataloger's predicate stays inside its hint, and the visitor's dispatch by hint asks
exactly the predicates that matter."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.catalog.catalogers import CATALOGERS
from hullscan.catalog.visitor import CatalogVisitor, _Dispatch
from hullscan.image.layer import FileEntry, FileKind

# Path pieces every cataloger looks for, and near misses.
_PIECES = ["var", "lib", "dpkg", "status", "status.d", "libc6", "libc6.md5sums", "apk", "db",
           "installed", "rpm", "sysimage", "Packages", "Packages.db", "rpmdb.sqlite", "usr",
           "site-packages", "dist-packages", "x.dist-info", "y.egg-info", "METADATA",
           "PKG-INFO", "requirements.txt", "requirements-dev.txt", "requirements.in",
           "poetry.lock", "Pipfile.lock", "uv.lock", "node_modules", "@scope", "left-pad",
           ".bin", "package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml",
           "specifications", "rake.gemspec", "Gemfile.lock", "vendor", "composer",
           "installed.json", "composer.lock", "app.deps.json", "Cargo.lock", "go.mod",
           "app.jar", "app.war", "x.ear", "x.jpi", "x.hpi", "bin", "ls", "README", "",
           # whole directories the catalogers name, so that exact paths come up often
           "var/lib/dpkg/status.d", "var/lib/dpkg", "lib/apk/db", "var/lib/rpm",
           "usr/lib/sysimage/rpm", "vendor/composer", "usr/lib/python3/dist-packages/x.dist-info",
           "node_modules/left-pad", "node_modules/@scope/pkg", "usr/lib/ruby/specifications"]

_entries = st.builds(
    lambda parts, mode, size: FileEntry("/".join(p for p in parts if p) or "x",
                                        FileKind.REGULAR, size, mode, 0, 0, 0, None, 0),
    st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6),
    st.sampled_from([0o644, 0o755, 0o700, 0o4755, 0o600]),
    st.sampled_from([0, 1, 4096]))


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(_entries)
def test_no_cataloger_wants_a_file_its_hint_refuses(entry: FileEntry) -> None:
    for cataloger in CATALOGERS:
        assert cataloger.hint is not None, cataloger.name
        if cataloger.wants(entry):
            assert cataloger.hint.admits(entry), (cataloger.name, entry.path)


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(_entries)
def test_dispatch_offers_every_cataloger_whose_hint_admits(entry: FileEntry) -> None:
    offered = set(id(c) for c in _Dispatch(CATALOGERS).candidates(entry))
    for cataloger in CATALOGERS:
        assert cataloger.hint is not None
        assert (id(cataloger) in offered) == cataloger.hint.admits(entry), cataloger.name
    visitor = CatalogVisitor(CATALOGERS, lambda _path: False)
    assert visitor.wants(entry) == any(c.wants(entry) for c in CATALOGERS)
