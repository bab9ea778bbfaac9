"""Suppressing findings: ignore rules with reasons and expiry, and OpenVEX statements.

Suppressed findings are returned beside the kept ones with the reason, never dropped; rules
past their expiry stop applying and are reported.
"""

from __future__ import annotations

import datetime
import fnmatch
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from packageurl import PackageURL

from hullscan.checks.finding import CheckFinding
from hullscan.errors import CorruptContentError, ImageNotFoundError
from hullscan.vuln.finding import Finding, FixState

CONFIG_NAME = ".hullscan.yaml"


@dataclass(frozen=True)
class IgnoreRule:
    """One ``ignore`` entry of the configuration file; unset fields match anything."""

    reason: str
    origin: str
    """``FILE#N`` for messages."""
    vulnerability: str | None = None
    """Id or alias, glob allowed (``CVE-2023-*``)."""
    name: str | None = None
    version: str | None = None
    type: str | None = None
    purl: str | None = None
    """A purl prefix or glob."""
    path: str | None = None
    """A glob over the package's locations."""
    fix_state: FixState | None = None
    expires: datetime.date | None = None

    def matches(self, finding: Finding) -> bool:
        """True when every field given matches the finding."""
        package = finding.package
        ids = (finding.id, *finding.aliases)
        return all((
            self.vulnerability is None
            or any(fnmatch.fnmatchcase(i, self.vulnerability) for i in ids),
            self.name is None or fnmatch.fnmatchcase(package.name, self.name),
            self.version is None or package.version == self.version,
            self.type is None or package.type == self.type,
            self.purl is None or package.purl.startswith(self.purl)
            or fnmatch.fnmatchcase(package.purl, self.purl),
            self.path is None or any(fnmatch.fnmatchcase(f"/{location.lstrip('/')}",
                                                         f"/{self.path.lstrip('/')}")
                                     for location in package.locations),
            self.fix_state is None or finding.fix_state is self.fix_state,
        ))


@dataclass(frozen=True)
class VexStatement:
    """One OpenVEX statement, reduced to what matching needs."""

    vulnerability: tuple[str, ...]
    """The name and aliases."""
    products: tuple[PackageURL, ...]
    """Package products, or the subcomponents of an image product."""
    status: str
    justification: str | None
    origin: str


@dataclass(frozen=True)
class Suppression:
    """A finding set aside, and why."""

    finding: Finding
    reason: str
    by: str


@dataclass(frozen=True)
class SuppressionResult:
    """Findings kept and suppressed, and the rules that have expired."""

    kept: tuple[Finding, ...]
    suppressed: tuple[Suppression, ...]
    expired: tuple[IgnoreRule, ...]


_SUPPRESSING_STATUSES = frozenset({"not_affected", "fixed"})
_STATUSES = _SUPPRESSING_STATUSES | {"affected", "under_investigation"}
_RULE_KEYS = {"vulnerability", "package", "fix-state", "reason", "expires"}
"""An ignore rule's keys; ``vulnerability`` also matches check rule ids (``HS-*``)."""
_PACKAGE_KEYS = {"name", "version", "type", "purl", "path"}


