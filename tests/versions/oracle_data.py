"""Real version strings, deterministic pairs of them, and the real tools' answers (cached).

Versions come from the shared vulnerability data (``/work/shared/vulndata`` or
``$HULLSCAN_VULNDATA``): Debian bookworm binary and source versions, AlmaLinux OSV
``fixed`` versions, Alpine secdb ``secfixes`` versions. Pairs are sorted neighbours (close
versions, where comparison rules matter most) plus a seeded random sample.

The tools' answers are cached in ``<test cache>/versions/<scheme>-<digest>.json`` (see
``tests.support.debian_base.cache_root``), keyed by the pairs and the tool's version, so
only the first run pays for thousands of ``dpkg`` calls.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import os
import random
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.build_steps import shared_vulndata
from tests.support.debian_base import cache_root

Pair = tuple[str, str]

_SEED = 20261127


def debian_versions() -> list[str]:
    path = shared_vulndata() / "debian" / "bookworm-amd64-binary-to-source.tsv.gz"
    found: set[str] = set()
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            found.update((fields[2], fields[5]))
    return sorted(found)


def _osv_records(name: str) -> Iterator[dict[str, object]]:
    with zipfile.ZipFile(shared_vulndata() / "osv" / name) as archive:
        for member in archive.namelist():
            if member.endswith(".json"):
                yield json.loads(archive.read(member))


def osv_event_versions(name: str, kinds: Sequence[str] = ("fixed",)) -> list[str]:
    """Versions named by the events of the non-GIT ranges in an OSV zip."""
    found: set[str] = set()
    for record in _osv_records(name):
        for affected in record.get("affected") or []:  # type: ignore[attr-defined]
            for entry in affected.get("ranges") or []:
                if entry.get("type") == "GIT":
                    continue
                for event in entry.get("events") or []:
                    for kind in kinds:
                        if kind in event and event[kind] != "0":
                            found.add(event[kind])
    return sorted(found)


def osv_records(name: str) -> list[dict[str, object]]:
    return list(_osv_records(name))


def alpine_versions() -> list[str]:
    found: set[str] = set()
    with zipfile.ZipFile(shared_vulndata() / "alpine" / "alpine-secdb-legacy-v3.3-v3.11.zip") as z:
        for member in z.namelist():
            if not member.endswith(".json"):
                continue
            for package in json.loads(z.read(member)).get("packages") or []:
                found.update((package["pkg"].get("secfixes") or {}).keys())
    return sorted(found)


def make_pairs(
    versions: Sequence[str],
    sample: int,
    neighbours: int | None = None,
    *,
    epoch_zero: bool = False,
) -> list[Pair]:
    """Sorted neighbours (by string; at most ``neighbours``, evenly spread) plus ``sample``
    seeded random pairs, some reversed, deduplicated."""
    ordered = sorted(set(versions))
    pairs = list(itertools.pairwise(ordered))
    if neighbours is not None and len(pairs) > neighbours:
        step = len(pairs) / neighbours
        pairs = [pairs[int(i * step)] for i in range(neighbours)]
    rng = random.Random(_SEED)
    pairs += [(rng.choice(ordered), rng.choice(ordered)) for _ in range(sample)]
    pairs += [(b, a) for a, b in pairs[: len(pairs) // 10]]  # some reversed, for symmetry
    same = rng.sample(ordered, min(100, len(ordered)))
    pairs += [(v, v) for v in same]
    if epoch_zero:  # "0:" + v names the same version as v in dpkg and rpm
        pairs += [(f"0:{v}", v) for v in same if ":" not in v]
    return list(dict.fromkeys(pairs))


def _cached(
    scheme: str, tool: str, pairs: Sequence[Pair], ask: Callable[[Sequence[Pair]], list[int]]
) -> list[int]:
    digest = hashlib.sha256(
        json.dumps([tool, list(pairs)], ensure_ascii=False).encode("utf-8")
    ).hexdigest()[:20]
    path = cache_root() / "versions" / f"{scheme}-{digest}.json"
    try:
        answers = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(answers, list) and len(answers) == len(pairs):
            return [int(a) for a in answers]
    except (OSError, ValueError):
        pass
    answers = ask(pairs)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(answers), encoding="utf-8")
    tmp.replace(path)
    return answers


def _tool_version(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return result.stdout.strip().splitlines()[0]


_DPKG_LOOP = r"""
while IFS=' ' read -r a b; do
  if dpkg --compare-versions "$a" lt "$b"; then echo -1
  elif dpkg --compare-versions "$a" eq "$b"; then echo 0
  else echo 1; fi
done
"""


def _ask_dpkg(pairs: Sequence[Pair]) -> list[int]:
    chunks = [pairs[i : i + 250] for i in range(0, len(pairs), 250)]

    def run(chunk: Sequence[Pair]) -> list[int]:
        text = "".join(f"{a} {b}\n" for a, b in chunk)
        result = subprocess.run(
            ["sh", "-c", _DPKG_LOOP], input=text, capture_output=True, text=True, check=True
        )
        answers = [int(line) for line in result.stdout.split()]
        if len(answers) != len(chunk):
            raise RuntimeError(f"dpkg loop answered {len(answers)} of {len(chunk)}: {result}")
        return answers

    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 2)) as pool:
        return [answer for answers in pool.map(run, chunks) for answer in answers]


def dpkg_answers(pairs: Sequence[Pair]) -> list[int]:
    """``dpkg --compare-versions``' verdict (-1, 0, 1) for each pair."""
    return _cached("dpkg", _tool_version(["dpkg", "--version"]), pairs, _ask_dpkg)


def _ask_rpm(pairs: Sequence[Pair]) -> list[int]:
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "pairs.txt"
        listing.write_text("".join(f"{a} {b}\n" for a, b in pairs), encoding="utf-8")
        lua = (
            "%{lua: local out = {} "
            f'for line in io.lines("{listing}") do '
            'local space = string.find(line, " ", 1, true) '
            "out[#out + 1] = tostring(rpm.vercmp(string.sub(line, 1, space - 1), "
            "string.sub(line, space + 1))) end "
            'print(table.concat(out, " ")) }'
        )
        result = subprocess.run(["rpm", "--eval", lua], capture_output=True, text=True, check=True)
    answers = [int(word) for word in result.stdout.split()]
    if len(answers) != len(pairs):
        raise RuntimeError(f"rpm answered {len(answers)} of {len(pairs)}: {result.stderr}")
    return [(a > 0) - (a < 0) for a in answers]


def rpm_answers(pairs: Sequence[Pair]) -> list[int]:
    """rpm's own ``rpm.vercmp`` verdict for each pair, all pairs in one ``rpm --eval``."""
    return _cached("rpm", _tool_version(["rpm", "--version"]), pairs, _ask_rpm)


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def apk_tools_data() -> list[tuple[str, str, int]]:
    """apk-tools' own ``test/version.data`` cases as (a, b, expected sign)."""
    cases = []
    path = Path(__file__).with_name("data") / "apk-tools-version.data"
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            a, op, b = line.split()[:3]
            cases.append((a, b, {"<": -1, "=": 0, ">": 1}[op]))
    return cases
