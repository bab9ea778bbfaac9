"""Config checks: rules over the image config, its build history and (optionally) a Dockerfile.

Every rule is a :class:`ConfigRule` in :data:`RULES`; :func:`check_config` runs them all.
Instruction rules read the history's ``created_by`` strings (Docker classic and BuildKit
forms, see :mod:`.steps`) and, when given, every instruction of the Dockerfile (all stages).

======== ================================================ ======== =========================
Rule     Title                                            Severity Trivy DS ids
======== ================================================ ======== =========================
001      Image runs as root (User unset/root/0)           HIGH     DS002
002      No HEALTHCHECK                                   LOW      DS026
003      Sensitive port exposed (22, 23, 3389, 5900, ...) MEDIUM   DS004 (and more ports)
004      Exposed port out of range                        LOW      DS008
005      ADD fetches a remote URL                         MEDIUM   DS005
006      ADD used where COPY would do                     LOW      DS005
007      sudo in RUN                                      MEDIUM   DS010
008      Remote script piped into a shell (curl|sh)       HIGH     -
009      Both curl and wget in one RUN                    LOW      DS014
010      Package install without cache cleaning           LOW      DS015, DS019, DS020, DS025
011      Package upgrade in build                         LOW      DS024 (and plain upgrade)
012      Package index update alone                       LOW      DS017
013      apt-get install without --no-install-recommends  LOW      DS029
014      chmod to world-writable (777, o+w, ...)          MEDIUM   -
015      RUN cd instead of WORKDIR                        LOW      DS013
016      Deprecated MAINTAINER                            LOW      DS022
017      Package-manager cache left in image (final fs)   LOW      -
018      Image very large (threshold)                     LOW      -
019      Too many layers (threshold)                      LOW      -
======== ================================================ ======== =========================

Trivy rules that do not apply to a built image (they need the Dockerfile's text, which the
history does not keep, or describe a build that could not have succeeded): DS001 (``FROM``
tag: the history has no FROM), DS006 (``COPY --from`` own alias), DS007/DS016/DS023
(several ENTRYPOINT/CMD/HEALTHCHECK: only the last survives in the config), DS009
(relative WORKDIR: the config holds the resolved path), DS011 (COPY to a non-directory
with several sources: the build fails), DS012 (duplicate stage aliases), DS021 (apt-get
without ``-y``: the build fails without it). DS031 (secrets in ENV/ARG) is the secret
scanner's job. Ids not listed here (DS018, DS027, DS028, DS030) were not mapped: their
definitions were not available offline when this table was written. With ``--dockerfile``
the instruction rules run on the Dockerfile too; the Dockerfile-only rules above are not
implemented.
"""

from __future__ import annotations

from pathlib import Path

from hullscan.checks.config.rules import (
    PACKAGE_CACHES,
    RULES,
    SENSITIVE_PORTS,
    ConfigContext,
    ConfigRule,
    Hit,
    Thresholds,
)
from hullscan.checks.config.steps import Step, dockerfile_steps, history_steps, parse_created_by
from hullscan.checks.finding import Category, CheckFinding
from hullscan.image.filesystem import SquashedFilesystem
from hullscan.image.model import ImageMetadata

__all__ = [
    "PACKAGE_CACHES", "RULES", "SENSITIVE_PORTS", "ConfigContext", "ConfigRule", "Hit", "Step",
    "Thresholds", "check_config", "dockerfile_steps", "history_steps", "parse_created_by",
]


def check_config(image: ImageMetadata, filesystem: SquashedFilesystem | None = None,
                 dockerfile: Path | None = None, thresholds: Thresholds | None = None,
                 *, rules: tuple[ConfigRule, ...] = RULES) -> list[CheckFinding]:
    """Run ``rules`` over the image (and Dockerfile); findings in rule order."""
    config = image.config
    steps = history_steps(config) if config is not None else ()
    if dockerfile is not None:
        steps += dockerfile_steps(dockerfile)
    context = ConfigContext(image, config, steps, filesystem, thresholds or Thresholds())
    findings = []
    for rule in rules:
        for hit in rule.check(context):
            findings.append(CheckFinding(
                rule_id=rule.id, title=rule.title, severity=rule.severity,
                category=Category.CONFIG, rationale=rule.rationale,
                remediation=rule.remediation, layer=hit.layer, path=hit.path,
                config_key=hit.config_key, line=hit.line, evidence=hit.evidence))
    return findings
