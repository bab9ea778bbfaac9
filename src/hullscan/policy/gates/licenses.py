"""The ``licenses`` gate: packages whose declared licenses a policy denies or does not allow.

Licenses are normalised to SPDX expressions (:func:`hullscan.checks.licenses.normalise_license`)
and read as choices: ``A OR B`` may be used under either, ``A AND B`` needs both. A package's
several declared licenses all apply (as if joined with AND). License exceptions (``WITH
Classpath-exception-2.0``) are ignored when comparing: the license they qualify counts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from license_expression import (  # type: ignore[import-untyped,unused-ignore]
    OR,
    ExpressionError,
    Licensing,
    get_spdx_licensing,
)

from hullscan.catalog.package import Package
from hullscan.checks.licenses import license_expressions, normalise_license
from hullscan.policy.context import EvaluationContext
from hullscan.policy.gates.base import Fire, Gate, Param, ParamKind, Trigger

_Choice = frozenset[str]
_Match = Callable[[str], bool]


@functools.cache
def _licensing() -> Licensing:
    return get_spdx_licensing()


@functools.lru_cache(maxsize=4096)
def _choices(expression: str) -> tuple[_Choice, ...]:
    """Each way of complying with ``expression``: the set of license ids it takes."""
    licensing = _licensing()
    try:
        parsed = licensing.dnf(licensing.parse(expression))
    except ExpressionError:
        return (frozenset({expression}),)
    terms = parsed.args if isinstance(parsed, OR) else (parsed,)
    return tuple(frozenset(str(s.key) for s in licensing.license_symbols(
        term, decompose=True) if not s.is_exception) for term in terms)


def _lower_ids(items: tuple[str, ...]) -> frozenset[str]:
    """The license ids of the listed licenses (normalised to SPDX), in lower case."""
    return frozenset(lic.lower() for item in items
                     for choice in _choices(normalise_license(item) or item) for lic in choice)


def _forced(package: Package, denied: _Match) -> list[str]:
    """Denied licenses the package cannot be used without, in order, once each."""
    found: dict[str, None] = {}
    for expression in license_expressions(package):
        choices = _choices(expression)
        if all(any(denied(lic) for lic in choice) for choice in choices):
            for choice in choices:
                found.update((lic, None) for lic in sorted(choice) if denied(lic))
    return list(found)


def _fire(package: Package, license_id: str, why: str) -> Fire:
    return Fire(f"{license_id}+{package.name}",
                f"{package.name} {package.version} ({package.type}) {why} {license_id}",
                layer=package.layer, package=f"{package.name} {package.version} ({package.type})",
                path=package.locations[0] if package.locations else None,
                finding_id=license_id, details={"licenses": list(license_expressions(package))})


def _denylist(context: EvaluationContext, denied: _Match) -> Iterator[Fire]:
    for package in context.catalog.packages:
        for license_id in _forced(package, denied):
            yield _fire(package, license_id, "is licensed under the denied license")


def _exact(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    wanted = _lower_ids(params["licenses"])
    yield from _denylist(context, lambda lic: lic.lower() in wanted)


def _partial(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    parts = [p.lower() for p in params["licenses"]]
    yield from _denylist(context, lambda lic: any(p in lic.lower() for p in parts))


def _allowlist_only(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    allowed = _lower_ids(params["licenses"])
    for package in context.catalog.packages:
        expressions = license_expressions(package)
        if not expressions:
            if params["fire_on_unknown"]:
                yield _fire(package, "unknown", "declares no license:")
            continue
        outside: dict[str, None] = {}
        for expression in expressions:
            choices = _choices(expression)
            if not any(all(lic.lower() in allowed for lic in c) for c in choices):
                for choice in choices:
                    outside.update((lic, None) for lic in sorted(choice)
                                   if lic.lower() not in allowed)
        for license_id in outside:
            yield _fire(package, license_id, "is licensed under the unlisted license")


def _licenses_param(description: str) -> Param:
    return Param("licenses", ParamKind.LIST, description, required=True)


GATE = Gate(
    name="licenses",
    description="Declared licenses of the image's packages, normalised to SPDX. An A OR B "
                "expression complies if either choice does; A AND B needs both. Trigger ids are "
                "<SPDX license id>+<package name>.",
    triggers=(
        Trigger("denylist_exact_match", "Fires for each package that cannot be used without "
                "one of the listed licenses (so MIT OR GPL-3.0-only does not fire for "
                "GPL-3.0-only: MIT can be chosen).",
                (_licenses_param("SPDX license ids (aliases like GPL-2.0+ are normalised; "
                                 "compared case-insensitively)."),),
                _exact),
        Trigger("denylist_partial_match", "Like denylist_exact_match, with each listed text "
                "matched as a case-insensitive substring of the SPDX id (GPL matches "
                "GPL-2.0-only, LGPL-2.1-or-later and AGPL-3.0-only).",
                (_licenses_param("Substrings of SPDX license ids."),),
                _partial),
        Trigger("allowlist_only", "Fires for each package that cannot be used under the "
                "listed licenses alone, once per license outside the list.",
                (_licenses_param("The allowed SPDX license ids (aliases are normalised)."),
                 Param("fire_on_unknown", ParamKind.BOOLEAN, "Also fire (license 'unknown') "
                       "for packages that declare no license.", default=False)),
                _allowlist_only),
    ),
)
