"""The collector's thresholds while images are analysed, and after."""

from __future__ import annotations

import gc
import threading

from hullscan.collector import THRESHOLD_WHILE_ANALYSING, fewer_collections


def test_thresholds_are_raised_while_analysing_and_restored_after() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == (THRESHOLD_WHILE_ANALYSING, *before[1:])
    assert gc.get_threshold() == before


def test_the_last_of_overlapping_analyses_restores_the_thresholds() -> None:
    before = gc.get_threshold()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[tuple[int, int, int]] = []

    def first() -> None:
        with fewer_collections():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with fewer_collections():
            second_in.set()
            first_out.wait(5)
            seen.append(gc.get_threshold())  # the first has left: still raised

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == [(THRESHOLD_WHILE_ANALYSING, *before[1:])]
    assert gc.get_threshold() == before


def test_an_error_inside_restores_the_thresholds() -> None:
    before = gc.get_threshold()
    try:
        with fewer_collections():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.get_threshold() == before
