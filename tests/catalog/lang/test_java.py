from __future__ import annotations

import io
import os
import zipfile

import pytest

from hullscan.catalog.lang.java import MAX_DEPTH, parse_java_archive
from hullscan.errors import CorruptContentError, LimitExceededError
from tests.support.debian_packages import DebianPackageUnavailableError, extract_debian_package
from tests.support.unavailable import unavailable

# Cross-checked with syft 1.18.1 (`syft scan dir:` on these jars, `syft scan file:` on the war):
# the same 22 (name, version, file) triples, and the 3 nested packages of the war.
REAL_JARS = {
    ("libjackson2-core-java", "jackson-core.jar"): (
        "com.fasterxml.jackson.core", "jackson-core", "2.14.1"),
    ("libcommons-lang3-java", "commons-lang3.jar"): (
        "org.apache.commons", "commons-lang3", "3.12.0"),
    ("libslf4j-java", "slf4j-api.jar"): ("org.slf4j", "slf4j-api", "1.7.32"),
}


def _jar(package: str, name: str) -> bytes:
    try:
        root = extract_debian_package(package)
    except DebianPackageUnavailableError as exc:
        unavailable(f"Debian package {package} unavailable: {exc}")
    return (root / "usr/share/java" / name).read_bytes()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(("source", "expected"), list(REAL_JARS.items()))
def test_real_debian_jars(source: tuple[str, str], expected: tuple[str, str, str]) -> None:
    packages = parse_java_archive(source[1], _jar(*source))
    assert len(packages) == 1
    (found,) = packages
    assert (found.namespace, found.name, found.version) == expected
    assert (found.ecosystem, found.path, found.extra) == ("maven", source[1], {"primary": "true"})


def test_slf4j_package_matches_syft_count() -> None:
    try:
        root = extract_debian_package("libslf4j-java")
    except DebianPackageUnavailableError as exc:
        unavailable(f"libslf4j-java unavailable: {exc}")
    jars = sorted(p for p in (root / "usr/share/java").iterdir() if p.suffix == ".jar")
    found = [pkg for jar in jars for pkg in parse_java_archive(jar.name, jar.read_bytes())]
    assert len(jars) == len(found) == 20  # syft 1.18.1: 20 packages for these 20 files
    assert {(p.name, p.version) for p in found} == {
        (name, "1.7.32")
        for name in ("jcl-over-slf4j", "jul-to-slf4j", "log4j-over-slf4j", "slf4j-api",
                     "slf4j-jcl", "slf4j-jdk14", "slf4j-log4j12", "slf4j-migrator",
                     "slf4j-nop", "slf4j-simple")
    }
    licensed = {p.name: p.licenses for p in found if p.licenses}
    assert licensed == {"jcl-over-slf4j": ("Apache License, Version 2.0",),
                        "log4j-over-slf4j": ("Apache Software Licenses",)}


def test_nested_war_of_real_jars() -> None:
    members = {"WEB-INF/web.xml": b"<web-app/>"}
    for (package, name), (_, artifact, version) in REAL_JARS.items():
        members[f"WEB-INF/lib/{artifact}-{version}.jar"] = _jar(package, name)
    war = _zip(members)
    outer = _zip({"app.war": war, "BOOT-INF/lib/deep.jar": _zip({"x.jar": war})})
    found = parse_java_archive("srv/app.ear", outer)
    assert len(found) == 6
    assert sorted((p.path, p.name, p.version) for p in found)[:3] == [
        ("srv/app.ear:BOOT-INF/lib/deep.jar:x.jar:WEB-INF/lib/commons-lang3-3.12.0.jar",
         "commons-lang3", "3.12.0"),
        ("srv/app.ear:BOOT-INF/lib/deep.jar:x.jar:WEB-INF/lib/jackson-core-2.14.1.jar",
         "jackson-core", "2.14.1"),
        ("srv/app.ear:BOOT-INF/lib/deep.jar:x.jar:WEB-INF/lib/slf4j-api-1.7.32.jar",
         "slf4j-api", "1.7.32"),
    ]
    assert {p.path for p in found if p.path.startswith("srv/app.ear:app.war:")} == {
        f"srv/app.ear:app.war:WEB-INF/lib/{a}-{v}.jar" for _, a, v in REAL_JARS.values()
    }


def _props(group: str, artifact: str, version: str) -> bytes:
    return f"#c\ngroupId={group}\nartifactId = {artifact}\nversion:{version}\n".encode()


def test_shaded_jar_reports_each_and_marks_primary() -> None:
    jar = _zip({
        "META-INF/maven/com.acme/app/pom.properties": _props("com.acme", "app", "2.0"),
        "META-INF/maven/com.google.guava/guava/pom.properties": _props(
            "com.google.guava", "guava", "31.1-jre"),
        "META-INF/maven/com.acme/app/pom.xml": b"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <artifactId>app</artifactId><licenses><license><name>MIT</name></license>
  <license><url>https://example.org/l</url></license></licenses></project>""",
    })
    app, guava = parse_java_archive("lib/app-2.0.jar", jar)
    assert (app.namespace, app.name, app.version, app.extra) == (
        "com.acme", "app", "2.0", {"primary": "true"})
    assert app.licenses == ("MIT", "https://example.org/l")
    assert (guava.name, guava.version, guava.extra) == ("guava", "31.1-jre", {})


