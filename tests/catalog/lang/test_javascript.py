from __future__ import annotations

import pytest

from hullscan.catalog.lang.javascript import (
    parse_package_json,
    parse_package_lock,
    parse_pnpm_lock,
    parse_yarn_lock,
)
from hullscan.catalog.model import FoundPackage
from hullscan.errors import CorruptContentError


def _triples(packages: list[FoundPackage]) -> list[tuple[str, str, bool]]:
    return [(p.name, p.version, p.development) for p in packages]


@pytest.mark.parametrize(
    ("licence_json", "expected"),
    [
        (b'"license": "MIT"', ("MIT",)),
        (b'"license": {"type": "ISC", "url": "https://example.invalid"}', ("ISC",)),
        (b'"licenses": [{"type": "MIT"}, {"type": "Apache-2.0"}]', ("MIT", "Apache-2.0")),
        (b'"license": ["BSD-2-Clause", "MIT"]', ("BSD-2-Clause", "MIT")),
    ],
)
def test_package_json_licence_forms(licence_json: bytes, expected: tuple[str, ...]) -> None:
    content = b'{"name": "@babel/core", "version": "7.22.0", ' + licence_json + b"}"
    [pkg] = parse_package_json("node_modules/@babel/core/package.json", content)
    assert (pkg.name, pkg.version, pkg.ecosystem) == ("@babel/core", "7.22.0", "npm")
    assert pkg.licenses == expected


def test_package_json_author_forms() -> None:
    [a] = parse_package_json("p", b'{"name": "a", "version": "1.0.0", "author": "Jo <j@x>"}')
    assert a.supplier == "Jo <j@x>"
    [b] = parse_package_json(
        "p", b'{"name": "b", "version": "1.0.0", "author": {"name": "Jo", "email": "j@x"}}'
    )
    assert b.supplier == "Jo <j@x>"


def test_package_json_without_version_is_not_a_package() -> None:
    assert parse_package_json("p", b'{"name": "app", "private": true}') == []


def test_package_json_bad_json() -> None:
    with pytest.raises(CorruptContentError) as info:
        parse_package_json("node_modules/x/package.json", b'{"name": ')
    assert info.value.subject == "node_modules/x/package.json"
    with pytest.raises(CorruptContentError):
        parse_package_json("p", b"[1, 2]")


LOCK_V1 = b"""{
  "name": "app",
  "version": "1.0.0",
  "lockfileVersion": 1,
  "requires": true,
  "dependencies": {
    "ansi-regex": {
      "version": "5.0.1",
      "resolved": "https://npm-registry.invalid/ansi-regex/-/ansi-regex-5.0.1.tgz",
      "integrity": "sha512-quJQ"
    },
    "strip-ansi": {
      "version": "6.0.1",
      "resolved": "https://npm-registry.invalid/strip-ansi/-/strip-ansi-6.0.1.tgz",
      "integrity": "sha512-Y38V",
      "requires": {"ansi-regex": "^5.0.1"}
    },
    "jest": {
      "version": "29.0.0",
      "dev": true,
      "requires": {"ansi-regex": "^6.0.0"},
      "dependencies": {
        "ansi-regex": {"version": "6.0.1", "dev": true}
      }
    }
  }
}"""


def test_package_lock_v1_nested() -> None:
    packages = parse_package_lock("package-lock.json", LOCK_V1)
    assert _triples(packages) == [
        ("ansi-regex", "5.0.1", False),
        ("strip-ansi", "6.0.1", False),
        ("jest", "29.0.0", True),
        ("ansi-regex", "6.0.1", True),
    ]
    assert packages[1].dependencies == ("ansi-regex",)
    assert packages[0].extra["integrity"] == "sha512-quJQ"


