"""A small OCI distribution client: manifests, blobs (resumable, verified) and pushes.

Why our own: ``oras`` (oras-py) is built on ``requests``, has no resumable ranged downloads,
no Docker manifest lists or credential helpers, and no cross-repository mounts or chunked
uploads. What we need is a few hundred lines on top of ``httpx``.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from hullscan import __version__
from hullscan.errors import DigestMismatchError, ImageNotFoundError, RegistryError
from hullscan.image import mediatypes
from hullscan.image.digest import digest_of, new_hasher
from hullscan.image.manifest import MAX_MANIFEST_BYTES
from hullscan.image.registry.auth import RegistryAuthenticator
from hullscan.image.registry.credentials import RegistryCredentials
from hullscan.image.registry.options import RegistryOptions
from hullscan.image.registry.retry import RETRYABLE_STATUS

_RequestBuilder = Callable[[], httpx.Request]
"""Builds a fresh request for every try (a sent body cannot be reused)."""
DEFAULT_UPLOAD_CHUNK = 8 * 1024 * 1024
_CONNECT_ATTEMPTS = 3


@dataclass(frozen=True)
class FetchedManifest:
    """A manifest as the registry served it, verified against its digest."""

    data: bytes
    media_type: str | None
    digest: str


def is_loopback(host: str) -> bool:
    """True for ``localhost``, ``127.x.x.x`` and ``[::1]`` with or without a port."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class RegistryClient:
    """Talks to one registry host."""

    def __init__(self, host: str, *, credentials: RegistryCredentials | None = None,
                 options: RegistryOptions | None = None) -> None:
        self.host = host
        self.options = options or RegistryOptions()
        plain = self.options.insecure or (is_loopback(host) and self.options.ca_cert is None)
        self.base_url = f"{'http' if plain else 'https'}://{host}"
        verify: ssl.SSLContext | bool = True
        if self.options.ca_cert is not None:
            verify = ssl.create_default_context(cafile=str(self.options.ca_cert))
        transport = None if self.options.transport is None else self.options.transport(verify)
        self._http = httpx.Client(
            verify=verify, timeout=self.options.timeout, follow_redirects=True,
            headers={"User-Agent": f"hullscan/{__version__}"}, transport=transport,
            trust_env=transport is None)
        self._auth = RegistryAuthenticator(host, credentials, self._send_with_retries)

    def close(self) -> None:
        """Close connections."""
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- requests -------------------------------------------------------------------------

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return self.base_url + path_or_url

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        if self.options.sleep:
            time.sleep(self.options.retry.delay(attempt, retry_after))

    def _send_with_retries(self, request: httpx.Request) -> httpx.Response:
        """Send without authentication handling, retrying transient failures."""
        with self._open(lambda: request, stream=False) as response:
            return response

    @contextlib.contextmanager
    def _open(self, build: _RequestBuilder, *, stream: bool,
              scopes: tuple[str, ...] | None = None) -> Iterator[httpx.Response]:
        """Send a request with auth and retries; yield the final response (maybe streaming)."""
        retry = self.options.retry
        authenticated = False
        attempt = 0
        while True:
            attempt += 1
            request = build()
            if scopes is not None:
                request.headers.update(self._auth.headers(scopes))
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as error:
                # A refused connection rarely heals within seconds: give it fewer tries.
                limit = min(retry.attempts, _CONNECT_ATTEMPTS) \
                    if isinstance(error, httpx.ConnectError) else retry.attempts
                if attempt >= limit:
                    raise RegistryError(f"cannot reach registry {self.host}: "
                                        f"{_describe_transport_error(error)}") from error
                self._wait(attempt, None)
                continue
            if response.status_code == 401 and scopes is not None and not authenticated:
                response.close()
                authenticated = True
                attempt -= 1  # answering a challenge is not a failed try
                self._auth.respond(response, scopes)
                continue
            if response.status_code in RETRYABLE_STATUS and attempt < retry.attempts:
                retry_after = response.headers.get("retry-after")
                response.close()
                self._wait(attempt, retry_after)
                continue
            if response.status_code in (401, 403) and scopes is not None:
                response.close()
                raise self._auth.refused(response.status_code)
            try:
                yield response
            finally:
                response.close()
            return

    def _request(self, method: str, path: str, *, scopes: tuple[str, ...],
                 headers: dict[str, str] | None = None, content: bytes | None = None,
                 params: dict[str, str] | None = None) -> httpx.Response:
        url = httpx.URL(self._url(path))
        if params:
            # build_request(params=...) would drop the query an upload Location carries.
            url = url.copy_merge_params(params)

        def build() -> httpx.Request:
            return self._http.build_request(method, url, headers=headers, content=content)
        with self._open(build, stream=False, scopes=scopes) as response:
            response.read()
            return response

    # -- reading --------------------------------------------------------------------------

    def get_manifest(self, repository: str, reference: str) -> FetchedManifest:
        """Fetch a manifest or index by tag or digest; a digest reference is verified."""
        subject = f"{self.host}/{repository}:{reference}"
        response = self._request(
            "GET", f"/v2/{repository}/manifests/{reference}", scopes=_pull(repository),
            headers={"Accept": mediatypes.MANIFEST_ACCEPT})
        if response.status_code == 404:
            raise ImageNotFoundError(
                f"manifest unknown ({_error_text(response)}): no such repository or tag",
                subject=subject)
        _expect(response, (200,), subject)
        data = response.content
        if len(data) > MAX_MANIFEST_BYTES:
            raise RegistryError(f"manifest larger than {MAX_MANIFEST_BYTES} bytes",
                                subject=subject)
        if reference.startswith("sha") and ":" in reference:
            algorithm = reference.partition(":")[0]
            actual = digest_of(data, algorithm)
            if actual != reference:
                raise DigestMismatchError(f"registry served manifest {actual}, "
                                          f"asked for {reference}", subject=subject)
            digest = reference
        else:
            digest = digest_of(data)
            served = response.headers.get("docker-content-digest")
            if served and served.startswith("sha256:") and served != digest:
                raise DigestMismatchError(
                    f"manifest content is {digest}, registry says {served}", subject=subject)
        media_type = response.headers.get("content-type")
        return FetchedManifest(data, media_type, digest)

    def fetch_blob(self, repository: str, digest: str, *, max_bytes: int) -> bytes:
        """A small blob (a config) in memory, verified, refused above ``max_bytes``."""
        sink = io.BytesIO()
        self._receive_blob(repository, digest, None, sink, max_bytes=max_bytes)
        return sink.getvalue()

    def download_blob(self, repository: str, digest: str, size: int | None,
                      destination: Path) -> None:
        """Download a blob to ``destination``, resuming after failures, verifying at the end."""
        with destination.open("wb") as sink:
            self._receive_blob(repository, digest, size, sink)

    def _receive_blob(self, repository: str, digest: str, size: int | None, sink: IO[bytes],
                      *, max_bytes: int | None = None) -> None:
        """Write a blob into ``sink``: resume with Range after a broken body, verify at the end."""
        subject = f"{self.host}/{repository}@{digest}"
        hasher = new_hasher(digest)
        written = 0
        failures = 0
        retry = self.options.retry
        while True:
            try:
                with self._open_blob(repository, digest, written, subject) as response:
                    if written and response.status_code == 200:
                        # The server ignored our Range: start again from byte 0.
                        sink.seek(0)
                        sink.truncate()
                        hasher, written = new_hasher(digest), 0
                    # No chunk size: httpx would hold back a partial chunk, and a broken
                    # connection would lose it, making resumption restart too early.
                    for chunk in response.iter_bytes():
                        sink.write(chunk)
                        hasher.update(chunk)
                        written += len(chunk)
                        if size is not None and written > size:
                            raise DigestMismatchError(
                                f"blob is longer than its declared {size} bytes",
                                subject=subject)
                        if max_bytes is not None and written > max_bytes:
                            raise RegistryError(f"blob larger than {max_bytes} bytes",
                                                subject=subject)
                if size is not None and written < size:
                    raise httpx.RemoteProtocolError("body ended early")
                break
            except httpx.TransportError as error:
                failures += 1
                if failures >= retry.attempts:
                    raise RegistryError(
                        f"download failed after {failures} tries "
                        f"({_describe_transport_error(error)})", subject=subject) from error
                self._wait(failures, None)
        actual = f"{digest.partition(':')[0]}:{hasher.hexdigest()}"
        if actual != digest:
            raise DigestMismatchError(f"downloaded content is {actual}, expected {digest}",
                                      subject=subject)

    @contextlib.contextmanager
    def _open_blob(self, repository: str, digest: str, offset: int,
                   subject: str) -> Iterator[httpx.Response]:
        headers = {"Range": f"bytes={offset}-"} if offset else {}

        def build() -> httpx.Request:
            return self._http.build_request("GET", self._url(f"/v2/{repository}/blobs/{digest}"),
                                            headers=headers)
        with self._open(build, stream=True, scopes=_pull(repository)) as response:
            if response.status_code == 404:
                raise ImageNotFoundError("blob unknown to registry", subject=subject)
            _expect(response, (200, 206), subject)
            yield response

    def list_tags(self, repository: str) -> list[str]:
        """All tags of a repository, following pagination."""
        tags: list[str] = []
        path: str | None = f"/v2/{repository}/tags/list"
        while path:
            response = self._request("GET", path, scopes=_pull(repository))
            if response.status_code == 404:
                raise ImageNotFoundError("repository unknown", subject=f"{self.host}/{repository}")
            _expect(response, (200,), f"{self.host}/{repository}")
            body = response.json()
            tags += [t for t in body.get("tags") or [] if isinstance(t, str)]
            link = response.links.get("next", {}).get("url")
            path = link if link else None
        return tags

    # -- writing --------------------------------------------------------------------------

    def blob_exists(self, repository: str, digest: str) -> bool:
        """True if the repository already has the blob."""
        response = self._request("HEAD", f"/v2/{repository}/blobs/{digest}",
                                 scopes=_push(repository))
        if response.status_code == 404:
            return False
        _expect(response, (200,), f"{self.host}/{repository}@{digest}")
        return True

    def mount_blob(self, repository: str, digest: str, from_repository: str) -> bool:
        """Ask the registry to link a blob from another repository; False if it would not."""
        scopes = (*_push(repository), f"repository:{from_repository}:pull")
        response = self._request("POST", f"/v2/{repository}/blobs/uploads/", scopes=scopes,
                                 params={"mount": digest, "from": from_repository})
        if response.status_code == 201:
            return True
        _expect(response, (202,), f"{self.host}/{repository}")
        # The registry opened an ordinary upload instead; cancel it, the caller uploads.
        if location := response.headers.get("location"):
            self._request("DELETE", location, scopes=_push(repository))
        return False

    def upload_blob(self, repository: str, digest: str, content: Path | bytes, *,
                    chunk_size: int | None = None) -> None:
        """Upload a blob monolithically, or in ``chunk_size`` pieces (PATCH ... PUT)."""
        subject = f"{self.host}/{repository}@{digest}"
        scopes = _push(repository)
        response = self._request("POST", f"/v2/{repository}/blobs/uploads/", scopes=scopes)
        _expect(response, (202,), subject)
        location = _location(response, subject)
        with _open_content(content) as source:
            if chunk_size is None:
                body = source.read()
                response = self._request(
                    "PUT", location, scopes=scopes, content=body, params={"digest": digest},
                    headers={"Content-Type": "application/octet-stream"})
            else:
                offset = 0
                while chunk := source.read(chunk_size):
                    response = self._request(
                        "PATCH", location, scopes=scopes, content=chunk,
                        headers={"Content-Type": "application/octet-stream",
                                 "Content-Range": f"{offset}-{offset + len(chunk) - 1}"})
                    _expect(response, (202,), subject)
                    location = _location(response, subject)
                    offset += len(chunk)
                response = self._request("PUT", location, scopes=scopes, content=b"",
                                         params={"digest": digest})
        _expect(response, (201,), subject)

    def put_manifest(self, repository: str, reference: str, data: bytes,
                     media_type: str) -> str:
        """Store a manifest or index under a tag or digest; returns its digest."""
        subject = f"{self.host}/{repository}:{reference}"
        response = self._request("PUT", f"/v2/{repository}/manifests/{reference}",
                                 scopes=_push(repository), content=data,
                                 headers={"Content-Type": media_type})
        _expect(response, (201,), subject)
        digest = digest_of(data)
        served = response.headers.get("docker-content-digest")
        if served and served != digest:
            raise DigestMismatchError(f"registry stored {served}, we sent {digest}",
                                      subject=subject)
        return digest


