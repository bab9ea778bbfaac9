"""Tables of the web dashboard: one fleet snapshot per day, so the overview can draw a trend
(the service itself keeps only each digest's latest results)."""

from __future__ import annotations

import datetime

from sqlalchemy import Date, Integer
from sqlalchemy.orm import Mapped, mapped_column

from hullscan.service.store.models import Base, utcnow


class FleetSnapshot(Base):
    """The fleet's verdicts and severe vulnerabilities as last seen on one day (UTC).

    Written by the dashboard when its overview is rendered, so days nobody looked at have
    no row: the trend shows gaps rather than invented points."""

    __tablename__ = "fleet_snapshot"

    day: Mapped[datetime.date] = mapped_column(Date, primary_key=True)
    recorded_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    """When this day's row was last overwritten (the values are as of then)."""
    images: Mapped[int] = mapped_column(Integer)
    """Image names with stored results."""
    failing: Mapped[int] = mapped_column(Integer)
    """Image names whose verdict is STOP."""
    warning: Mapped[int] = mapped_column(Integer)
    """Image names whose verdict is WARN."""
    critical: Mapped[int] = mapped_column(Integer)
    """Critical findings over all analysed digests (one per vulnerability and package)."""
    high: Mapped[int] = mapped_column(Integer)
    """High findings over all analysed digests."""
