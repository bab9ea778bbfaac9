"""The passwd_file gate over an /etc/passwd read from a real layer."""

from __future__ import annotations

from hullscan.image.filesystem import SquashedFilesystem
from hullscan.policy.context import EvaluationContext
from hullscan.policy.gates.base import Trigger
from hullscan.policy.gates.passwd import GATE, parse_passwd
from tests.policy.gates.context_helpers2 import context, fire_ids, fires, problems, read_layers
from tests.support.image_builder import File, LayerSpec

PASSWD = b"""root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
# a comment
games:x:5:60:games:/usr/games:/bin/sh
broken line
toor:x:0:0:Second Root,,,:/root:/bin/bash
app:x:1000:1000::/home/app:/usr/sbin/nologin
"""


def trigger(name: str) -> Trigger:
    found = GATE.trigger(name)
    assert found is not None
    return found


def image(passwd: bytes | None = PASSWD) -> EvaluationContext:
    files = [File("/etc/hostname", b"box\n")]
    layers = read_layers([LayerSpec(files), LayerSpec(
        [File("/etc/passwd", passwd)] if passwd is not None else [])])
    return context(layers=2, filesystem=SquashedFilesystem(layers))


def test_parse_skips_comments_and_malformed_lines() -> None:
    entries = parse_passwd(PASSWD)
    assert [e.name for e in entries] == ["root", "daemon", "games", "toor", "app"]
    assert entries[3].uid == 0 and entries[3].line == 6 and entries[2].shell == "/bin/sh"


def test_content_not_available() -> None:
    rule = trigger("content_not_available")
    assert fire_ids(rule, image(None)) == ["etc/passwd"]
    assert fire_ids(rule, image()) == []


def test_denylist_usernames() -> None:
    rule = trigger("denylist_usernames")
    [fire] = fires(rule, image(), user_names=["games", "nobody"])
    assert fire.trigger_id == "games" and fire.path == "etc/passwd"
    assert fire.layer is not None and fire.layer.index == 1
    assert "line 4" in fire.message
    assert fire_ids(rule, image(), user_names="nobody") == []
    assert fire_ids(rule, image(None), user_names="root") == []


def test_denylist_userids_and_groupids() -> None:
    assert fire_ids(trigger("denylist_userids"), image(), user_ids=[0]) == ["root", "toor"]
    assert fire_ids(trigger("denylist_userids"), image(), user_ids="999") == []
    assert fire_ids(trigger("denylist_groupids"), image(), group_ids=["60", 1000]) == [
        "app", "games"]
    assert fire_ids(trigger("denylist_groupids"), image(), group_ids=[42]) == []


def test_denylist_shells_and_full_entry() -> None:
    assert fire_ids(trigger("denylist_shells"), image(), shells=["/bin/sh"]) == ["games"]
    assert fire_ids(trigger("denylist_shells"), image(), shells=["/bin/zsh"]) == []
    entry = trigger("denylist_full_entry")
    assert fire_ids(entry, image(), entry=["toor:x:0:0:Second Root,,,:/root:/bin/bash"]) == [
        "toor"]
    assert fire_ids(entry, image(), entry=["toor:x:0:0::/root:/bin/bash"]) == []


def test_parameter_problems() -> None:
    assert "numeric ids" in problems(trigger("denylist_userids"), user_ids=["root"])["user_ids"]
    assert "numeric ids" in problems(trigger("denylist_groupids"), group_ids="-1")["group_ids"]
    assert problems(trigger("denylist_usernames")) == {
        "user_names": "required parameter is missing"}
    assert "expected a list" in problems(trigger("denylist_shells"), shells={"a": 1})["shells"]
