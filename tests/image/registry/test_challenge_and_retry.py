"""WWW-Authenticate parsing and the retry policy."""

from __future__ import annotations

import email.utils
import time

from hullscan.image.registry.challenge import parse_challenges
from hullscan.image.registry.retry import RetryPolicy, parse_retry_after


def test_bearer_challenge_with_quoted_commas() -> None:
    header = ('Bearer realm="https://auth.example/token",service="registry.example",'
              'scope="repository:a/b:pull,push"')
    [challenge] = parse_challenges(header)
    assert challenge.scheme == "bearer"
    assert challenge.params == {"realm": "https://auth.example/token",
                                "service": "registry.example",
                                "scope": "repository:a/b:pull,push"}


def test_several_challenges_in_one_header() -> None:
    challenges = parse_challenges('Basic realm="r", Bearer realm="https://t",service=s')
    assert [c.scheme for c in challenges] == ["basic", "bearer"]
    assert challenges[1].params == {"realm": "https://t", "service": "s"}


def test_escaped_quotes() -> None:
    [challenge] = parse_challenges(r'Basic realm="a \"quoted\" realm"')
    assert challenge.params["realm"] == 'a "quoted" realm'


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_retry_after_seconds_and_dates_are_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(max_delay=10.0)
    assert policy.delay(1, "7") == 7.0
    assert policy.delay(1, "120") == 10.0
    future = email.utils.formatdate(time.time() + 5, usegmt=True)
    assert 3.0 <= (parse_retry_after(future) or 0) <= 5.0
    assert parse_retry_after("soon") is None
    assert policy.delay(2, "soon") == 1.0
