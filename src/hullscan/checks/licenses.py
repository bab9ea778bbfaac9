"""License strings from package metadata, normalised to SPDX expressions.

``normalise_license`` parses with the SPDX licensing of ``license-expression`` (which knows
SPDX ids, their common aliases and case variants: ``mit`` -> ``MIT``, ``GPL-2.0+`` ->
``GPL-2.0-or-later``). What it cannot map is kept, never dropped or guessed:

* an expression that parses but names unknown licenses keeps its structure, each unknown
  symbol becoming ``LicenseRef-<name>`` (a ``+`` written ``-or-later``, other characters
  outside ``[A-Za-z0-9.-]`` turned into ``-``): ``MIT OR Foo_Bar`` ->
  ``MIT OR LicenseRef-Foo-Bar``, ``GPLv2+`` -> ``LicenseRef-GPLv2-or-later``;
* free text that does not parse as an expression at all (``GPL version 2 or later``)
  becomes a single ``LicenseRef-`` of the whole text;
* symbols already written ``LicenseRef-...`` or ``DocumentRef-...`` stay as they are.
"""

from __future__ import annotations

import functools
import re

from license_expression import (  # type: ignore[import-untyped,unused-ignore]
    ExpressionError,
    LicenseSymbol,
    Licensing,
    get_spdx_licensing,
)

from hullscan.catalog.package import Package


@functools.cache
def _licensing() -> Licensing:
    """The SPDX licence table (built on first use: it takes 0.1 s, and warm scans that read
    no licence never need it)."""
    return get_spdx_licensing()
_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]+")


def _license_ref(text: str) -> str:
    if text.startswith(("LicenseRef-", "DocumentRef-")):
        return text
    cleaned = _UNSAFE.sub("-", text.strip().replace("+", "-or-later")).strip("-")
    return f"LicenseRef-{cleaned or 'unknown'}"


def normalise_license(text: str) -> str:
    """``text`` as an SPDX expression; unknown licenses become ``LicenseRef-...`` (see module)."""
    stripped = " ".join(text.split())
    if not stripped:
        return ""
    try:
        expression = _licensing().parse(stripped)
    except ExpressionError:
        return _license_ref(stripped)
    if expression is None:
        return ""
    unknown = set(_licensing().unknown_license_keys(expression))
    if not unknown:
        return str(expression.render())
    mapping = {symbol: LicenseSymbol(_license_ref(str(symbol.key)))
               for symbol in _licensing().license_symbols(expression, decompose=True)
               if symbol.key in unknown}
    return str(expression.subs(mapping).render()) if mapping else str(expression.render())


def license_expressions(package: Package) -> tuple[str, ...]:
    """The package's declared licenses, normalised, without blanks or duplicates (in order)."""
    seen: dict[str, None] = {}
    for text in package.licenses:
        normalised = normalise_license(text)
        if normalised:
            seen.setdefault(normalised, None)
    return tuple(seen)
