from __future__ import annotations

import pytest

from hullscan.catalog.lang.ruby import parse_gemfile_lock, parse_gemspec
from hullscan.errors import CorruptContentError
from tests.catalog.lang import FIXTURES


def _gemspec(name: str) -> bytes:
    return (FIXTURES / "ruby" / name).read_bytes()


def test_bundler_gemspec() -> None:
    [pkg] = parse_gemspec("bundler.gemspec", _gemspec("bundler.gemspec"))
    assert (pkg.name, pkg.version, pkg.ecosystem) == ("bundler", "2.1.4", "gem")
    assert pkg.licenses == ("MIT",)
    assert pkg.supplier is not None
    assert pkg.supplier.startswith("André Arko, Samuel Giddins, ")
    assert pkg.supplier.count(", ") == 14  # fifteen authors


def test_formatador_gemspec_with_frozen_version() -> None:
    [pkg] = parse_gemspec("f.gemspec", _gemspec("formatador.gemspec"))
    assert (pkg.name, pkg.version) == ("formatador", "1.1.0")
    assert pkg.licenses == ("MIT",)
    assert pkg.supplier == "geemus (Wesley Beary)"


def test_multiple_licences_gemspec() -> None:
    [pkg] = parse_gemspec("m.gemspec", _gemspec("multiple_licenses.gemspec"))
    assert (pkg.name, pkg.version) == ("test-unit", "3.3.7")
    assert pkg.licenses == ("Ruby", "BSDL", "PSFL")
    assert pkg.supplier == "Kouhei Sutou, Haruka Yoshihara"


def test_single_license_and_other_block_variable() -> None:
    content = b"""Gem::Specification.new do |spec|
  spec.name = %q<rack>
  spec.version = '3.0.8'
  spec.license = "MIT"
  spec.author = "Leah Neukirchen"
end
"""
    [pkg] = parse_gemspec("rack.gemspec", content)
    assert (pkg.name, pkg.version, pkg.licenses) == ("rack", "3.0.8", ("MIT",))
    assert pkg.supplier == "Leah Neukirchen"


def test_gemspec_without_name_is_corrupt() -> None:
    with pytest.raises(CorruptContentError) as info:
        parse_gemspec("specifications/x.gemspec", b"Gem::Specification.new do |s|\nend\n")
    assert info.value.subject == "specifications/x.gemspec"


GEMFILE_LOCK = b"""\
GIT
  remote: https://github.com/example/widget.git
  revision: 0123456789abcdef
  specs:
    widget (0.3.0)

GEM
  remote: https://rubygems.org/
  specs:
    actionpack (6.1.4)
      actionview (= 6.1.4)
      rack (~> 2.0, >= 2.0.9)
    nokogiri (1.12.5-x86_64-linux)
      racc (~> 1.4)
    racc (1.5.2)
    rack (2.2.3)

PLATFORMS
  x86_64-linux

DEPENDENCIES
  actionpack (~> 6.1)
  nokogiri
  widget!

BUNDLED WITH
   2.2.22
"""


def test_gemfile_lock() -> None:
    packages = parse_gemfile_lock("Gemfile.lock", GEMFILE_LOCK)
    assert [(p.name, p.version) for p in packages] == [
        ("widget", "0.3.0"),
        ("actionpack", "6.1.4"),
        ("nokogiri", "1.12.5"),
        ("racc", "1.5.2"),
        ("rack", "2.2.3"),
    ]
    assert packages[0].extra["source"] == "GIT"
    assert packages[1].extra == {"source": "GEM", "remote": "https://rubygems.org/"}
    assert packages[1].dependencies == ("actionview", "rack")
    assert packages[2].architecture == "x86_64-linux"


def test_gemfile_lock_garbage() -> None:
    with pytest.raises(CorruptContentError) as info:
        parse_gemfile_lock("app/Gemfile.lock", b"    just indented text\n")
    assert info.value.subject == "app/Gemfile.lock"
