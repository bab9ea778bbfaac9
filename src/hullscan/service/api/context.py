"""What every endpoint works with: the service, the job queue and who hears of changed
results; kept on the application's state and handed out as a dependency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import Depends, Request

from hullscan.service.operations import ResultChange, Service
from hullscan.service.queue import JobQueue


class ChangeListener(Protocol):
    """Hears of a digest whose stored results a request recomputed and found changed
    (``functools.partial(hullscan.service.rematch.notify_change, service)`` fits)."""

    def __call__(self, change: ResultChange, *, policy_id: str | None,
                 database_built_at: str | None) -> object:
        """Act on one change (queue webhooks, say)."""


@dataclass(frozen=True)
class ApiContext:
    """The service behind one API application."""

    service: Service
    queue: JobQueue
    on_change: ChangeListener | None = None
    """Told when a request recomputes a digest's stored results and they changed (the
    scheduler, finding them current, would not notify that change)."""


def api_context(request: Request) -> ApiContext:
    """The application's context."""
    context = request.app.state.hullscan
    assert isinstance(context, ApiContext)
    return context


Context = Annotated[ApiContext, Depends(api_context)]
"""An endpoint parameter receiving the :class:`ApiContext`."""
