"""When and how long to wait before trying a registry request again."""

from __future__ import annotations

import time
from dataclasses import dataclass

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff, honouring ``Retry-After`` up to ``max_delay`` seconds."""

    attempts: int = 6
    """Tries in all, the first included."""
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        if retry_after is not None and (seconds := parse_retry_after(retry_after)) is not None:
            return min(max(seconds, 0.0), self.max_delay)
        return float(min(self.base_delay * 2 ** (attempt - 1), self.max_delay))


def parse_retry_after(value: str) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    import email.utils  # 4 ms that local sources never need

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)
