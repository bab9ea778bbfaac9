from __future__ import annotations

import pytest

from hullscan.catalog.lang.python import (
    normalise_name,
    parse_metadata,
    parse_pipfile_lock,
    parse_poetry_lock,
    parse_requirements,
    parse_uv_lock,
)
from hullscan.errors import CorruptContentError
from tests.catalog.lang import FIXTURES


def _read(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


def test_networkx_metadata() -> None:
    [pkg] = parse_metadata("m", _read("python/networkx-3.0.METADATA"))
    assert (pkg.name, pkg.version, pkg.ecosystem, pkg.path) == ("networkx", "3.0", "pypi", "m")
    assert pkg.licenses == ()  # no License field and no licence classifier
    assert pkg.supplier == "Aric Hagberg"


def test_setuptools_pkg_info_falls_back_to_classifier() -> None:
    [pkg] = parse_metadata("p", _read("python/setuptools-51.3.3-py3.8.egg-info.PKG-INFO"))
    assert (pkg.name, pkg.version) == ("setuptools", "51.3.3")
    assert pkg.licenses == ("MIT License",)  # License: UNKNOWN is ignored
    assert pkg.supplier == "Python Packaging Authority"


def test_flask_metadata_keeps_name_as_written() -> None:
    [pkg] = parse_metadata("f", _read("python/Flask-2.0.0.dist-info/METADATA"))
    assert (pkg.name, pkg.version) == ("Flask", "2.0.0")
    assert pkg.licenses == ("BSD-3-Clause",)
    assert pkg.supplier == "Armin Ronacher"
    assert normalise_name(pkg.name) == "flask"


def test_license_expression_wins() -> None:
    content = (
        b"Metadata-Version: 2.4\nName: demo\nVersion: 1.0\nLicense-Expression: MIT OR Apache-2.0\n"
        b"Classifier: License :: OSI Approved :: MIT License\nMaintainer: Team\n\nbody\n"
    )
    [pkg] = parse_metadata("x", content)
    assert pkg.licenses == ("MIT OR Apache-2.0",)
    assert pkg.supplier == "Team"


def test_metadata_without_version_is_corrupt() -> None:
    with pytest.raises(CorruptContentError) as info:
        parse_metadata("site-packages/x/METADATA", b"Name: x\n")
    assert info.value.subject == "site-packages/x/METADATA"


def test_normalise_name() -> None:
    assert normalise_name("Foo.Bar__baz--Qux") == "foo-bar-baz-qux"


REQUIREMENTS = b"""\
# top comment
-r base.txt
-c constraints.txt
--index-url https://example.invalid/simple
-e git+https://example.invalid/x.git#egg=x
requests==2.31.0  # pinned
Flask[async,dotenv] == 2.0.0 ; python_version >= "3.8"
urllib3>=1.26
idna==3.*
certifi==2023.7.22 \\
    --hash=sha256:aaaa \\
    --hash=sha256:bbbb
pkg @ https://example.invalid/pkg-1.0.tar.gz
zope.interface===6.0
"""


def test_requirements_only_pins() -> None:
    packages = parse_requirements("requirements.txt", REQUIREMENTS)
    assert [(p.name, p.version) for p in packages] == [
        ("requests", "2.31.0"),
        ("Flask", "2.0.0"),
        ("certifi", "2023.7.22"),
        ("zope.interface", "6.0"),
    ]
    assert packages[1].extra["extras"] == "async,dotenv"
    assert packages[2].extra["hashes"] == "sha256:aaaa,sha256:bbbb"


POETRY_LOCK = b"""\
[[package]]
name = "certifi"
version = "2023.7.22"
description = "Python package for providing Mozilla's CA Bundle."
optional = false
python-versions = ">=3.6"
files = [
    {file = "certifi-2023.7.22.tar.gz", hash = "sha256:539c"},
]

[[package]]
name = "pytest"
version = "7.4.0"
description = "pytest: simple powerful testing with Python"
category = "dev"
optional = false
python-versions = ">=3.7"

[package.dependencies]
iniconfig = "*"
pluggy = ">=0.12,<2.0"

[metadata]
lock-version = "2.0"
python-versions = "^3.11"
content-hash = "abc"
"""


def test_poetry_lock() -> None:
    packages = parse_poetry_lock("poetry.lock", POETRY_LOCK)
    assert [(p.name, p.version, p.development) for p in packages] == [
        ("certifi", "2023.7.22", False),
        ("pytest", "7.4.0", True),
    ]
    assert packages[1].dependencies == ("iniconfig", "pluggy")


def test_poetry_lock_bad_toml() -> None:
    with pytest.raises(CorruptContentError) as info:
        parse_poetry_lock("app/poetry.lock", b"[[package]\nname=")
    assert info.value.subject == "app/poetry.lock"
    assert "app/poetry.lock" in str(info.value)


PIPFILE_LOCK = b"""{
  "_meta": {"hash": {"sha256": "x"}, "pipfile-spec": 6, "requires": {}, "sources": []},
  "default": {
    "requests": {"hashes": ["sha256:58cd", "sha256:942c"], "index": "pypi",
                 "version": "==2.31.0"},
    "local": {"editable": true, "path": "."}
  },
  "develop": {
    "pytest": {"hashes": [], "version": "==7.4.0"}
  }
}"""


def test_pipfile_lock() -> None:
    packages = parse_pipfile_lock("Pipfile.lock", PIPFILE_LOCK)
    assert [(p.name, p.version, p.development) for p in packages] == [
        ("requests", "2.31.0", False),
        ("pytest", "7.4.0", True),
    ]
    assert packages[0].extra["hashes"] == "sha256:58cd,sha256:942c"


def test_pipfile_lock_bad_json() -> None:
    with pytest.raises(CorruptContentError) as info:
        parse_pipfile_lock("Pipfile.lock", b'{"default": ')
    assert info.value.subject == "Pipfile.lock"


UV_LOCK = b"""\
version = 1
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "idna" },
]

[[package]]
name = "idna"
version = "3.7"
source = { registry = "https://package-index.invalid/simple" }
sdist = { url = "https://example.invalid/idna-3.7.tar.gz", hash = "sha256:028f", size = 1 }
wheels = [
    { url = "https://example.invalid/idna-3.7-py3-none-any.whl", hash = "sha256:82fe" },
]

[[package]]
name = "tool"
version = "1.0"
source = { virtual = "tools/tool" }
"""


def test_uv_lock_skips_workspace_members() -> None:
    packages = parse_uv_lock("uv.lock", UV_LOCK)
    assert [(p.name, p.version) for p in packages] == [("idna", "3.7")]
    assert packages[0].extra["source_registry"] == "https://package-index.invalid/simple"
    assert packages[0].extra["sdist_hash"] == "sha256:028f"


def test_uv_lock_bad_toml() -> None:
    with pytest.raises(CorruptContentError) as info:
        parse_uv_lock("uv.lock", b"version = = 1")
    assert info.value.subject == "uv.lock"
