"""The ``vulnerabilities`` gate: matched vulnerabilities, denied ids and the data behind them.

Modelled on Anchore Engine's gate of the same name. Every condition of the ``package``
trigger is one entry of :data:`_CONDITIONS`, applied when its parameter is given.
"""

from __future__ import annotations

import datetime
import fnmatch
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from hullscan.catalog.identity import OS_ECOSYSTEMS
from hullscan.policy.context import EvaluationContext
from hullscan.policy.gates.base import COMPARISONS, Fire, Gate, Param, ParamKind, Trigger, compare
from hullscan.vuln.db.namespaces import distro_namespace
from hullscan.vuln.finding import Finding, FixState

_Condition = Callable[[EvaluationContext, Mapping[str, Any], Finding], bool]


def _instant(text: str | None) -> datetime.datetime | None:
    """An ISO date or timestamp as an aware datetime (naive ones are UTC); None if unreadable."""
    if not text:
        return None
    try:
        value = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def _days_since(context: EvaluationContext, text: str | None) -> int | None:
    instant = _instant(text)
    return None if instant is None else (context.now - instant).days


def _cvss_v3(finding: Finding) -> float | None:
    """The CVSS base score when it comes from a v3.x vector."""
    vector = finding.cvss_vector or ""
    return finding.cvss_score if vector.startswith("CVSS:3") else None


def _fix_known_since(finding: Finding) -> str | None:
    """When the fix was published; findings carry no such date yet, so always unknown."""
    return None


def _fixed(finding: Finding) -> bool:
    return bool(finding.fix_versions) or finding.fix_state is FixState.FIXED


def _compared(value: float | None, operator: str, wanted: float) -> bool:
    return value is not None and compare(value, operator, wanted)


def _package_type(context: EvaluationContext, params: Mapping[str, Any],
                  finding: Finding) -> bool:
    wanted: str = params["package_type"]
    return wanted == "all" or (finding.package.type in OS_ECOSYSTEMS) == (wanted == "os")


def _older_than(days: int | None, minimum: int) -> bool:
    return days is not None and days >= minimum


def _path_excluded(params: Mapping[str, Any], finding: Finding) -> bool:
    return any(params["package_path_exclude"].search(p) for p in finding.package.locations)


def _inherited(context: EvaluationContext, params: Mapping[str, Any], finding: Finding) -> bool:
    from_base = context.from_base_image(finding.package.layer)
    return from_base is not None and from_base == params["inherited_from_base"]


_CONDITIONS: dict[str, _Condition] = {
    "package_type": _package_type,
    "severity": lambda c, p, f: compare(f.severity, p["severity_comparison"], p["severity"]),
    "cvss_v3_base_score": lambda c, p, f: _compared(
        _cvss_v3(f), p["cvss_v3_base_score_comparison"], p["cvss_v3_base_score"]),
    "fix_available": lambda c, p, f: _fixed(f) == p["fix_available"],
    "vendor_only": lambda c, p, f: not p["vendor_only"] or f.fix_state is not FixState.WONT_FIX,
    "max_days_since_creation": lambda c, p, f: _older_than(
        _days_since(c, f.published), p["max_days_since_creation"]),
    "max_days_since_fix": lambda c, p, f: _older_than(
        _days_since(c, _fix_known_since(f)), p["max_days_since_fix"]),
    "epss_score": lambda c, p, f: _compared(
        f.epss_score, p["epss_score_comparison"], p["epss_score"]),
    "epss_percentile": lambda c, p, f: _compared(
        f.epss_percentile, p["epss_percentile_comparison"], p["epss_percentile"]),
    "in_kev": lambda c, p, f: f.kev == p["in_kev"],
    "package_path_exclude": lambda c, p, f: not _path_excluded(p, f),
    "inherited_from_base": _inherited,
}
"""Parameter name -> the condition it imposes (all given ones must hold)."""


