"""What the service does, independent of how it is asked (API, Harbor adapter, scheduler,
workers): add images, claim and run analyses, recompute results, answer queries.

Analysis is per digest and claimed atomically in the database, so one digest is never
analysed twice at once, whichever worker or process asks.
"""

from __future__ import annotations

import os
import socket
import ssl
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.orm import Session

from hullscan.errors import HullscanError
from hullscan.image.copy import registry_reference, resolve_digest
from hullscan.image.layer_cache import LayerCache
from hullscan.image.reference import RegistryReference, parse_registry_reference
from hullscan.image.registry.credentials import CredentialStore, RegistryCredentials
from hullscan.image.registry.options import RegistryOptions
from hullscan.image.sources.interface import AcquireOptions
from hullscan.policy.context import ImageName
from hullscan.policy.load import load_default_bundle, parse_bundle
from hullscan.policy.model import Bundle
from hullscan.policy.result import Evaluation
from hullscan.report.policy_document import evaluation_document
from hullscan.service.egress import EgressPolicy, GuardedTransport
from hullscan.service.inventory import Inventory, analyse_inventory, dumps, image_results, loads
from hullscan.service.sealing import SecretBox
from hullscan.service.store.database import Store
from hullscan.service.store.models import (
    Analysis,
    AnalysisStatus,
    Image,
    ImageResult,
    PolicyBundle,
    Registry,
    VulnerabilityIndex,
    utcnow,
)
from hullscan.vuln.db.store import VulnerabilityDatabase
from hullscan.vuln.finding import Finding


def worker_id() -> str:
    """``host:pid``: who holds a claim."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class ResultChange:
    """How one digest's results changed when they were recomputed."""

    digest: str
    added: tuple[str, ...]
    """Vulnerability keys (``ID+package@version``) new in this computation."""
    removed: tuple[str, ...]
    action_before: str | None
    action_after: str | None

    @property
    def vulnerabilities_changed(self) -> bool:
        """Any vulnerability added or removed."""
        return bool(self.added or self.removed)

    @property
    def verdict_changed(self) -> bool:
        """The policy's final action differs from the stored one."""
        return self.action_before != self.action_after


@dataclass(frozen=True)
class _Computed:
    digest: str
    findings: tuple[Finding, ...]
    evaluation: Evaluation | None
    bundle_id: str
    database_built_at: str | None


