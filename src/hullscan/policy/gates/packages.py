"""The ``packages`` gate: required and denied packages, and modified OS package files.

Versions are compared with the version scheme of each package's type (``deb`` -> dpkg,
``pypi`` -> PEP 440, ...), as the vulnerability matcher does.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from hullscan.catalog.package import Package
from hullscan.checks.finding import CheckFinding
from hullscan.policy.context import EvaluationContext
from hullscan.policy.gates.base import Fire, Gate, Param, ParamKind, Trigger
from hullscan.versions import InvalidVersionError, compare
from hullscan.vuln.cpe import scheme_of

_MODIFIED_RULE = "HS-FILE-PKG-MODIFIED"
_EVIDENCE = re.compile(r"package (?P<package>\S+?): (?P<problem>.+)")


def _version_order(package: Package, wanted: str) -> int | None:
    """``package.version`` compared with ``wanted`` (negative, 0, positive); None: unparsable."""
    if package.version == wanted:
        return 0
    try:
        return compare(scheme_of(package.type), package.version, wanted)
    except (InvalidVersionError, ValueError):
        return None


_VERSION_MATCHES: dict[str, Callable[[int | None], bool]] = {
    "exact": lambda order: order == 0,
    "minimum": lambda order: order is not None and order >= 0,
}


def _describe(package: Package) -> str:
    return f"{package.name} {package.version} ({package.type})"


def _required_package(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    name, version = params["name"], params.get("version")
    found = [p for p in context.catalog.packages if p.name == name]
    if not found:
        yield Fire(name, f"required package {name} is not installed", finding_id=name)
        return
    if version is None:
        return
    matches = _VERSION_MATCHES[params["version_match_type"]]
    if any(matches(_version_order(p, version)) for p in found):
        return
    wanted = version if params["version_match_type"] == "exact" else f"{version} or newer"
    have = ", ".join(sorted({p.version for p in found}))
    yield Fire(name, f"required package {name} {wanted} is not installed (found {have})",
               layer=found[0].layer, package=_describe(found[0]), finding_id=name)


def _denylist(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    pattern, version = params["name"], params.get("version")
    for package in context.catalog.packages:
        if not fnmatch.fnmatchcase(package.name, pattern):
            continue
        if version is not None and _version_order(package, version) != 0:
            continue
        yield Fire(package.name, f"denied package {_describe(package)} is installed",
                   layer=package.layer, package=_describe(package),
                   path=package.locations[0] if package.locations else None,
                   finding_id=package.name)


def _problem_kind(finding: CheckFinding) -> str:
    """``changed`` or ``missing``, from the files check's evidence."""
    match = _EVIDENCE.fullmatch(finding.evidence or "")
    problem = match.group("problem") if match else ""
    return "missing" if "missing" in problem else "changed"


def _owner(finding: CheckFinding) -> str:
    """The dpkg package the file belongs to, without an ``:arch`` qualifier."""
    match = _EVIDENCE.fullmatch(finding.evidence or "")
    return match.group("package").partition(":")[0] if match else "unknown"


def _under(path: str, directories: tuple[str, ...]) -> bool:
    prefixes = [d.strip("/") for d in directories]
    return any(not p or path == p or path.startswith(f"{p}/") for p in prefixes)


_CHECKS = {"changed": frozenset({"changed"}), "missing": frozenset({"missing"}),
           "all": frozenset({"changed", "missing"})}


def _verify(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    kinds = _CHECKS[params["check"]]
    for finding in context.checks:
        if finding.rule_id != _MODIFIED_RULE or _problem_kind(finding) not in kinds:
            continue
        owner, path = _owner(finding), finding.path or ""
        if "only_packages" in params and owner not in params["only_packages"]:
            continue
        if "only_directories" in params and not _under(path, params["only_directories"]):
            continue
        yield Fire(f"{owner}+{path}", f"file /{path} of package {owner} was "
                                      f"{_problem_kind(finding)} after installation",
                   layer=finding.layer, severity=finding.severity, path=path or None,
                   package=owner, finding_id=finding.rule_id,
                   details={"evidence": finding.evidence})


GATE = Gate(
    name="packages",
    description="Packages the image must or must not contain, and OS package files changed "
                "after installation.",
    triggers=(
        Trigger("required_package", "Fires when no package has the given name or, with a "
                "version, none has a matching version (compared with the package type's "
                "version scheme).",
                (Param("name", ParamKind.STRING, "Exact package name.", required=True),
                 Param("version", ParamKind.STRING, "Version required (optional)."),
                 Param("version_match_type", ParamKind.ENUM, "exact: the version must be equal; "
                       "minimum: the version or any newer one.", default="exact",
                       choices=tuple(_VERSION_MATCHES))),
                _required_package),
        Trigger("denylist", "Fires for each installed package with the given name (and "
                "version, when given).",
                (Param("name", ParamKind.STRING, "Package name; globs allowed (libssl*).",
                       required=True),
                 Param("version", ParamKind.STRING, "Only this exact version (optional; "
                       "compared with the package type's version scheme).")),
                _denylist),
        Trigger("verify", "Fires for each file of a Debian package whose contents no longer "
                "match the package's md5sums list (the HS-FILE-PKG-MODIFIED file check, which "
                "must have run). Only Debian packages' executables and libraries are "
                "verified.",
                (Param("only_packages", ParamKind.LIST, "Only files of these packages "
                       "(Debian binary package names)."),
                 Param("only_directories", ParamKind.LIST, "Only files under these directory "
                       "prefixes (/usr/bin, etc)."),
                 Param("check", ParamKind.ENUM, "changed: content differs from the package's "
                       "checksum; missing: packaged file removed; all: both. The files check "
                       "currently reports only changed files, so missing never fires.",
                       default="all", choices=tuple(_CHECKS))),
                _verify),
    ),
)