def _fix_text(finding: Finding) -> str:
    if finding.fix_versions:
        return f"fixed in {', '.join(finding.fix_versions)}"
    return {FixState.WONT_FIX: "won't be fixed", FixState.NOT_FIXED: "no fix yet"}.get(
        finding.fix_state, "fix status unknown")


def _fire(finding: Finding) -> Fire:
    package = finding.package
    parts = [f"{finding.severity.name.lower()} {finding.id} in {package.name} "
             f"{package.version} ({package.type}), {_fix_text(finding)}"]
    if finding.cvss_score is not None:
        parts.append(f"CVSS {finding.cvss_score:g}")
    if finding.epss_score is not None:
        parts.append(f"EPSS {finding.epss_score:.2f}")
    if finding.kev:
        parts.append("in KEV")
    return Fire(
        trigger_id=f"{finding.id}+{package.name}", message="; ".join(parts),
        layer=package.layer, severity=finding.severity,
        package=f"{package.name} {package.version} ({package.type})",
        path=package.locations[0] if package.locations else None, finding_id=finding.id,
        details={"cvss_score": finding.cvss_score, "cvss_vector": finding.cvss_vector,
                 "epss_score": finding.epss_score, "epss_percentile": finding.epss_percentile,
                 "kev": finding.kev, "fix_versions": list(finding.fix_versions),
                 "fix_state": finding.fix_state.value, "aliases": list(finding.aliases),
                 "published": finding.published, "namespace": finding.namespace})


