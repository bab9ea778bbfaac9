"""Hand-verified matching facts against the database built from the real shared data.

Every fact names the record and quotes, in a comment, the range exactly as it reads in the
shared zip (``/work/shared/vulndata``): that reading is the verification. Each fact is checked
twice: on the stored row (``queries_for`` + ``database.affected`` + ``is_affected``) and end
to end (``match_catalog``: withdrawn records, alias merging, fix versions).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from packageurl import PackageURL

from hullscan.catalog.package import Catalog, Package, Scope
from hullscan.image.distro import Distro
from hullscan.image.model import ImageMetadata
from hullscan.image.reference import SourceKind
from hullscan.vuln.db.store import VulnerabilityDatabase
from hullscan.vuln.finding import Finding, FixState
from hullscan.vuln.matcher import is_affected, match_catalog
from hullscan.vuln.queries import queries_for
from tests.vuln.conftest import BuiltDatabase

ALPINE_311 = Distro("alpine", "3.11.6", "Alpine Linux v3.11")
ALPINE_310 = Distro("alpine", "3.10.5", "Alpine Linux v3.10")
ALMA_9 = Distro("almalinux", "9.4", "AlmaLinux 9.4 (Seafoam Ocelot)", id_like=("rhel", "centos",
                                                                             "fedora"))
ALMA_8 = Distro("almalinux", "8.10", "AlmaLinux 8.10 (Cerulean Leopard)",
                id_like=("rhel", "centos", "fedora"))

_IMAGE = ImageMetadata(reference="facts", source=SourceKind.DIRECTORY, name=None,
                       manifest_digest=None, index_digest=None, manifest_media_type=None,
                       image_id=None, platform=None, config=None, layers=())


# --------------------------------------------------------------------------- packages


def pypi(name: str, version: str) -> Package:
    return Package(name, version, "pypi", str(PackageURL("pypi", None, name.lower(), version)))


def npm(name: str, version: str) -> Package:
    return Package(name, version, "npm", str(PackageURL("npm", None, name, version)))


def go(module: str, version: str) -> Package:
    """A Go module as the go-binary cataloger reports it (namespace/name split at the last /)."""
    namespace, _, name = module.rpartition("/")
    return Package(name, version, "golang",
                   str(PackageURL("golang", namespace or None, name, version)),
                   namespace=namespace or None)


def cargo(name: str, version: str) -> Package:
    return Package(name, version, "cargo", str(PackageURL("cargo", None, name, version)))


def apk(name: str, version: str, origin: str | None, distro: Distro = ALPINE_311) -> Package:
    qualifiers = {"arch": "x86_64", "distro": f"alpine-{distro.version_id}"}
    if origin and origin != name:
        qualifiers["upstream"] = origin
    return Package(name, version, "apk",
                   str(PackageURL("apk", "alpine", name, version, qualifiers)),
                   namespace="alpine", source_name=origin, architecture="x86_64")


def rpm(name: str, version: str, epoch: int | None, source: str,
        distro: Distro = ALMA_9) -> Package:
    """``version`` is ``VERSION-RELEASE`` (as the rpm cataloger reports it); epoch apart."""
    qualifiers = {"arch": "x86_64", "distro": f"almalinux-{distro.version_id}"}
    if epoch:
        qualifiers["epoch"] = str(epoch)
    if source != name:
        qualifiers["upstream"] = source
    return Package(name, version, "rpm",
                   str(PackageURL("rpm", "almalinux", name, version, qualifiers)),
                   namespace="almalinux", source_name=source, architecture="x86_64",
                   epoch=epoch, release=version.partition("-")[2])


# --------------------------------------------------------------------------- the facts


@dataclass(frozen=True)
class Fact:
    """``package`` (on ``distro``) is / is not affected by record ``vuln_id``."""

    vuln_id: str
    package: Package
    affected: bool
    distro: Distro | None = None
    fix: str | None = None
    """A fix version the finding must list (checked when affected)."""
    withdrawn: bool = False
    """The record is withdrawn: its ranges include the version, yet it must never match."""

    @property
    def label(self) -> str:
        verdict = "affected" if self.affected else "not-affected"
        return f"{self.vuln_id}-{self.package.name}@{self.package.version}-{verdict}"


FACTS: tuple[Fact, ...] = (
    # ---------------------------------------------------------------- PyPI (osv/PyPI.zip)
    # PYSEC-2018-28 requests: ranges ECOSYSTEM events [{"introduced": "0"}, {"fixed": "2.20.0"}]
    Fact("PYSEC-2018-28", pypi("requests", "2.19.1"), True, fix="2.20.0"),
    Fact("PYSEC-2018-28", pypi("requests", "2.20.0"), False),  # equal to fixed
    # PYSEC-2023-74 requests: [{"introduced": "2.3.0"}, {"fixed": "2.31.0"}]
    Fact("PYSEC-2023-74", pypi("requests", "2.30.0"), True, fix="2.31.0"),  # just below fixed
    Fact("PYSEC-2023-74", pypi("requests", "2.31.0"), False),  # equal to fixed
    Fact("PYSEC-2023-74", pypi("requests", "2.3.0"), True),  # introduced is inclusive
    Fact("PYSEC-2023-74", pypi("requests", "2.2.1"), False),  # below introduced
    # PYSEC-2022-42969 py: [{"introduced": "0"}, {"last_affected": "1.11.0"}]
    Fact("PYSEC-2022-42969", pypi("py", "1.11.0"), True),  # last_affected is inclusive
    Fact("PYSEC-2022-42969", pypi("py", "1.11.1"), False),  # just past last_affected
    # PYSEC-2023-192 urllib3: one range, two intervals:
    # [{"introduced": "2.0.0"}, {"fixed": "2.0.6"}, {"introduced": "0"}, {"fixed": "1.26.17"}]
    Fact("PYSEC-2023-192", pypi("urllib3", "1.26.16"), True, fix="1.26.17"),
    Fact("PYSEC-2023-192", pypi("urllib3", "1.26.17"), False),
    Fact("PYSEC-2023-192", pypi("urllib3", "2.0.5"), True, fix="2.0.6"),
    Fact("PYSEC-2023-192", pypi("urllib3", "2.0.6"), False),
    # PYSEC-2020-96 pyyaml: [{"introduced": "5.1"}, {"fixed": "5.3.1"}]; the installed
    # distribution is spelled "PyYAML" (PEP 503 normalisation)
    Fact("PYSEC-2020-96", pypi("PyYAML", "5.3"), True, fix="5.3.1"),
    Fact("PYSEC-2020-96", pypi("PyYAML", "5.0"), False),  # below introduced 5.1
    # PYSEC-2019-144 arrayfire: "withdrawn": "2022-09-09T05:28:00Z",
    # [{"introduced": "0"}, {"fixed": "3.6.0"}]
    Fact("PYSEC-2019-144", pypi("arrayfire", "3.5.0"), False, withdrawn=True),
    # ---------------------------------------------------------------- npm (NSWG native)
    # 368.json lodash: "vulnerable_versions": "<4.17.5", "patched_versions": ">=4.17.5"
    Fact("NSWG-ECO-368", npm("lodash", "4.17.4"), True, fix="4.17.5"),
    Fact("NSWG-ECO-368", npm("lodash", "4.17.5"), False),
    # 516.json lodash: "vulnerable_versions": ">=4.17.15 <4.17.19"
    Fact("NSWG-ECO-516", npm("lodash", "4.17.15"), True, fix="4.17.19"),
    Fact("NSWG-ECO-516", npm("lodash", "4.17.14"), False),  # below the lower bound
    Fact("NSWG-ECO-516", npm("lodash", "4.17.19"), False),
    # 101.json marked: "vulnerable_versions": "<=0.3.5", "patched_versions": ">=0.3.6"
    Fact("NSWG-ECO-101", npm("marked", "0.3.5"), True, fix="0.3.6"),  # <= is inclusive
    Fact("NSWG-ECO-101", npm("marked", "0.3.6"), False),
    # 8.json express: "vulnerable_versions": "<3.11 || >= 4 <4.5"
    Fact("NSWG-ECO-8", npm("express", "4.4.5"), True),
    Fact("NSWG-ECO-8", npm("express", "4.5.0"), False),
    Fact("NSWG-ECO-8", npm("express", "3.11.0"), False),  # between the two intervals
    Fact("NSWG-ECO-8", npm("express", "3.10.5"), True),
    # ---------------------------------------------------------------- Go (osv/Go.zip)
    # GO-2023-1737 github.com/gin-gonic/gin: SEMVER
    # [{"introduced": "1.3.1-0.20190301021747-ccb9e902956d"}, {"fixed": "1.9.1"}];
    # the catalog reports Go module versions with their "v"
    Fact("GO-2023-1737", go("github.com/gin-gonic/gin", "v1.9.0"), True, fix="1.9.1"),
    Fact("GO-2023-1737", go("github.com/gin-gonic/gin", "v1.9.1"), False),
    Fact("GO-2023-1737", go("github.com/gin-gonic/gin", "v1.3.0"), False),  # below introduced
    # GO-2020-0012 golang.org/x/crypto: SEMVER
    # [{"introduced": "0"}, {"fixed": "0.0.0-20200220183623-bac4c82f6975"}] (pseudo-versions)
    Fact("GO-2020-0012", go("golang.org/x/crypto", "v0.0.0-20200219234226-1ad67e1f0ef4"), True),
    Fact("GO-2020-0012", go("golang.org/x/crypto", "v0.0.0-20200220183623-bac4c82f6975"),
         False),
    # GO-2023-1571 stdlib (net/http): SEMVER
    # [{"introduced": "0"}, {"fixed": "1.19.6"}, {"introduced": "1.20.0-0"}, {"fixed": "1.20.1"}]
    # (the go-binary cataloger reports the toolchain as stdlib without the "go" prefix)
    Fact("GO-2023-1571", go("stdlib", "1.20.0"), True, fix="1.20.1"),
    Fact("GO-2023-1571", go("stdlib", "1.20.1"), False),
    Fact("GO-2023-1571", go("stdlib", "1.19.5"), True, fix="1.19.6"),
    Fact("GO-2023-1571", go("stdlib", "1.19.13"), False),  # fixed on the 1.19 branch
    # GO-2024-2730 github.com/gorilla/sessions: "withdrawn": "2024-04-17T18:06:23Z",
    # SEMVER [{"introduced": "0"}]
    Fact("GO-2024-2730", go("github.com/gorilla/sessions", "v1.2.2"), False, withdrawn=True),
    # ---------------------------------------------------------------- crates.io
    # RUSTSEC-2022-0013 regex: SEMVER [{"introduced": "0.0.0-0"}, {"fixed": "1.5.5"}]
    Fact("RUSTSEC-2022-0013", cargo("regex", "1.5.4"), True, fix="1.5.5"),
    Fact("RUSTSEC-2022-0013", cargo("regex", "1.5.5"), False),
    # RUSTSEC-2020-0071 time: SEMVER [{"introduced": "0.0.0-0"}, {"fixed": "0.2.0"},
    # {"introduced": "0.2.1-0"}, {"fixed": "0.2.1"}, ... {"introduced": "0.2.7-0"},
    # {"fixed": "0.2.23"}]
    # The fix offered is the one closing the interval that holds 0.1.43: 0.2.0.
    Fact("RUSTSEC-2020-0071", cargo("time", "0.1.43"), True, fix="0.2.0"),
    Fact("RUSTSEC-2020-0071", cargo("time", "0.2.0"), False),
    Fact("RUSTSEC-2020-0071", cargo("time", "0.2.1"), False),  # only 0.2.1 pre-releases
    Fact("RUSTSEC-2020-0071", cargo("time", "0.2.22"), True),
    Fact("RUSTSEC-2020-0071", cargo("time", "0.2.23"), False),
    # RUSTSEC-2022-0016 wasmtime: [{"introduced": "0.34.0"}, {"fixed": "0.34.2"},
    # {"introduced": "0.35.0"}, {"fixed": "0.35.2"}]
    Fact("RUSTSEC-2022-0016", cargo("wasmtime", "0.33.0"), False),  # below introduced
    Fact("RUSTSEC-2022-0016", cargo("wasmtime", "0.35.1"), True, fix="0.35.2"),
    # RUSTSEC-2022-0099 wasmtime (same CVE): [{"introduced": "0.0.0-0"}, {"fixed": "0.34.2"},
    # {"introduced": "0.35.0"}, {"fixed": "0.35.2"}]
    Fact("RUSTSEC-2022-0099", cargo("wasmtime", "0.33.0"), True, fix="0.34.2"),
    # RUSTSEC-2021-0135 tower-http: "withdrawn": "2022-08-14T12:00:00Z",
    # [{"introduced": "0.0.0-0"}, {"fixed": "0.1.3"}, {"introduced": "0.2.0"}, {"fixed": "0.2.1"}]
    Fact("RUSTSEC-2021-0135", cargo("tower-http", "0.1.2"), False, withdrawn=True),
    # ---------------------------------------------------------------- AlmaLinux (osv zip)
    # almalinux9/ALSA-2024:0310 openssl-libs (AlmaLinux:9):
    # [{"introduced": "0"}, {"fixed": "1:3.0.7-25.el9_3"}]
    Fact("ALSA-2024:0310", rpm("openssl-libs", "3.0.7-24.el9", 1, "openssl"), True, ALMA_9,
         fix="1:3.0.7-25.el9_3"),
    Fact("ALSA-2024:0310", rpm("openssl-libs", "3.0.7-25.el9_3", 1, "openssl"), False, ALMA_9),
    # almalinux9/ALSA-2024:2447 openssl: [{"introduced": "0"}, {"fixed": "1:3.0.7-27.el9"}]
    Fact("ALSA-2024:2447", rpm("openssl", "3.0.7-25.el9_3", 1, "openssl"), True, ALMA_9),
    Fact("ALSA-2024:2447", rpm("openssl", "3.0.7-27.el9", 1, "openssl"), False, ALMA_9),
    # the epoch decides before the version: 2:3.0.1-1.el9 is newer than 1:3.0.7-27.el9
    Fact("ALSA-2024:2447", rpm("openssl", "3.0.1-1.el9", 2, "openssl"), False, ALMA_9),
    # an AlmaLinux 9 erratum does not apply to AlmaLinux 8 (namespace almalinux:8)
    Fact("ALSA-2024:0310", rpm("openssl-libs", "3.0.7-24.el9", 1, "openssl", ALMA_8), False,
         ALMA_8),
    # ---------------------------------------------------------------- Alpine secdb
    # v3.11/main.json openssl secfixes: "1.1.1d-r3": ["CVE-2019-1551"],
    # "1.1.1d-r1": ["CVE-2019-1547", ...], "1.1.1a-r0": ["CVE-2018-0734", "CVE-2018-0735"];
    # libcrypto1.1 has no secdb entry: it matches through its origin (o:openssl)
    Fact("CVE-2019-1551", apk("libcrypto1.1", "1.1.1d-r2", "openssl"), True, ALPINE_311,
         fix="1.1.1d-r3"),
    Fact("CVE-2019-1551", apk("libcrypto1.1", "1.1.1d-r2", None), False, ALPINE_311),
    Fact("CVE-2019-1551", apk("openssl", "1.1.1d-r3", "openssl"), False, ALPINE_311),
    Fact("CVE-2019-1547", apk("openssl", "1.1.1c-r0", "openssl"), True, ALPINE_311,
         fix="1.1.1d-r1"),
    Fact("CVE-2018-0734", apk("openssl", "1.1.1-r5", "openssl"), True, ALPINE_311),  # 1.1.1<1.1.1a
    Fact("CVE-2018-0734", apk("openssl", "1.1.1a-r0", "openssl"), False, ALPINE_311),
    # v3.11/main.json libmspack: "0.8_alpha-r0": ["CVE-2018-18584", ...]
    Fact("CVE-2018-18584", apk("libmspack", "0.7.1_alpha-r0", "libmspack"), True, ALPINE_311),
    Fact("CVE-2018-18584", apk("libmspack", "0.8_alpha-r0", "libmspack"), False, ALPINE_311),
    # musl: v3.11/main.json "1.1.23-r2": ["CVE-2019-14697"];
    # v3.10/main.json "1.1.22-r3": ["CVE-2019-14697"] (each release has its own fix)
    Fact("CVE-2019-14697", apk("musl", "1.1.22-r3", "musl", ALPINE_311), True, ALPINE_311,
         fix="1.1.23-r2"),
    Fact("CVE-2019-14697", apk("musl", "1.1.22-r3", "musl", ALPINE_310), False, ALPINE_310),
    Fact("CVE-2019-14697", apk("musl", "1.1.22-r2", "musl", ALPINE_310), True, ALPINE_310,
         fix="1.1.22-r3"),
)


def _match(database: VulnerabilityDatabase, package: Package,
            distro: Distro | None) -> list[Finding]:
    catalog = Catalog(image=_IMAGE, distro=distro, scope=Scope.SQUASHED, packages=(package,))
    result = match_catalog(catalog, database)
    assert result.warnings == ()
    return list(result.findings)


@pytest.fixture(scope="module")
def database(built_database: BuiltDatabase) -> Iterator[VulnerabilityDatabase]:
    with VulnerabilityDatabase.open(built_database.path) as opened:
        yield opened


def test_there_are_enough_facts_for_every_source() -> None:
    assert len(FACTS) >= 30
    kinds = {f.package.type for f in FACTS}
    assert kinds == {"pypi", "npm", "golang", "cargo", "rpm", "apk"}
    assert any(f.affected for f in FACTS) and any(not f.affected for f in FACTS)


@pytest.mark.parametrize("fact", FACTS, ids=lambda fact: fact.label)
def test_stored_row_decides_as_read_by_hand(database: VulnerabilityDatabase,
                                            fact: Fact) -> None:
    queries = queries_for(fact.package, fact.distro)
    assert queries, fact.package
    rows = [(query, record) for query in queries
            for record in database.affected(query.namespace, query.name)
            if record.vuln_id == fact.vuln_id]
    if not rows:
        # only a namespace or name that does not hold the record may leave it out
        assert not fact.affected, f"{fact.vuln_id} not stored under {queries}"
        return
    verdict = any(is_affected(record, query.version) for query, record in rows)
    assert all(record.withdrawn == fact.withdrawn for _, record in rows)
    # a withdrawn record's ranges still cover the version: match_catalog must drop it
    assert verdict == (fact.affected or fact.withdrawn), [r.ranges for _, r in rows]


@pytest.mark.parametrize("fact", FACTS, ids=lambda fact: fact.label)
def test_match_catalog_reports_as_read_by_hand(database: VulnerabilityDatabase,
                                               fact: Fact) -> None:
    findings = _match(database, fact.package, fact.distro)
    hits = [f for f in findings if fact.vuln_id in (f.id, *f.aliases)]
    if not fact.affected:
        assert hits == [], [f.id for f in hits]
        return
    assert len(hits) == 1, [f.id for f in findings]
    finding = hits[0]
    assert finding.package.purl == fact.package.purl
    if fact.fix is not None:
        assert finding.fix_state is FixState.FIXED
        assert fact.fix in finding.fix_versions, finding.fix_versions


def test_withdrawn_records_never_match_even_alone(database: VulnerabilityDatabase) -> None:
    # arrayfire 3.5.0 is in PYSEC-2019-144's range; it is the only arrayfire record
    assert [r.vuln_id for r in database.affected("pypi", "arrayfire")] == ["PYSEC-2019-144"]
    assert _match(database, pypi("arrayfire", "3.5.0"), None) == []
    assert _match(database, go("github.com/gorilla/sessions", "v1.2.2"), None) == []


def test_aliases_merge_two_pypi_records_into_one_finding(
        database: VulnerabilityDatabase) -> None:
    # PYSEC-2021-871 distributed: aliases ["CVE-2021-42343", "GHSA-hwqr-f3v9-hwxr"],
    # [{"introduced": "0"}, {"fixed": "2021.10.0"}]
    # PYSEC-2021-872 distributed: aliases ["CVE-2021-42343", "GHSA-hwqr-f3v9-hwxr",
    # "GHSA-j8fq-86c5-5v2r"], [{"introduced": "0"}, {"fixed": "2021.10.0"}]
    findings = _match(database, pypi("distributed", "2021.9.1"), None)
    merged = [f for f in findings if "PYSEC-2021-871" in (f.id, *f.aliases)]
    assert len(merged) == 1
    finding = merged[0]
    assert finding.id == "CVE-2021-42343"
    assert {"PYSEC-2021-871", "PYSEC-2021-872", "GHSA-hwqr-f3v9-hwxr",
            "GHSA-j8fq-86c5-5v2r"} <= set(finding.aliases)
    assert finding.fix_versions == ("2021.10.0",)
    assert not any("PYSEC-2021-872" in (f.id, *f.aliases) for f in findings if f is not finding)
    assert _match(database, pypi("distributed", "2021.10.0"), None) == []


def test_aliases_merge_two_rustsec_records_into_one_finding(
        database: VulnerabilityDatabase) -> None:
    # RUSTSEC-2022-0016 and RUSTSEC-2022-0099 wasmtime both carry aliases
    # ["CVE-2022-24791", "GHSA-gwc9-348x-qwv2"]; 0.34.1 is in both ranges
    findings = _match(database, cargo("wasmtime", "0.34.1"), None)
    merged = [f for f in findings if f.id == "CVE-2022-24791"]
    assert len(merged) == 1
    assert {"RUSTSEC-2022-0016", "RUSTSEC-2022-0099", "GHSA-gwc9-348x-qwv2"} <= set(
        merged[0].aliases)
    # Only the fix of the release line 0.34.1 is on; 0.35.2 fixes the 0.35 line.
    assert merged[0].fix_versions == ("0.34.2",)
    assert sum("RUSTSEC-2022-0016" in (f.id, *f.aliases) for f in findings) == 1


def test_alpine_origin_match_reports_the_installed_subpackage(
        database: VulnerabilityDatabase) -> None:
    findings = _match(database, apk("libssl1.1", "1.1.1d-r0", "openssl"), ALPINE_311)
    # v3.11 openssl secfixes above 1.1.1d-r0: d-r3 (1551) and d-r1 (1547, 1549, 1563)
    assert sorted(f.id for f in findings) == ["CVE-2019-1547", "CVE-2019-1549",
                                              "CVE-2019-1551", "CVE-2019-1563"]
    assert {(f.namespace, f.matched_name, f.package.name) for f in findings} == {
        ("alpine:3.11", "openssl", "libssl1.1")}


def test_almalinux_errata_keep_their_own_id(database: VulnerabilityDatabase) -> None:
    # ALSA-2024:0310 has no aliases (CVE-2023-5363 is under "related"), so the id is the ALSA
    findings = _match(database, rpm("openssl-libs", "3.0.7-24.el9", 1, "openssl"), ALMA_9)
    ids = {f.id for f in findings}
    assert {"ALSA-2024:0310", "ALSA-2024:2447"} <= ids
    assert "ALSA-2023:3722" not in ids  # fixed 1:3.0.7-16.el9_2, older than installed
    finding = next(f for f in findings if f.id == "ALSA-2024:0310")
    assert finding.namespace == "almalinux:9"
    assert finding.fix_versions == ("1:3.0.7-25.el9_3",)
