"""The files gate over the squashed file system of real layers."""

from __future__ import annotations

from hullscan.image.filesystem import SquashedFilesystem
from hullscan.policy.content import ContentRegexVisitor
from hullscan.policy.context import EvaluationContext
from hullscan.policy.gates.base import Trigger
from hullscan.policy.gates.files import GATE
from tests.policy.gates.context_helpers2 import context, fire_ids, fires, problems, read_layers
from tests.support.image_builder import Directory, File, LayerSpec, Symlink

CONTENT_REGEX = r"password:\s*\S+"


def trigger(name: str) -> Trigger:
    found = GATE.trigger(name)
    assert found is not None
    return found


def image() -> EvaluationContext:
    visitor = ContentRegexVisitor([CONTENT_REGEX])
    layers = read_layers([
        LayerSpec([File("/usr/bin/passwd", b"p", mode=0o4755),
                   File("/usr/bin/wall", b"w", mode=0o2755),
                   File("/opt/tool", b"t", mode=0o4755),
                   Directory("/tmp", mode=0o1777), Directory("/data", mode=0o777),
                   File("/app/log.txt", b"", mode=0o666),
                   Symlink("/app/current", "log.txt"),
                   File("/etc/ssl/private/server.key", b"k", mode=0o600),
                   File("/app/config.yml", b"db:\n  password: hunter2hunter\n"),
                   File("/app/old.yml", b"password: old-one\n")]),
        LayerSpec([File("/opt/tool", b"t", mode=0o755),
                   File("/app/old.yml", b"# the password comes from vault\n")]),
    ], visitor)
    filesystem = SquashedFilesystem(layers)
    return context(layers=2, filesystem=filesystem,
                   content_matches=visitor.final_matches(filesystem.layer_of))


def test_name_match() -> None:
    rule = trigger("name_match")
    assert fire_ids(rule, image(), regex=r"\.key$") == ["etc/ssl/private/server.key"]
    assert fire_ids(rule, image(), regex="^/etc/ssl/") == fire_ids(rule, image(),
                                                                   regex="^etc/ssl/")
    assert fire_ids(rule, image(), regex="^etc/ssl/") == [
        "etc/ssl/private", "etc/ssl/private/server.key"]
    assert fire_ids(rule, image(), regex=r"\.pem$") == []


def test_content_regex_match_only_final_versions() -> None:
    rule = trigger("content_regex_match")
    [fire] = fires(rule, image(), regex=CONTENT_REGEX)
    assert fire.trigger_id == fire.path == "app/config.yml"  # app/old.yml's match was replaced
    assert fire.layer is not None and fire.layer.index == 0
    assert fire_ids(rule, image(), regex="never-searched") == []


def test_suid_or_guid_set() -> None:
    rule = trigger("suid_or_guid_set")
    assert fire_ids(rule, image()) == ["usr/bin/passwd", "usr/bin/wall"]  # opt/tool: replaced
    [wall] = fires(rule, image(), exclude="passwd$")
    assert "setgid file usr/bin/wall (mode 2755" in wall.message
    assert fire_ids(rule, image(), exclude="^usr/") == []


def test_world_writable() -> None:
    rule = trigger("world_writable")
    assert fire_ids(rule, image()) == ["app/log.txt", "data"]  # not /tmp (sticky), not links
    assert fire_ids(rule, image(), exclude="^/app/") == ["data"]
    [data] = fires(rule, image(), exclude="log")
    assert data.message == "world-writable dir data (mode 0777)"


def test_parameter_problems() -> None:
    assert problems(trigger("name_match")) == {"regex": "required parameter is missing"}
    assert "invalid regular expression" in problems(trigger("content_regex_match"),
                                                    regex="[")["regex"]
    assert "invalid regular expression" in problems(trigger("world_writable"),
                                                    exclude="(")["exclude"]
    assert "expected a string" in problems(trigger("suid_or_guid_set"), exclude=[1])["exclude"]