def _package(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    conditions = [check for name, check in _CONDITIONS.items() if name in params]
    for finding in context.vulnerabilities or ():
        if all(check(context, params, finding) for check in conditions):
            yield _fire(finding)


def _stale_feed_data(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    if context.database is None:
        return
    built = context.database.built_at
    limit = params["max_days_since_sync"]
    if built is None:
        yield Fire("stale_feed_data", "the vulnerability database does not record when it "
                                      f"was built, so it cannot be shown to be under "
                                      f"{limit} days old")
        return
    built = built if built.tzinfo else built.replace(tzinfo=datetime.UTC)
    age = (context.now - built).days
    if age > limit:
        yield Fire("stale_feed_data", f"the vulnerability database was built {age} days ago "
                                      f"({built:%Y-%m-%d}), more than {limit} days",
                   details={"built_at": built.isoformat(), "age_days": age})


def _unavailable_reason(context: EvaluationContext) -> str | None:
    """Why the image's vulnerabilities are not (fully) known; None when they are."""
    if context.vulnerabilities is None or context.database is None:
        return "vulnerability matching did not run"
    if not any(p.type in OS_ECOSYSTEMS for p in context.catalog.packages):
        return None
    distro = context.catalog.distro
    if distro is None:
        return "the image has OS packages but no distribution was detected"
    namespace = distro_namespace(distro.id, distro.version_id or "")
    if namespace not in context.database.namespaces:
        return f"the vulnerability database has no data for {distro} ({namespace})"
    return None


def _data_unavailable(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    reason = _unavailable_reason(context)
    if reason is not None:
        yield Fire("vulnerability_data_unavailable", reason)


def _denied(finding: Finding, patterns: tuple[str, ...]) -> bool:
    ids = [i.upper() for i in (finding.id, *finding.aliases)]
    return any(fnmatch.fnmatchcase(i, p.upper()) for i in ids for p in patterns)


def _denylist(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    for finding in context.vulnerabilities or ():
        if params["vendor_only"] and finding.fix_state is FixState.WONT_FIX:
            continue
        if _denied(finding, params["vulnerability_ids"]):
            yield _fire(finding)


def _comparison(name: str, what: str) -> Param:
    return Param(name, ParamKind.ENUM, f"How the finding's {what} is compared with the given "
                                       f"value (finding's <op> given).", default=">=",
                 choices=COMPARISONS)


_VENDOR_ONLY = Param("vendor_only", ParamKind.BOOLEAN,
                     "Skip findings the distribution vendor marked won't-fix.", default=True)

_PACKAGE = Trigger(
    "package",
    "Fires for each vulnerability finding meeting every given condition (a rule with no "
    "conditions fires for every finding). Nothing fires when matching did not run.",
    (
        Param("package_type", ParamKind.ENUM, "Which packages: all, os (deb, apk, rpm) or "
              "non-os (language packages).", default="all", choices=("all", "os", "non-os")),
        _comparison("severity_comparison", "severity"),
        Param("severity", ParamKind.SEVERITY, "Severity to compare with (critical, high, "
              "medium, low, negligible, unknown)."),
        _comparison("cvss_v3_base_score_comparison", "CVSS v3 base score"),
        Param("cvss_v3_base_score", ParamKind.NUMBER, "CVSS v3 base score to compare with; "
              "findings without a CVSS v3.x vector do not meet it.", minimum=0, maximum=10),
        Param("fix_available", ParamKind.BOOLEAN, "true: only findings with a fix (a fixed "
              "version, or the fix state is fixed); false: only findings without one."),
        _VENDOR_ONLY,
        Param("max_days_since_creation", ParamKind.INTEGER, "Only vulnerabilities published at "
              "least this many days ago; unknown publication dates do not meet it.", minimum=0),
        Param("max_days_since_fix", ParamKind.INTEGER, "Only vulnerabilities whose fix has "
              "been known for at least this many days. hullscan's data has no fix dates yet: "
              "an unknown date does not meet the condition, so with this set nothing fires.",
              minimum=0),
        _comparison("epss_score_comparison", "EPSS score"),
        Param("epss_score", ParamKind.NUMBER, "EPSS probability (0..1) to compare with; "
              "findings without EPSS data do not meet it.", minimum=0, maximum=1),
        _comparison("epss_percentile_comparison", "EPSS percentile"),
        Param("epss_percentile", ParamKind.NUMBER, "EPSS percentile (0..1) to compare with; "
              "findings without EPSS data do not meet it.", minimum=0, maximum=1),
        Param("in_kev", ParamKind.BOOLEAN, "true: only vulnerabilities in CISA's Known "
              "Exploited Vulnerabilities catalog; false: only those not in it."),
        Param("package_path_exclude", ParamKind.REGEX, "Skip packages with a location "
              "matching this regular expression (searched, paths without leading slash)."),
        Param("inherited_from_base", ParamKind.BOOLEAN, "true: only findings in base-image "
              "layers; false: only in the image's own layers. When the base layer count is "
              "unknown (not detected, no --base-layers) the condition is not met."),
    ),
    _package,
)

GATE = Gate(
    name="vulnerabilities",
    description="Vulnerabilities matched in the image's packages, and whether the "
                "vulnerability data used is present and fresh.",
    triggers=(
        _PACKAGE,
        Trigger("stale_feed_data", "Fires when the vulnerability database was built more "
                "than max_days_since_sync days ago, or does not say when it was built. "
                "Nothing fires when matching did not run (see vulnerability_data_unavailable).",
                (Param("max_days_since_sync", ParamKind.INTEGER, "Maximum age of the database "
                       "in days.", required=True, minimum=0),),
                _stale_feed_data),
        Trigger("vulnerability_data_unavailable", "Fires when vulnerability matching did not "
                "run, or the image has OS packages and the database has no data for its "
                "distribution release (or no distribution was detected).", (),
                _data_unavailable),
        Trigger("denylist", "Fires for each finding whose id or any alias matches one of "
                "the listed ids.",
                (Param("vulnerability_ids", ParamKind.LIST, "Vulnerability ids (CVE, GHSA, "
                       "DSA, ...); globs allowed (CVE-2021-44*), case-insensitive.",
                       required=True),
                 _VENDOR_ONLY),
                _denylist),
    ),
)