def read_config(path: Path) -> dict[str, Any]:
    """The configuration file's mapping (``ignore:`` rules, ``secrets:`` settings)."""
    subject = str(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ImageNotFoundError("no such configuration file", subject=subject) from error
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise CorruptContentError(f"not a readable YAML file ({error})", subject=subject) \
            from error
    if document is None:
        return {}
    if not isinstance(document, dict) or not isinstance(document.get("ignore", []), list):
        raise CorruptContentError("expected a mapping with an 'ignore' list", subject=subject)
    return document


def load_ignore_rules(path: Path) -> list[IgnoreRule]:
    """The ``ignore`` rules of a configuration file (every rule needs a ``reason``)."""
    return ignore_rules(read_config(path), path)


def ignore_rules(document: Mapping[str, Any], path: Path) -> list[IgnoreRule]:
    """The ``ignore`` rules of an already read configuration mapping."""
    return [_rule(item, f"{path}#{index + 1}") for index, item in
            enumerate(document.get("ignore") or [])]


def _rule(item: object, origin: str) -> IgnoreRule:
    if not isinstance(item, dict):
        raise CorruptContentError("an ignore rule must be a mapping", subject=origin)
    unknown = set(item) - _RULE_KEYS
    if unknown:
        raise CorruptContentError(f"unknown keys {sorted(unknown)}", subject=origin)
    reason = item.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise CorruptContentError("every ignore rule needs a reason", subject=origin)
    package = item.get("package") or {}
    if not isinstance(package, dict) or set(package) - _PACKAGE_KEYS:
        raise CorruptContentError(f"package takes {sorted(_PACKAGE_KEYS)}", subject=origin)
    expires = item.get("expires")
    if isinstance(expires, str):
        try:
            expires = datetime.date.fromisoformat(expires)
        except ValueError as error:
            raise CorruptContentError(f"expires is not a date: {expires!r}",
                                      subject=origin) from error
    if expires is not None and not isinstance(expires, datetime.date):
        raise CorruptContentError("expires must be a date (YYYY-MM-DD)", subject=origin)
    fix_state = item.get("fix-state")
    try:
        state = FixState(fix_state) if fix_state is not None else None
    except ValueError as error:
        raise CorruptContentError(f"fix-state must be one of {[s.value for s in FixState]}",
                                  subject=origin) from error
    return IgnoreRule(
        reason=reason.strip(), origin=origin,
        vulnerability=_optional_text(item.get("vulnerability")),
        name=_optional_text(package.get("name")), version=_optional_text(package.get("version")),
        type=_optional_text(package.get("type")), purl=_optional_text(package.get("purl")),
        path=_optional_text(package.get("path")), fix_state=state, expires=expires)


def _optional_text(value: object) -> str | None:
    return None if value is None else str(value)


def load_vex(path: Path) -> list[VexStatement]:
    """The statements of an OpenVEX document, ordered by time as the spec requires."""
    subject = str(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ImageNotFoundError("no such VEX document", subject=subject) from error
    except (OSError, ValueError) as error:
        raise CorruptContentError(f"not a readable JSON document ({error})",
                                  subject=subject) from error
    if not isinstance(document, dict) or not str(document.get("@context", "")).startswith(
            "https://openvex.dev/ns") or not isinstance(document.get("statements"), list):
        raise CorruptContentError("not an OpenVEX document (@context, statements)",
                                  subject=subject)
    default_time = str(document.get("timestamp") or "")
    statements = []
    for index, item in enumerate(document["statements"]):
        origin = f"{path}#statement {index + 1}"
        if not isinstance(item, dict):
            raise CorruptContentError("a statement must be an object", subject=origin)
        statements.append((str(item.get("timestamp") or default_time), index,
                           _statement(item, origin)))
    return [statement for _, _, statement in sorted(statements, key=lambda s: (s[0], s[1]))]


def _statement(item: dict[str, Any], origin: str) -> VexStatement:
    status = item.get("status")
    if status not in _STATUSES:
        raise CorruptContentError(f"unknown status {status!r}", subject=origin)
    vulnerability = item.get("vulnerability")
    names: list[str] = []
    if isinstance(vulnerability, dict):
        names += [str(v) for v in (vulnerability.get("name"), vulnerability.get("@id")) if v]
        names += [str(a) for a in vulnerability.get("aliases") or []]
    elif isinstance(vulnerability, str):
        names.append(vulnerability)
    if not names:
        raise CorruptContentError("statement names no vulnerability", subject=origin)
    products: list[PackageURL] = []
    for product in item.get("products") or []:
        if not isinstance(product, dict):
            continue
        inner = [c for c in product.get("subcomponents") or [] if isinstance(c, dict)]
        for component in inner or [product]:
            if (purl := _component_purl(component)) is not None:
                products.append(purl)
    return VexStatement(tuple(names), tuple(products), str(status),
                        _optional_text(item.get("justification")), origin)


def _component_purl(component: Mapping[str, Any]) -> PackageURL | None:
    identifiers = component.get("identifiers")
    candidates = [component.get("@id")]
    if isinstance(identifiers, dict):
        candidates.insert(0, identifiers.get("purl"))
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.startswith("pkg:"):
            try:
                purl = PackageURL.from_string(candidate)
            except ValueError:
                continue
            if purl.type != "oci":  # an image product without subcomponents names no package
                return purl
    return None


def _purl_matches(statement_purl: PackageURL, package_purl: str) -> bool:
    try:
        package = PackageURL.from_string(package_purl)
    except ValueError:
        return False
    if (statement_purl.type, statement_purl.namespace, statement_purl.name) != (
            package.type, package.namespace, package.name):
        return False
    if statement_purl.version and statement_purl.version != package.version:
        return False
    wanted = statement_purl.qualifiers or {}
    have = package.qualifiers or {}
    assert isinstance(wanted, dict) and isinstance(have, dict)
    return all(have.get(key) == value for key, value in wanted.items())


def apply_suppressions(findings: Iterable[Finding], rules: Sequence[IgnoreRule],
                       statements: Sequence[VexStatement], today: datetime.date
                       ) -> SuppressionResult:
    """Split findings into kept and suppressed; the last matching VEX statement decides."""
    live = [rule for rule in rules if rule.expires is None or rule.expires >= today]
    expired = tuple(rule for rule in rules if rule not in live)
    kept: list[Finding] = []
    suppressed: list[Suppression] = []
    for finding in findings:
        ids = {finding.id, *finding.aliases}
        decisive = None
        for statement in statements:
            if ids & set(statement.vulnerability) and any(
                    _purl_matches(p, finding.package.purl) for p in statement.products):
                decisive = statement
        if decisive is not None and decisive.status in _SUPPRESSING_STATUSES:
            why = decisive.status + (f": {decisive.justification}"
                                     if decisive.justification else "")
            suppressed.append(Suppression(finding, f"VEX {why}", decisive.origin))
            continue
        rule = next((r for r in live if r.matches(finding)), None)
        if rule is not None:
            suppressed.append(Suppression(finding, rule.reason, rule.origin))
            continue
        kept.append(finding)
    return SuppressionResult(tuple(kept), tuple(suppressed), expired)


@dataclass(frozen=True)
class CheckSuppression:
    """A check finding set aside by an ignore rule."""

    finding: CheckFinding
    reason: str
    by: str


def apply_check_suppressions(found: Iterable[CheckFinding], rules: Sequence[IgnoreRule],
                             today: datetime.date
                             ) -> tuple[list[CheckFinding], list[CheckSuppression]]:
    """Ignore rules for check findings: ``vulnerability`` matches the rule id (globs) and
    ``package.path`` the file; rules naming package fields a check has not never match."""
    live = [rule for rule in rules if rule.expires is None or rule.expires >= today]
    kept: list[CheckFinding] = []
    suppressed: list[CheckSuppression] = []
    for finding in found:
        rule = next((r for r in live if _matches_check(r, finding)), None)
        if rule is None:
            kept.append(finding)
        else:
            suppressed.append(CheckSuppression(finding, rule.reason, rule.origin))
    return kept, suppressed


def _matches_check(rule: IgnoreRule, finding: CheckFinding) -> bool:
    if any(value is not None for value in (rule.name, rule.version, rule.type, rule.purl,
                                           rule.fix_state)):
        return False
    if rule.vulnerability is None and rule.path is None:
        return False
    return (rule.vulnerability is None
            or fnmatch.fnmatchcase(finding.rule_id, rule.vulnerability)) and (
        rule.path is None or (finding.path is not None and fnmatch.fnmatchcase(
            f"/{finding.path.lstrip('/')}", f"/{rule.path.lstrip('/')}")))