def test_pom_xml_without_properties_inherits_parent() -> None:
    jar = _zip({"META-INF/maven/g/a/pom.xml": b"""<project><parent><groupId>org.p</groupId>
<version>7</version></parent><artifactId>a</artifactId></project>"""})
    (found,) = parse_java_archive("a.jar", jar)
    assert (found.namespace, found.name, found.version) == ("org.p", "a", "7")


def test_pom_xml_doctype_refused() -> None:
    bomb = b"""<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>
<project><artifactId>&b;</artifactId><version>1</version></project>"""
    with pytest.raises(CorruptContentError, match="DOCTYPE"):
        parse_java_archive("x.jar", _zip({"META-INF/maven/g/a/pom.xml": bomb}))


def test_manifest_with_continuation_lines() -> None:
    manifest = (b"Manifest-Version: 1.0\r\nImplementation-Title: Very Long Na\r\n me\r\n"
                b"Implementation-Version: 4.5\r\nImplementation-Vendor: Acme\r\n"
                b"Implementation-Vendor-Id: com.acme\r\n\r\nName: other\r\n"
                b"Implementation-Version: 9\r\n")
    (found,) = parse_java_archive("x-1.0.jar", _zip({"META-INF/MANIFEST.MF": manifest}))
    assert (found.namespace, found.name, found.version, found.supplier) == (
        "com.acme", "Very Long Name", "4.5", "Acme")
    assert found.extra == {"source": "manifest", "primary": "true"}


def test_bundle_manifest_and_file_name_fallback() -> None:
    bundle = b"Bundle-SymbolicName: org.x.y;singleton:=true\nBundle-Version: 1.2.3.v2024\n"
    (found,) = parse_java_archive("b.jar", _zip({"META-INF/MANIFEST.MF": bundle}))
    assert (found.name, found.version) == ("org.x.y", "1.2.3.v2024")
    (named,) = parse_java_archive("lib/foo-bar-1.2.3-SNAPSHOT.jar", _zip({"a.txt": b"x"}))
    assert (named.name, named.version, named.extra["source"]) == (
        "foo-bar", "1.2.3-SNAPSHOT", "file-name")
    assert parse_java_archive("lib/noversion.jar", _zip({"a.txt": b"x"})) == []


def test_corrupt_zip() -> None:
    with pytest.raises(CorruptContentError):
        parse_java_archive("x.jar", b"PK\x03\x04 not really")
    good = _zip({"META-INF/MANIFEST.MF": b"Implementation-Version: 1\n"})
    with pytest.raises(CorruptContentError):
        parse_java_archive("x.jar", good[: len(good) // 2])


def test_zip_bomb_member_is_stopped() -> None:
    bomb = _zip({"META-INF/MANIFEST.MF": b"Implementation-Version: 1\n",
                 "inner.jar": b"\0" * (64 << 20)})
    assert len(bomb) < 200_000
    with pytest.raises(LimitExceededError, match="expands"):
        parse_java_archive("bomb.jar", bomb)


def test_total_budget_is_per_top_level_archive(monkeypatch: pytest.MonkeyPatch) -> None:
    import hullscan.catalog.lang.java as java

    inner = _zip({"data.bin": os.urandom(1 << 20)})  # 1 MiB, incompressible
    outer = _zip({f"lib/{n}.jar": inner for n in range(8)})
    monkeypatch.setattr(java, "MAX_TOTAL_BYTES", 4 << 20)
    with pytest.raises(LimitExceededError, match="decompressed"):
        java.parse_java_archive("big.war", outer)


def test_deep_nesting_is_stopped() -> None:
    manifest = b"Implementation-Title: core\nImplementation-Version: 1\n"
    data = _zip({"META-INF/MANIFEST.MF": manifest})
    for level in range(20):
        data = _zip({f"lib/l{level}.jar": data})
    with pytest.raises(LimitExceededError, match=f"deeper than {MAX_DEPTH}"):
        parse_java_archive("deep.jar", data)
    shallow = _zip({"META-INF/MANIFEST.MF": manifest})
    for level in range(MAX_DEPTH):
        shallow = _zip({f"l{level}.jar": shallow})
    (found,) = parse_java_archive("ok.jar", shallow)
    assert found.path.count(":") == MAX_DEPTH


def test_primary_follows_file_name() -> None:
    jar = _zip({"META-INF/maven/a/x/pom.properties": _props("a", "x", "1"),
                "META-INF/maven/a/y/pom.properties": _props("a", "y", "2")})
    found = parse_java_archive("opt/x-1.jar", jar)
    assert [p.extra for p in found] == [{"primary": "true"}, {}]
    assert [p.extra for p in parse_java_archive("opt/other.jar", jar)] == [{}, {}]
