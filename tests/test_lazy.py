"""Functions imported on first call."""

from __future__ import annotations

import sys

from hullscan.lazy import lazy_function


def test_the_module_is_imported_on_the_first_call_only() -> None:
    sys.modules.pop("colorsys", None)
    to_hls = lazy_function("colorsys", "rgb_to_hls")
    assert "colorsys" not in sys.modules
    assert to_hls.__qualname__ == "colorsys.rgb_to_hls"
    assert to_hls(1.0, 0.0, 0.0) == (0.0, 0.5, 1.0)
    assert "colorsys" in sys.modules