def _pull(repository: str) -> tuple[str, ...]:
    return (f"repository:{repository}:pull",)


def _push(repository: str) -> tuple[str, ...]:
    return (f"repository:{repository}:pull,push",)


def _location(response: httpx.Response, subject: str) -> str:
    location = response.headers.get("location")
    if not location:
        raise RegistryError("upload response has no Location header", subject=subject)
    return str(response.url.join(location))


@contextlib.contextmanager
def _open_content(content: Path | bytes) -> Iterator[IO[bytes]]:
    if isinstance(content, bytes):
        yield io.BytesIO(content)
    else:
        with content.open("rb") as handle:
            yield handle


def _error_text(response: httpx.Response) -> str:
    """The registry's own error code and message, if it sent the standard error body."""
    try:
        body = response.json()
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            return f"{first.get('code', '')}: {first.get('message', '')}".strip(": ")
    except (ValueError, httpx.ResponseNotRead):
        pass
    return f"HTTP {response.status_code}"


def _expect(response: httpx.Response, statuses: tuple[int, ...], subject: str) -> None:
    if response.status_code in statuses:
        return
    with contextlib.suppress(httpx.HTTPError):
        response.read()
    raise RegistryError(f"registry answered HTTP {response.status_code} "
                        f"({_error_text(response)})", subject=subject)


def _describe_transport_error(error: httpx.TransportError) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in text:
        return f"TLS certificate not trusted ({text}); use --ca-cert"
    return text
