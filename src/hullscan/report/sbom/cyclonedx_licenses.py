"""A package's licence texts as CycloneDX licence entries, decided as cyclonedx-python-lib does.

A package with one licence text gets what ``LicenseFactory.make_from_string`` makes of it: an
SPDX id when the text is one in any letter case (written in its canonical case), else an SPDX
expression when ``license-expression`` validates it as one (the text as given), else a name.
With several texts, each is an SPDX id or a name (a document may not mix an expression with
other licences). Both CycloneDX writers use this; a test holds it to the library's factory.

The SPDX ids are read from the same list the library ships (a data file, so the library itself
is not imported); ``license-expression`` is loaded only when a text needs validating.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

SPDX_IDS_RESOURCE = ("schema", "_res", "spdx.SNAPSHOT.schema.json")
"""Where cyclonedx-python-lib keeps its SPDX licence id list, inside its package folder."""


class LicenseKind(Enum):
    """How a licence entry is written."""

    SPDX_ID = "id"
    """``{"license": {"id": ...}}``."""
    NAME = "name"
    """``{"license": {"name": ...}}``."""
    EXPRESSION = "expression"
    """``{"expression": ...}``."""


@dataclass(frozen=True)
class LicenseEntry:
    """One CycloneDX licence entry of a component."""

    kind: LicenseKind
    value: str
    """The SPDX id (canonical case), the licence name or the expression."""


def license_entries(texts: tuple[str, ...]) -> list[LicenseEntry]:
    """A package's licence texts as entries, in the package's order (duplicates kept)."""
    if len(texts) == 1:
        text = texts[0]
        if (spdx_id := spdx_license_id(text)) is not None:
            return [LicenseEntry(LicenseKind.SPDX_ID, spdx_id)]
        if is_spdx_expression(text):
            return [LicenseEntry(LicenseKind.EXPRESSION, text)]
        return [LicenseEntry(LicenseKind.NAME, text)]
    return [LicenseEntry(LicenseKind.SPDX_ID, spdx_id)
            if (spdx_id := spdx_license_id(text)) is not None
            else LicenseEntry(LicenseKind.NAME, text) for text in texts]


def spdx_license_id(text: str) -> str | None:
    """The SPDX licence id ``text`` names, in its canonical case (as the library's ``fixup_id``)."""
    return _spdx_ids_by_lower_case().get(text.lower())


@cache
def is_spdx_expression(text: str) -> bool:
    """Whether ``license-expression`` validates ``text`` without errors (as the library's
    ``is_expression``: any exception inside the validator means no)."""
    try:
        return not _spdx_licensing().validate(text).errors
    except Exception:
        return False


@cache
def _spdx_ids_by_lower_case() -> dict[str, str]:
    spec = importlib.util.find_spec("cyclonedx")
    assert spec is not None and spec.submodule_search_locations is not None
    path = Path(next(iter(spec.submodule_search_locations)), *SPDX_IDS_RESOURCE)
    ids: list[str] = json.loads(path.read_text())["enum"]
    return {spdx_id.lower(): spdx_id for spdx_id in ids}


@cache
def _spdx_licensing() -> Any:
    from license_expression import get_spdx_licensing  # type: ignore[import-untyped,unused-ignore]

    return get_spdx_licensing()


__all__ = ["LicenseEntry", "LicenseKind", "is_spdx_expression", "license_entries",
           "spdx_license_id"]