class Service:
    """The service's state: its store, the vulnerability database file, the secret box and
    the guard on connections made for users."""

    def __init__(self, store: Store, database_path: Path, box: SecretBox,
                 data_dir: Path, *, layer_cache: LayerCache | None = None,
                 egress: EgressPolicy | None = None) -> None:
        self.store = store
        self.database_path = database_path
        self.box = box
        self.data_dir = data_dir
        self.layer_cache: LayerCache | None = (
            layer_cache if layer_cache is not None else LayerCache(data_dir / "layer-cache"))
        """Per-layer analysis results shared by every analysis (and every worker process
        on this data directory); None: no cache."""
        self.egress = egress if egress is not None else EgressPolicy.from_environment()
        """Which addresses registries and webhooks named by users may resolve to (default:
        public ones plus ``$HULLSCAN_ALLOWED_NETWORKS``)."""

    # ----------------------------------------------------------------- registries

    def acquire_options(self, host: str, session: Session) -> AcquireOptions:
        """How to pull from ``host``: its stored credentials and TLS options, if any."""
        registry = session.scalar(select(Registry).where(Registry.host == host))
        if registry is None:
            return AcquireOptions(registry=RegistryOptions(transport=self._guarded_transport),
                                  credentials=CredentialStore(environ={}))
        explicit = None
        if registry.username is not None:
            password = self.box.open(registry.password_encrypted) \
                if registry.password_encrypted else None
            explicit = RegistryCredentials(registry.username, password, None,
                                           f"service registry {host}")
        ca_cert = self._ca_file(host, registry.ca_cert) if registry.ca_cert else None
        return AcquireOptions(
            registry=RegistryOptions(insecure=registry.insecure, ca_cert=ca_cert,
                                     transport=self._guarded_transport),
            credentials=CredentialStore(environ={}, explicit=explicit))

    def check_registry(self, reference: RegistryReference) -> None:
        """Refuse a registry whose host resolves to an address :attr:`egress` refuses.

        Checked before each pull for a clear error early; every connection of the pull (token
        servers and redirects included) is checked again by :meth:`_guarded_transport`."""
        self.egress.check_host(reference.api_host)

    def _guarded_transport(self, verify: ssl.SSLContext | bool) -> httpx.BaseTransport:
        """The registry client's transport: connects only where :attr:`egress` allows."""
        return GuardedTransport(self.egress, verify=verify)

    def _ca_file(self, host: str, pem: str) -> Path:
        directory = self.data_dir / "ca"
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{host.replace(':', '_')}.pem"
        if not path.is_file() or path.read_text() != pem:
            with tempfile.NamedTemporaryFile("w", dir=directory, delete=False) as handle:
                handle.write(pem)
            Path(handle.name).replace(path)
        return path

    # ----------------------------------------------------------------- images

    def add_image(self, reference: str) -> tuple[Image, Analysis, bool]:
        """Resolve ``reference`` to a digest now and record it; returns the image, its
        analysis and whether that analysis is new (and so needs a job)."""
        # Registry references only: a service never reads its own disk for a client.
        parsed = parse_registry_reference(reference.removeprefix("registry:"))
        self.check_registry(parsed)
        with self.store.session() as session:
            options = self.acquire_options(parsed.registry, session)
        digest = parsed.digest or resolve_digest(parsed, options).digest
        return self.record_image(parsed, digest)

    def record_image(self, parsed: RegistryReference, digest: str
                     ) -> tuple[Image, Analysis, bool]:
        """Record a name for ``digest``; the analysis row is created once per digest."""
        with self.store.session() as session:
            analysis = session.scalar(select(Analysis).where(Analysis.digest == digest))
            created = analysis is None
            if analysis is None:
                analysis = Analysis(digest=digest, reference=f"{parsed.name}@{digest}",
                                    status=AnalysisStatus.QUEUED)
                session.add(analysis)
                session.flush()
            image = session.scalar(select(Image).where(
                Image.registry_host == parsed.registry, Image.repository == parsed.repository,
                Image.tag == parsed.tag, Image.digest == digest))
            if image is None:
                image = Image(registry_host=parsed.registry, repository=parsed.repository,
                              tag=parsed.tag, digest=digest)
                session.add(image)
                session.flush()
            return image, analysis, created

    def claim(self, digest: str, holder: str, *, take_over: bool = False) -> bool:
        """Atomically move ``digest`` from queued (or failed) to analysing for ``holder``.

        ``take_over`` also claims an analysis another holder left in ``analysing`` (a
        redelivered job whose worker died). Exactly one concurrent caller wins.
        """
        claimable: list[ColumnElement[bool]] = [
            Analysis.status.in_([AnalysisStatus.QUEUED, AnalysisStatus.FAILED])]
        if take_over:
            claimable.append(Analysis.status == AnalysisStatus.ANALYSING)
        with self.store.session() as session:
            result = session.execute(
                update(Analysis).where(Analysis.digest == digest, or_(*claimable))
                .values(status=AnalysisStatus.ANALYSING, claimed_by=holder,
                        claimed_at=utcnow(), attempts=Analysis.attempts + 1)
                .execution_options(synchronize_session=False))
            return bool(getattr(result, "rowcount", 0) == 1)

    def run_analysis(self, digest: str, holder: str | None = None, *,
                     take_over: bool = False,
                     analyse: Callable[[str, AcquireOptions], Inventory] = analyse_inventory
                     ) -> bool:
        """Claim, pull, analyse, store the inventory and the current results.

        Returns False when another holder has (or had) the digest: nothing is done. A
        failure is stored with its reason (and the claim released) before it propagates.
        """
        holder = holder or worker_id()
        if not self.claim(digest, holder, take_over=take_over):
            return False
        with self.store.session() as session:
            analysis = session.scalar(select(Analysis).where(Analysis.digest == digest))
            assert analysis is not None
            reference = analysis.reference
            options = self.acquire_options(registry_reference(reference).registry, session)
        try:
            if analyse is analyse_inventory:
                # Only the default pull reaches the reference's registry (the Harbor adapter
                # pulls from the registry Harbor names, with Harbor's credentials).
                self.check_registry(registry_reference(reference))
            if analyse is analyse_inventory and self.layer_cache is not None:
                inventory = analyse_inventory(reference, options, cache=self.layer_cache)
            else:
                inventory = analyse(reference, options)
        except Exception as error:
            with self.store.session() as session:
                session.execute(update(Analysis).where(
                    Analysis.digest == digest, Analysis.claimed_by == holder).values(
                    status=AnalysisStatus.FAILED, error=str(error)))
            raise
        computed = self._compute(digest, inventory, None, None)
        # The inventory and its results land in one transaction: nobody sees an analysed
        # digest without results.
        with self.store.session() as session:
            done = session.execute(update(Analysis).where(
                Analysis.digest == digest, Analysis.claimed_by == holder,
                Analysis.status == AnalysisStatus.ANALYSING).values(
                status=AnalysisStatus.ANALYSED, inventory=dumps(inventory), error=None,
                analysed_at=utcnow(), analysis_count=Analysis.analysis_count + 1))
            if getattr(done, "rowcount", 0) != 1:
                return False  # our claim was taken over meanwhile: the other result stands
            self._store_results(session, computed)
        return True

    def inventory(self, digest: str) -> Inventory:
        """The stored inventory of an analysed digest."""
        with self.store.session() as session:
            data = session.scalar(select(Analysis.inventory).where(Analysis.digest == digest))
        if data is None:
            raise HullscanError("not analysed yet", subject=digest)
        return loads(data, subject=digest)

    # ----------------------------------------------------------------- results

    def active_bundle(self) -> Bundle:
        """The active uploaded bundle, else the built-in default."""
        with self.store.session() as session:
            active = session.scalar(select(PolicyBundle).where(PolicyBundle.active.is_(True)))
        if active is None:
            return load_default_bundle()
        return parse_bundle(active.document.encode(), f"policy {active.id}")

    def refresh_results(self, digest: str, database: VulnerabilityDatabase | None = None,
                        bundle: Bundle | None = None) -> ResultChange:
        """Recompute ``digest``'s vulnerabilities and verdict from its stored inventory with
        the current database and bundle; store them and say what changed."""
        computed = self._compute(digest, self.inventory(digest), database, bundle)
        with self.store.session() as session:
            return self._store_results(session, computed)

    def _compute(self, digest: str, inventory: Inventory,
                 database: VulnerabilityDatabase | None, bundle: Bundle | None) -> _Computed:
        bundle = bundle or self.active_bundle()
        name = self._name_of(digest) or inventory.name
        if database is None:
            with VulnerabilityDatabase.open(self.database_path) as opened:
                results = image_results(inventory, opened, bundle, name=name)
                built = opened.status().built_at
        else:
            results = image_results(inventory, database, bundle, name=name)
            built = database.status().built_at
        return _Computed(digest, results.findings, results.evaluation, bundle.id, built)

    @staticmethod
    def _store_results(session: Session, computed: _Computed) -> ResultChange:
        digest = computed.digest
        keys = sorted({vulnerability_key(f) for f in computed.findings})
        evaluation = computed.evaluation
        action = str(evaluation.final_action) if evaluation is not None else None
        stored = session.get(ImageResult, digest)
        before_keys = set(stored.vulnerabilities) if stored is not None else set()
        before_action = stored.final_action if stored is not None else None
        if stored is None:
            stored = ImageResult(digest=digest)
            session.add(stored)
        stored.vulnerabilities = keys
        stored.final_action = action
        stored.policy_id = computed.bundle_id
        stored.database_built_at = computed.database_built_at
        stored.evaluation = evaluation_document(evaluation) if evaluation else None
        stored.updated_at = utcnow()
        session.execute(delete(VulnerabilityIndex).where(VulnerabilityIndex.digest == digest))
        session.add_all(VulnerabilityIndex(
            vulnerability_id=vid, digest=digest, package=f.package.name,
            version=f.package.version, severity=str(f.severity),
            fix_versions=list(f.fix_versions))
            for f in computed.findings for vid in (f.id, *f.aliases))
        return ResultChange(digest, tuple(sorted(set(keys) - before_keys)),
                            tuple(sorted(before_keys - set(keys))), before_action, action)

    def _name_of(self, digest: str) -> ImageName | None:
        with self.store.session() as session:
            image = session.scalars(select(Image).where(Image.digest == digest)
                                    .order_by(Image.added_at.desc())).first()
        if image is None:
            return None
        return ImageName(image.registry_host, image.repository, image.tag or "", digest)

    def affected_by(self, vulnerability_id: str) -> list[tuple[Image, VulnerabilityIndex]]:
        """Every stored image name whose digest has ``vulnerability_id`` (or an alias)."""
        with self.store.session() as session:
            rows = session.execute(
                select(Image, VulnerabilityIndex)
                .join(VulnerabilityIndex, VulnerabilityIndex.digest == Image.digest)
                .where(VulnerabilityIndex.vulnerability_id == vulnerability_id)
                .order_by(Image.registry_host, Image.repository, Image.tag)).all()
        return [(image, index) for image, index in rows]

    def analysed_digests(self) -> list[str]:
        """Every digest with a stored inventory."""
        with self.store.session() as session:
            return list(session.scalars(select(Analysis.digest).where(
                Analysis.status == AnalysisStatus.ANALYSED).order_by(Analysis.digest)))


def vulnerability_key(finding: Finding) -> str:
    """``ID+package@version``: what vulnerability diffs compare."""
    return f"{finding.id}+{finding.package.name}@{finding.package.version}"