LOCK_V2 = b"""{
  "name": "app",
  "version": "1.0.0",
  "lockfileVersion": %d,
  "requires": true,
  "packages": {
    "": {"name": "app", "version": "1.0.0", "dependencies": {"@babel/core": "^7.22.0"}},
    "node_modules/@babel/core": {
      "version": "7.22.0",
      "resolved": "https://npm-registry.invalid/@babel/core/-/core-7.22.0.tgz",
      "integrity": "sha512-abc",
      "license": "MIT",
      "dependencies": {"semver": "^6.3.0"}
    },
    "node_modules/@babel/core/node_modules/semver": {
      "version": "6.3.0", "license": "ISC"
    },
    "node_modules/semver": {"version": "7.5.4", "dev": true, "license": "ISC"},
    "node_modules/typescript": {"version": "5.1.6", "dev": true, "license": "Apache-2.0"},
    "node_modules/other/node_modules/semver": {"version": "7.5.4"},
    "node_modules/local-lib": {"resolved": "packages/local-lib", "link": true},
    "packages/local-lib": {"name": "local-lib", "version": "0.0.1"}
  }%s
}"""


@pytest.mark.parametrize(
    "content",
    [
        LOCK_V2 % (3, b""),
        LOCK_V2 % (2, b', "dependencies": {"ignored": {"version": "1.0.0"}}'),
    ],
)
def test_package_lock_v2_v3(content: bytes) -> None:
    packages = parse_package_lock("package-lock.json", content)
    assert _triples(packages) == [
        ("@babel/core", "7.22.0", False),
        ("semver", "6.3.0", False),
        # a dev copy and a non-dev copy of semver 7.5.4: not development-only
        ("semver", "7.5.4", False),
        ("typescript", "5.1.6", True),
        ("local-lib", "0.0.1", False),
    ]
    core = packages[0]
    assert core.licenses == ("MIT",)
    assert core.dependencies == ("semver",)
    assert core.extra["resolved"].endswith("core-7.22.0.tgz")


def test_package_lock_bad_json() -> None:
    with pytest.raises(CorruptContentError) as info:
        parse_package_lock("app/package-lock.json", b'{"lockfileVersion": 3,')
    assert info.value.subject == "app/package-lock.json"


YARN_V1 = b"""\
# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":
  version "7.12.13"
  resolved "https://registry.yarnpkg.com/@babel/code-frame/-/code-frame-7.12.13.tgz#dcfc"
  integrity sha512-HV1C
  dependencies:
    "@babel/highlight" "^7.12.13"

js-tokens@^4.0.0:
  version "4.0.0"
  resolved "https://registry.yarnpkg.com/js-tokens/-/js-tokens-4.0.0.tgz#19203"
  integrity sha512-RdJU

loose-envify@^1.1.0, loose-envify@^1.4.0:
  version "1.4.0"
  resolved "https://registry.yarnpkg.com/loose-envify/-/loose-envify-1.4.0.tgz#71ee"
  integrity sha512-lyuxPGr
  dependencies:
    js-tokens "^3.0.0 || ^4.0.0"
"""


def test_yarn_lock_v1() -> None:
    packages = parse_yarn_lock("yarn.lock", YARN_V1)
    assert _triples(packages) == [
        ("@babel/code-frame", "7.12.13", False),
        ("js-tokens", "4.0.0", False),
        ("loose-envify", "1.4.0", False),
    ]
    assert packages[0].dependencies == ("@babel/highlight",)
    assert packages[2].dependencies == ("js-tokens",)
    assert packages[1].extra["integrity"] == "sha512-RdJU"


YARN_BERRY = b"""\
# This file is generated by running "yarn install" inside your project.
# Manual changes might be lost - proceed with caution!

__metadata:
  version: 6
  cacheKey: 8

"@babel/code-frame@npm:^7.0.0, @babel/code-frame@npm:^7.10.4":
  version: 7.12.13
  resolution: "@babel/code-frame@npm:7.12.13"
  dependencies:
    "@babel/highlight": ^7.12.13
  checksum: 471532bb7c
  languageName: node
  linkType: hard

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
  dependencies:
    js-tokens: ^4.0.0
  languageName: unknown
  linkType: soft

"js-tokens@npm:^3.0.0 || ^4.0.0, js-tokens@npm:^4.0.0":
  version: 4.0.0
  resolution: "js-tokens@npm:4.0.0"
  checksum: 8a95213a5a
  languageName: node
  linkType: hard

"resolve@patch:resolve@^1.20.0#~builtin<compat/resolve>":
  version: 1.22.1
  resolution: "resolve@patch:resolve@npm%3A1.22.1#~builtin<compat/resolve>::version=1.22.1"
  languageName: node
  linkType: hard
"""


