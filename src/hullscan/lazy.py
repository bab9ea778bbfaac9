"""Functions imported on their first call, for registries that are cheap to list but whose
entries' modules are costly to import (report renderers, cataloguer parsers): a command pays
only for what it runs."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_function(module: str, name: str) -> Callable[..., Any]:
    """``module.name``, imported when first called; its ``__qualname__`` is the dotted path."""
    loaded: list[Callable[..., Any]] = []

    def call(*args: Any, **kwargs: Any) -> Any:
        if not loaded:
            loaded.append(getattr(importlib.import_module(module), name))
        return loaded[0](*args, **kwargs)
    call.__qualname__ = call.__name__ = f"{module}.{name}"
    return call
