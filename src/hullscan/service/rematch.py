"""Re-match every stored inventory against a (new) vulnerability database and the active
policy, store the new results and notify the images whose results changed.

Nothing is pulled: each digest's stored inventory is matched again (Clair's "index once,
match often"). The database is opened once and the bundle loaded once for the whole run.

Notifications (see :mod:`hullscan.service.webhooks` for the fields every payload has):

* ``vuln_update`` when a digest gained or lost vulnerabilities: ``added`` / ``removed``
  (sorted vulnerability ids), ``added_findings`` / ``removed_findings`` (``{"id",
  "package", "version"}`` objects) and ``database_built_at``;
* ``policy_eval`` when the final action changed: ``action_before``, ``action_after``,
  ``policy_id`` and ``database_built_at``.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from hullscan.errors import HullscanError
from hullscan.policy.model import Bundle
from hullscan.service.operations import ResultChange, Service
from hullscan.service.sealing import SecretBox
from hullscan.service.store.database import Store
from hullscan.service.store.models import ImageResult, SubscriptionKind
from hullscan.service.webhooks import Notification, enqueue_all, image_names_of
from hullscan.vuln.db.store import VulnerabilityDatabase

LOG = logging.getLogger("hullscan.service.rematch")


def split_key(key: str) -> dict[str, str]:
    """``{"id", "package", "version"}`` of an ``ID+package@version`` result key (the package
    may itself hold ``@``, as npm scopes do; the version never does)."""
    vulnerability, _, rest = key.partition("+")
    package, _, version = rest.rpartition("@")
    return {"id": vulnerability, "package": package, "version": version}


def _ids(keys: Iterable[str]) -> list[str]:
    return sorted({split_key(key)["id"] for key in keys})


def rematch_all(service: Service, database_path: Path | None = None, *,
                bundle: Bundle | None = None, digests: Sequence[str] | None = None,
                notify: bool = True, workers: int = 1) -> list[ResultChange]:
    """Recompute the results of every analysed digest (or of ``digests``) with the database
    at ``database_path`` (default the service's) and ``bundle`` (default the active one);
    queue notifications for the changes when ``notify``. Returns only the changes
    (digests whose vulnerabilities or verdict changed), in digest order.

    ``workers`` > 1 spreads the digests over that many processes (each opens the store and
    the database once): reading inventories and matching are CPU-bound Python, so threads
    would not help.

    A digest without stored results yet (its analysis is finishing) gets its first results
    but no notification: a first result is not a change. A digest whose inventory cannot be
    read is logged and skipped; the others go on.
    """
    path = database_path or service.database_path
    bundle = bundle or service.active_bundle()
    targets = list(digests) if digests is not None else service.analysed_digests()
    with service.store.session() as session:
        had_results = set(session.scalars(select(ImageResult.digest)))
    with VulnerabilityDatabase.open(path) as database:
        built_at = database.status().built_at
        if workers <= 1 or len(targets) < 2 * MIN_CHUNK:
            changes = _rematch(service, database, bundle, targets)
    if workers > 1 and len(targets) >= 2 * MIN_CHUNK:
        changes = _rematch_in_processes(service, path, bundle, targets, workers)
    changes.sort(key=lambda change: change.digest)
    if notify:
        notified = [change for change in changes if change.digest in had_results]
        names = image_names_of(service, (change.digest for change in notified))
        enqueue_all(service, [
            notification for change in notified for notification in notifications(
                change, names.get(change.digest, []), policy_id=bundle.id,
                database_built_at=built_at)])
    LOG.info("re-matched %d digests against %s: %d changed", len(targets), path, len(changes))
    return changes


MIN_CHUNK = 50
"""Fewer digests per process than this are not worth starting processes for."""


def _rematch(service: Service, database: VulnerabilityDatabase, bundle: Bundle,
             digests: Iterable[str]) -> list[ResultChange]:
    changes = []
    for digest in digests:
        try:
            change = service.refresh_results(digest, database=database, bundle=bundle)
        except (HullscanError, SQLAlchemyError) as error:
            # e.g. the analysis storing its own first results at the same moment
            LOG.error("re-matching %s failed: %s", digest, error)
            continue
        if change.vulnerabilities_changed or change.verdict_changed:
            changes.append(change)
    return changes


def _rematch_in_processes(service: Service, path: Path, bundle: Bundle, digests: list[str],
                          workers: int) -> list[ResultChange]:
    chunks = [digests[n::workers] for n in range(workers)]
    # spawn: the parent holds connections and threads that must not be forked.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_rematch_chunk, service.store.url, path, service.data_dir,
                               bundle, chunk) for chunk in chunks if chunk]
        return [change for future in futures for change in future.result()]


def _rematch_chunk(store_url: str, path: Path, data_dir: Path, bundle: Bundle,
                   digests: list[str]) -> list[ResultChange]:
    """One process's share: its own store connection and database handle. The secret box
    is never used by re-matching, so a throw-away key stands in."""
    store = Store(store_url, upgrade=False)
    try:
        service = Service(store, path, SecretBox(SecretBox.generate_key()), data_dir)
        with VulnerabilityDatabase.open(path) as database:
            return _rematch(service, database, bundle, digests)
    finally:
        store.close()


def notifications(change: ResultChange, names: Sequence[str], *, policy_id: str | None,
                  database_built_at: str | None) -> list[Notification]:
    """The ``vuln_update`` and/or ``policy_eval`` notifications of one change."""
    found: list[Notification] = []
    if change.vulnerabilities_changed:
        found.append(Notification(SubscriptionKind.VULN_UPDATE, change.digest, {
            "added": _ids(change.added), "removed": _ids(change.removed),
            "added_findings": [split_key(k) for k in change.added],
            "removed_findings": [split_key(k) for k in change.removed],
            "database_built_at": database_built_at}, names))
    if change.verdict_changed:
        found.append(Notification(SubscriptionKind.POLICY_EVAL, change.digest, {
            "action_before": change.action_before, "action_after": change.action_after,
            "policy_id": policy_id, "database_built_at": database_built_at}, names))
    return found


def notify_change(service: Service, change: ResultChange, *, policy_id: str | None,
                  database_built_at: str | None) -> None:
    """Queue the notifications of one change found outside :func:`rematch_all` (an API
    request that recomputed stale results): the scheduler would find them current."""
    names = image_names_of(service, [change.digest]).get(change.digest, [])
    enqueue_all(service, notifications(change, names, policy_id=policy_id,
                                       database_built_at=database_built_at))
