from __future__ import annotations

import pytest

from hullscan.catalog.lang.golang import parse_go_mod
from hullscan.errors import CorruptContentError

GO_MOD = b"""\
module example.com/app

go 1.21

toolchain go1.21.5

require github.com/gorilla/mux v1.8.0

require (
\tgolang.org/x/net v0.17.0 // indirect
\tgithub.com/go-redis/redis/v8 v8.11.5
\tgithub.com/old/thing v1.0.0
\texample.com/local v0.0.0-00010101000000-000000000000
\tgopkg.in/yaml.v3 v3.0.1 // indirect
)

exclude golang.org/x/net v0.16.0

replace github.com/old/thing => github.com/new/thing v1.2.3

replace (
\texample.com/local => ../local
\tgopkg.in/yaml.v3 v3.0.0 => gopkg.in/yaml.v3 v3.0.2
)
"""


def test_go_mod() -> None:
    packages = parse_go_mod("go.mod", GO_MOD)
    assert [(p.namespace, p.name, p.version) for p in packages] == [
        ("github.com/gorilla", "mux", "v1.8.0"),
        ("golang.org/x", "net", "v0.17.0"),
        ("github.com/go-redis/redis", "v8", "v8.11.5"),
        ("github.com/new", "thing", "v1.2.3"),
        ("gopkg.in", "yaml.v3", "v3.0.1"),  # replace names another version: not applied
    ]
    assert all(p.ecosystem == "golang" for p in packages)
    assert packages[0].extra == {"module": "github.com/gorilla/mux"}
    assert packages[1].extra["indirect"] == "true"
    assert "indirect" not in packages[2].extra
    assert packages[3].extra == {
        "module": "github.com/new/thing",
        "replaces": "github.com/old/thing v1.0.0",
    }


def test_versioned_replace_applies() -> None:
    content = b"module m\nrequire a.io/b v1.0.0\nreplace a.io/b v1.0.0 => a.io/c v1.1.0\n"
    [pkg] = parse_go_mod("go.mod", content)
    assert (pkg.namespace, pkg.name, pkg.version) == ("a.io", "c", "v1.1.0")


@pytest.mark.parametrize(
    "content",
    [
        b"module m\nrequire (\n\ta.io/b v1.0.0\n",
        b"module m\nrequire a.io/b\n",
        b"module m\nreplace a.io/b v1.0.0\n",
        b"\xff\xfe",
        b"hello world\n",
    ],
)
def test_malformed(content: bytes) -> None:
    with pytest.raises(CorruptContentError) as info:
        parse_go_mod("cmd/go.mod", content)
    assert info.value.subject == "cmd/go.mod"