def test_yarn_lock_berry() -> None:
    packages = parse_yarn_lock("yarn.lock", YARN_BERRY)
    assert _triples(packages) == [
        ("@babel/code-frame", "7.12.13", False),
        ("js-tokens", "4.0.0", False),
        ("resolve", "1.22.1", False),
    ]
    assert packages[0].dependencies == ("@babel/highlight",)
    assert packages[1].extra["checksum"] == "8a95213a5a"


def test_yarn_lock_malformed() -> None:
    with pytest.raises(CorruptContentError) as info:
        parse_yarn_lock("web/yarn.lock", b'js-tokens@^4.0.0:\n  resolved "x"\n')
    assert info.value.subject == "web/yarn.lock"
    with pytest.raises(CorruptContentError):
        parse_yarn_lock("yarn.lock", b"garbage without colon\n")


PNPM_V6 = b"""\
lockfileVersion: '6.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

dependencies:
  react-dom:
    specifier: ^18.2.0
    version: 18.2.0(react@18.2.0)

devDependencies:
  typescript:
    specifier: ^5.1.6
    version: 5.1.6

packages:

  /@babel/runtime@7.22.6:
    resolution: {integrity: sha512-wDb5}
    engines: {node: '>=6.9.0'}
    dependencies:
      regenerator-runtime: 0.13.11
    dev: false

  /react-dom@18.2.0(react@18.2.0):
    resolution: {integrity: sha512-6Ivy}
    peerDependencies:
      react: ^18.2.0
    dependencies:
      loose-envify: 1.4.0
    dev: false

  /typescript@5.1.6:
    resolution: {integrity: sha512-zaWC}
    engines: {node: '>=14.17'}
    hasBin: true
    dev: true
"""

PNPM_V9 = b"""\
lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .:
    dependencies:
      react-dom:
        specifier: ^18.2.0
        version: 18.2.0(react@18.2.0)

packages:

  '@babel/runtime@7.22.6':
    resolution: {integrity: sha512-wDb5}
    engines: {node: '>=6.9.0'}

  react-dom@18.2.0:
    resolution: {integrity: sha512-6Ivy}
    peerDependencies:
      react: ^18.2.0

  typescript@5.1.6:
    resolution: {integrity: sha512-zaWC}
    hasBin: true

snapshots:

  '@babel/runtime@7.22.6':
    dependencies:
      regenerator-runtime: 0.13.11

  react-dom@18.2.0(react@18.2.0):
    dependencies:
      loose-envify: 1.4.0
"""

PNPM_V5 = b"""\
lockfileVersion: 5.4

packages:

  /@babel/runtime/7.22.6:
    resolution: {integrity: sha512-wDb5}
    dev: false

  /react-dom/18.2.0_react@18.2.0:
    resolution: {integrity: sha512-6Ivy}
    dev: false

  /typescript/5.1.6:
    resolution: {integrity: sha512-zaWC}
    dev: true
"""


@pytest.mark.parametrize(
    ("content", "typescript_dev"), [(PNPM_V5, True), (PNPM_V6, True), (PNPM_V9, False)]
)
def test_pnpm_lock(content: bytes, typescript_dev: bool) -> None:
    packages = parse_pnpm_lock("pnpm-lock.yaml", content)
    assert _triples(packages) == [
        ("@babel/runtime", "7.22.6", False),
        ("react-dom", "18.2.0", False),
        ("typescript", "5.1.6", typescript_dev),
    ]
    assert packages[1].extra["integrity"] == "sha512-6Ivy"


def test_pnpm_lock_malformed() -> None:
    with pytest.raises(CorruptContentError) as info:
        parse_pnpm_lock("pnpm-lock.yaml", b"packages:\n  /x@1.0.0:\n")
    assert info.value.subject == "pnpm-lock.yaml"


def test_project_package_json_is_reported_as_the_project() -> None:
    from hullscan.catalog.lang.javascript import parse_project_package_json

    [project] = parse_project_package_json(
        "app/package.json", b'{"name": "shop", "version": "1.2.0", "private": true}')
    assert (project.name, project.version, project.extra["project"]) == ("shop", "1.2.0", "true")
    assert parse_project_package_json("app/package.json", b'{"name": "no-version"}') == []
