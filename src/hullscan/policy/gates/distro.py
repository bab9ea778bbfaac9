"""The ``distro`` gate: end of security support, and distribution releases a policy denies.

End-of-support dates come from ``distro-info-data``
(:func:`hullscan.catalog.distro_support.with_support_status`), which covers Debian and Ubuntu.
"""

from __future__ import annotations

import datetime
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from hullscan.catalog.distro_support import with_support_status
from hullscan.image.distro import Distro
from hullscan.policy.context import EvaluationContext
from hullscan.policy.gates.base import COMPARISONS, Fire, Gate, Param, ParamKind, Trigger

_Release = tuple[int, ...]
_OPERATORS: dict[str, Callable[[_Release, _Release], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge}
"""The :data:`COMPARISONS` on release tuples."""


def _end_of_life(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    distro = with_support_status(context.catalog.distro, context.today)
    if distro is None or distro.support_ends is None:
        if params["fire_on_unknown"] and (distro is None or distro.end_of_life is None):
            what = f"{distro}" if distro else "the image's distribution (none detected)"
            yield Fire("end_of_life", f"no end-of-support data covers {what}",
                       finding_id=distro.id if distro else None)
        return
    ends = datetime.date.fromisoformat(distro.support_ends)
    if ends - datetime.timedelta(days=params["days_before"]) < context.today:
        verb = "ended" if ends < context.today else "ends"
        yield Fire("end_of_life", f"security support for {distro} {verb} on {ends}",
                   finding_id=f"{distro.id}:{distro.version_id or distro.codename}",
                   details={"support_ends": distro.support_ends,
                            "end_of_life": bool(distro.end_of_life)})


def _release(text: str) -> tuple[int, ...]:
    """The numeric parts of a release (``3.18.4`` -> ``(3, 18, 4)``; ``sid`` -> ``()``)."""
    return tuple(int(part) for part in re.findall(r"\d+", text))


def _version_holds(distro: Distro, check: str, wanted: str) -> bool:
    """``distro``'s release ``check`` ``wanted``, on as many parts as ``wanted`` gives."""
    have, want = _release(distro.version_id or ""), _release(wanted)
    if not have or not want:
        text = (distro.version_id or distro.codename or "").lower()
        return check in ("=", "!=") and (text == wanted.lower()) == (check == "=")
    return _OPERATORS[check](have[:len(want)], want)


def _deny(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    distro = context.catalog.distro
    if distro is None or distro.id.lower() != params["distro"].strip().lower():
        return
    version = params.get("version")
    if version is not None and not _version_holds(distro, params["check"], version):
        return
    condition = f" (version {params['check']} {version})" if version is not None else ""
    yield Fire(f"{distro.id}:{distro.version_id or ''}",
               f"the image is based on {distro}, which the policy denies{condition}",
               finding_id=distro.id)


GATE = Gate(
    name="distro",
    description="The image's distribution release: end of free security support, and "
                "releases a policy does not accept.",
    triggers=(
        Trigger("end_of_life", "Fires when the distribution release's free security support "
                "(Debian LTS, Ubuntu standard support) has ended, per distro-info-data.",
                (Param("days_before", ParamKind.INTEGER, "Also fire this many days before "
                       "support ends.", default=0, minimum=0),
                 Param("fire_on_unknown", ParamKind.BOOLEAN, "Also fire when no data covers "
                       "the release (distributions other than Debian and Ubuntu, unknown "
                       "releases, no distribution detected).", default=False)),
                _end_of_life),
        Trigger("deny", "Fires when the image's distribution is the given one and (when a "
                "version is given) its release satisfies the check. Releases compare "
                "numerically on as many parts as the version gives (alpine 3.18.4 = 3.18).",
                (Param("distro", ParamKind.STRING, "Distribution id as in os-release "
                       "(debian, ubuntu, alpine, rhel), case-insensitive.", required=True),
                 Param("version", ParamKind.STRING, "Release to compare with (12, 3.18); "
                       "without it every release of the distribution fires."),
                 Param("check", ParamKind.ENUM, "How the image's release compares with "
                       "version (image's <op> version).", default="=", choices=COMPARISONS)),
                _deny),
    ),
)
