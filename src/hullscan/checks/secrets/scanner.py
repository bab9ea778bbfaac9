"""Finding secrets: a keyword prefilter, then each candidate rule's regex, then allow rules.

Every value leaves this module redacted (:func:`redact`): a short prefix and a hash.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hullscan.catalog.package import LayerRef
from hullscan.checks.finding import Category, CheckFinding
from hullscan.checks.secrets.rules import ALLOW_RULES, RULES, AllowRule, SecretRule, glob_regex
from hullscan.image.config import ImageConfig
from hullscan.image.layer import Commit, FileEntry, FileKind, LayerContents
from hullscan.image.layer_cache import describe
from hullscan.vuln.severity import Severity

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
"""Files larger than this are not read for secrets (configurable: ``max-file-size``)."""

BINARY_SNIFF_BYTES = 8192
_EXCERPT_CONTEXT = 40

SKIPPED_PATHS: tuple[str, ...] = (
    # Data that is never a place for credentials and is large or binary anyway.
    "usr/share/locale/**", "usr/share/i18n/**", "usr/share/zoneinfo/**",
    "usr/share/icons/**", "usr/share/fonts/**", "usr/share/mime/**", "usr/share/terminfo/**",
    "usr/lib/locale/**", "usr/share/man/**", "usr/share/info/**",
    # Compiled objects, images, fonts and compressed archives: binary by construction.
    "**/*.so", "**/*.so.*", "**/*.a", "**/*.o", "**/*.pyc", "**/*.pyo", "**/*.mo",
    "**/*.png", "**/*.jpg", "**/*.jpeg", "**/*.gif", "**/*.ico", "**/*.woff", "**/*.woff2",
    "**/*.ttf", "**/*.otf", "**/*.gz", "**/*.xz", "**/*.bz2", "**/*.zst",
)
"""Paths :class:`SecretVisitor` does not read. Nothing under ``etc``, ``root``, ``home``,
``opt``, ``srv``, ``app`` or ``var`` (other than these file types) is skipped. The visitor
does not read :func:`fully_allowed_paths` either (documentation): there, every hit would be
dropped by an allow rule anyway."""

_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r\f\b\x1b")
_DELETE_TEXT = bytes.maketrans(b"", b"")

_PLACEHOLDER = re.compile(
    r"""(?ix)
    ^(?:password|passwd|pass|secret|changeme|change_me|example|sample|dummy|placeholder|none|null
       |redacted|undefined|true|false|yourpassword|your_password|mypassword|foobar|token
       |tiger|guest|masterkey)$  # documentation classics: scott/tiger, guest/guest, masterkey
    | ^<[^<>]*>$ | ^\[[^\[\]]*\]+$ | \$\{ | \$\( | \{\{ | %\(\w+\)s | ^\$\w+$ | ^%s$
    | ^\{\w*\}$ | ^`
                             # templates: <password>, [password], ${PASS}, $(cat f), {{ .x }},
                             # %(pw)s, $PASS
    | ^\*+$ | x{5,} | \*{3,} | \.{3}
    | ^(.)\1+$               # one character repeated
    | your[_-]?(?:api|secret|token|key|pass)
    """)

_SECRET_NAME = re.compile(r"(?i)(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY"
                          r"|ACCESS_?KEY|CREDENTIAL)")
_NOT_A_VALUE_NAME = re.compile(r"(?i)_(?:FILE|PATH|DIR|URL|HOST|USER|USERNAME|NAME|TYPE|ID)$")
_ARGS_PREFIX = re.compile(r"^(?:RUN\s+)?\|(\d+)\s+(.*)$", re.DOTALL)


@dataclass(frozen=True)
class SecretHit:
    """One secret in one file (or config value): which rule, where, redacted evidence."""

    rule: SecretRule
    line: int
    evidence: str
    """The matched text with the secret replaced by :func:`redact` (never the value)."""


def redact(value: str | bytes) -> str:
    """A prefix and a hash: ``ghp_…sha256:0123456789ab``.

    The prefix is the first 4 characters, fewer for short values (a quarter of them) so that
    a short password is never mostly shown.
    """
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")
    text = raw.decode("utf-8", "replace")
    shown = text[: min(4, len(text) // 4)]
    return f"{shown}…sha256:{hashlib.sha256(raw).hexdigest()[:12]}"


def shannon_entropy(value: str | bytes) -> float:
    """Bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def is_placeholder(value: str) -> bool:
    """Obvious non-secrets: template variables, ``changeme``, ``xxxxx``, ``<password>``."""
    return _PLACEHOLDER.search(value) is not None


def is_binary(content: bytes) -> bool:
    """NUL in the first 8 KiB, or more than 30% control characters there."""
    head = content[:BINARY_SNIFF_BYTES]
    if b"\x00" in head:
        return True
    if not head:
        return False
    control = len(head) - len(head.translate(_DELETE_TEXT, _CONTROL))
    return control * 10 > len(head) * 3


def scan_bytes(path: str, content: bytes, rules: Sequence[SecretRule] = RULES,
               allow: Sequence[AllowRule] = ALLOW_RULES) -> list[SecretHit]:
    """Secrets in one file's contents (``path`` without leading slash; ``""`` for none).

    Binary content yields nothing. Rules whose path filter rejects ``path`` are skipped; the
    others' keywords are looked up in the lower-cased content (:class:`KeywordPrefilter`),
    and a rule's regex only runs when one of its keywords occurs.
    """
    return [hit for hit, _ in _scan(path, content, rules, allow)]


def redact_text(text: str, rules: Sequence[SecretRule] = RULES,
                allow: Sequence[AllowRule] = ALLOW_RULES) -> str:
    """``text`` (a history step, a label) with every secret and secret-named build
    argument replaced by its redaction: for printing image metadata in any output."""
    content = text.encode("utf-8", "surrogateescape")
    spans = sorted(span for _, span in _scan("", content, rules, allow))
    out, position = bytearray(), 0
    for start, end in spans:
        if start >= position:
            out += content[position:start] + redact(content[start:end]).encode()
            position = end
    redacted = (bytes(out) + content[position:]).decode("utf-8", "surrogateescape")
    for name, value in build_args(redacted):
        if _name_hit(name, value) is not None:
            redacted = redacted.replace(f"{name}={value}", f"{name}={redact(value)}")
    return redacted


def _scan(path: str, content: bytes, rules: Sequence[SecretRule],
          allow: Sequence[AllowRule]) -> list[tuple[SecretHit, tuple[int, int]]]:
    if is_binary(content):
        return []
    lowered = content.lower()
    plan = _plan(rules)
    found = plan.prefilter.present(lowered)
    # The rules to run: those a found keyword triggers, and those without keywords. Looking
    # them up by keyword is cheaper than checking every rule's keywords in every file.
    run = set(plan.always)
    for index, triggered in plan.triggers:
        if found[index]:
            run.update(triggered)
    hits: list[tuple[SecretHit, tuple[int, int]]] = []
    seen: set[tuple[str, int, str]] = set()
    spans: list[tuple[int, int]] = []
    if plan.any_path_filter is None or plan.any_path_filter.search(path) is not None:
        run.update(plan.filtered)
    for step in sorted(run):
        rule, own_keywords, starts = plan.steps[step]
        # Few files pass a path filter: their keywords are looked up only then.
        if rule.path_filter is not None and (rule.path_filter.search(path) is None or (
                own_keywords and not any(k in lowered for k in own_keywords))):
            continue
        # A start literal the prefilter found absent (lower-cased) cannot occur: not searched.
        present = tuple(literal for literal, index in starts if index < 0 or found[index])
        for match in matches(rule, lowered if rule.lowercase else content, present):
            found_hit = _hit(rule, path, content, match, allow)
            if found_hit is None:
                continue
            hit, (start, end) = found_hit
            # One secret, one hit: an earlier (more specific) rule's match wins over a later
            # (generic) rule matching the same bytes.
            if any(start < e and s < end for s, e in spans):
                continue
            spans.append((start, end))
            if (key := (rule.id, hit.line, hit.evidence)) not in seen:
                seen.add(key)
                hits.append((hit, (start, end)))
    return hits


CANDIDATE_SPACING = 256
"""Below one candidate start per this many bytes, :func:`matches` tries the regex at each
candidate; denser, it lets ``re`` scan (a try costs about what ``re`` needs for 256 bytes)."""


def matches(rule: SecretRule, text: bytes,
            starts: Sequence[bytes] | None = None) -> list[re.Match[bytes]]:
    """Exactly what ``rule.pattern.finditer(text)`` yields, found faster when the rule lists
    the literals its matches start with (:attr:`SecretRule.starts`) and they are sparse.

    ``starts`` (default: the rule's) may leave out literals known not to occur in ``text``.

    ``finditer`` tries the regex at every position after the previous match; where it can
    only succeed at an occurrence of a start literal, trying it just there (in order, none
    inside the previous match) gives the same matches. ``re`` has no such shortcut for an
    alternation: it tries every position whose byte can begin one (every ``p``, ``s``, ``a``
    for the generic rules), at roughly 100-200 MB/s, where ``bytes.find`` runs at over 1 GB/s.
    """
    if not rule.starts:
        return list(rule.pattern.finditer(text))
    candidates: list[int] = []
    for literal in rule.starts if starts is None else starts:
        at = text.find(literal)
        while at >= 0:
            candidates.append(at)
            if len(candidates) > 16 + at // CANDIDATE_SPACING:
                return list(rule.pattern.finditer(text))  # dense: the regex scan is cheaper
            at = text.find(literal, at + 1)
    found: list[re.Match[bytes]] = []
    end = 0
    for at in sorted(candidates):
        if at < end:
            continue  # inside the previous match, where finditer does not look either
        match = rule.pattern.match(text, at)  # look-behinds and ^ still see text before at
        if match is not None:
            found.append(match)
            end = max(match.end(), at + 1)
    return found


KEYWORD_ANCHORS: tuple[str, ...] = ("key", "api", "pass", "private")
"""Substrings several keywords share. An anchor is looked up first and the keywords holding
it only when it occurs, so a file without it costs one search instead of one per keyword."""

BYTE_ANCHORS: tuple[str, ...] = ("_", ".", ":", "-")
"""Single bytes keywords hold (``_live_``, ``sg.``, ``://``, ``pypi-ag``). A one-byte search
is a ``memchr``, about ten times faster than a keyword search, so one keyword holding the byte
is enough to look it up first: prose without punctuation skips those keywords."""


class KeywordPrefilter:
    """Which of some lower-case keywords occur in lower-cased content.

    One C-level substring search per keyword, except that a keyword holding another keyword
    or an anchor (:data:`KEYWORD_ANCHORS`) as a substring is only looked up when that one
    occurs: ``private key`` is not searched for in a file without ``key``; likewise a keyword
    holding a byte of :data:`BYTE_ANCHORS` only when that byte occurs. The answer is
    exactly that of searching every keyword. (A regex alternation of all keywords and
    pyahocorasick were both slower than these searches.)
    """

    def __init__(self, keywords: Iterable[str],
                 anchors: Sequence[str] = KEYWORD_ANCHORS,
                 byte_anchors: Sequence[str] = BYTE_ANCHORS) -> None:
        words = sorted(set(keywords))
        used = [a for a in anchors if a not in words
                and sum(a in w for w in words) >= 2]  # an anchor over one keyword saves nothing
        parent = self._parents(words + used)
        # An anchor no keyword ended up under would only cost a search.
        nodes = words + [a for a in used if a in parent.values()]
        nodes += [b for b in byte_anchors if b not in nodes and any(b in w for w in words)]
        parent = self._parents(nodes)
        # Every byte anchor a keyword holds must occur too, besides its longest part.
        needs: dict[str, tuple[str, ...]] = {}
        for w in nodes:
            longest = parent[w]
            bytes_held = [b for b in byte_anchors if b in nodes and b != w and b in w]
            needs[w] = tuple(dict.fromkeys([longest, *bytes_held] if longest else bytes_held))

        def depth(word: str) -> int:
            return max((1 + depth(above) for above in needs[word]), default=0)

        order = sorted(nodes, key=lambda w: (depth(w), w))  # parts before their keywords
        index = {w: i for i, w in enumerate(order)}
        self.keywords: tuple[str, ...] = tuple(order)
        """Keywords and the anchors used, in lookup order (the index :meth:`present` uses)."""
        self._lookups = tuple((w.encode(), index[needs[w][0]] if needs[w] else -1,
                               tuple(index[n] for n in needs[w][1:])) for w in order)

    @staticmethod
    def _parents(nodes: Sequence[str]) -> dict[str, str | None]:
        """Each word's longest other word inside it (the most selective one), if any."""
        return {w: max((p for p in nodes if p != w and p in w), key=len, default=None)
                for w in nodes}

    def index(self, keyword: str) -> int:
        """Where ``keyword`` is in the list :meth:`present` returns."""
        return self.keywords.index(keyword)

    def present(self, lowered: bytes) -> list[bool]:
        """For each of :attr:`keywords`: does it occur in ``lowered``?"""
        found: list[bool] = []
        append = found.append
        for encoded, first, rest in self._lookups:
            # Most keywords need nothing or one part: no all() call for them.
            append((first < 0 or found[first]) and (not rest or all(found[n] for n in rest))
                   and encoded in lowered)
        return found


@dataclass(frozen=True)
class _ScanPlan:
    """Rules prepared once for many files."""

    prefilter: KeywordPrefilter
    """Over the keywords of the rules without a path filter."""
    steps: tuple[tuple[SecretRule, tuple[bytes, ...], tuple[tuple[bytes, int], ...]], ...]
    """Each rule in order, its encoded keywords (looked up only for a path filter) and its
    start literals, each with the prefilter index of its lower-cased form (-1: none)."""
    triggers: tuple[tuple[int, tuple[int, ...]], ...]
    """For each prefilter index that some rule's keyword has: the steps it triggers."""
    always: tuple[int, ...]
    """Steps run in every file: rules without keywords (and without a path filter)."""
    filtered: tuple[int, ...]
    """Steps of the rules with a path filter."""
    any_path_filter: re.Pattern[str] | None
    """Searches true where some rule's path filter does (one search per file instead of one
    per rule); None when the filters do not combine into one pattern."""


_PLANS: dict[int, tuple[Sequence[SecretRule], _ScanPlan]] = {}


def _plan(rules: Sequence[SecretRule]) -> _ScanPlan:
    """The plan for ``rules``, cached by identity: hashing 27 rules (each holding compiled
    patterns) for every file cost more than the keyword searches it looked up."""
    cached = _PLANS.get(id(rules))
    if cached is not None and cached[0] is rules:
        return cached[1]
    plan = _new_plan(rules)
    if isinstance(rules, tuple):  # a list could change under its cached plan
        if len(_PLANS) >= 16:
            _PLANS.clear()
        _PLANS[id(rules)] = (rules, plan)  # the tuple is kept, so its id is not reused
    return plan


def _new_plan(rules: Sequence[SecretRule]) -> _ScanPlan:
    prefilter = KeywordPrefilter(k for rule in rules if rule.path_filter is None
                                 for k in rule.keywords)
    nodes = {k.encode(): i for i, k in enumerate(prefilter.keywords)}
    steps = tuple((rule, tuple(k.encode() for k in rule.keywords),
                   tuple((s, nodes.get(s.lower(), -1)) for s in rule.starts)) for rule in rules)
    triggered: dict[int, list[int]] = {}
    for step, rule in enumerate(rules):
        if rule.path_filter is None:
            for keyword in rule.keywords:
                triggered.setdefault(prefilter.index(keyword), []).append(step)
    always = tuple(step for step, rule in enumerate(rules)
                   if rule.path_filter is None and not rule.keywords)
    filtered = tuple(step for step, rule in enumerate(rules) if rule.path_filter is not None)
    return _ScanPlan(prefilter, steps,
                     tuple((i, tuple(s)) for i, s in sorted(triggered.items())), always,
                     filtered, _any_path_filter([r.path_filter for r in rules if r.path_filter]))


def _any_path_filter(filters: Sequence[re.Pattern[str]]) -> re.Pattern[str] | None:
    """One pattern searching true exactly where one of ``filters`` does, or None when that
    is not certain: a filter with groups (a back-reference would change meaning), flags or
    global inline flags (``re.error``) is not combined."""
    plain = re.compile("").flags
    if any(f.groups or f.flags != plain for f in filters):
        return None
    try:
        return re.compile("|".join(f"(?:{f.pattern})" for f in filters) or r"(?!)")
    except re.error:
        return None


def _hit(rule: SecretRule, path: str, content: bytes, match: re.Match[bytes],
         allow: Sequence[AllowRule]) -> tuple[SecretHit, tuple[int, int]] | None:
    try:
        start, end = match.span(rule.secret_group)
    except IndexError:
        start, end = match.span(0)
    if start < 0:
        return None  # the group did not take part in the match
    raw = content[start:end].strip()
    value = raw.decode("utf-8", "replace")
    if not value or is_placeholder(value):
        return None
    if rule.entropy_min is not None and shannon_entropy(value) < rule.entropy_min:
        return None
    if any(a.allows(rule.id, path, value) for a in allow):
        return None
    before = content[max(match.start(), start - _EXCERPT_CONTEXT):start]
    after = content[end:min(match.end(), end + _EXCERPT_CONTEXT)]
    evidence = (_excerpt_text(before) + redact(raw) + _excerpt_text(after)).strip()
    line = content.count(b"\n", 0, start) + 1
    return SecretHit(rule, line, evidence), (start, end)


def _excerpt_text(part: bytes) -> str:
    text = part.decode("utf-8", "replace")
    return " ".join(text.split()) if "\n" in text else text


def fully_allowed_paths(allow: Sequence[AllowRule]) -> list[str]:
    """Path globs of the allow rules that drop any hit of any rule there (no rule, no value
    given): scanning a file there can never report anything."""
    return [a.path for a in allow
            if a.path is not None and a.rule in (None, "*") and a.value is None]


class SecretVisitor:
    """A :class:`~hullscan.image.layer.LayerVisitor` scanning every layer's files; it never
    keeps contents. Hits are kept by (layer index, path)."""

    def __init__(self, rules: Sequence[SecretRule] = RULES,
                 allow: Sequence[AllowRule] = ALLOW_RULES, *,
                 max_file_size: int = DEFAULT_MAX_FILE_SIZE,
                 skipped: Sequence[str] = SKIPPED_PATHS) -> None:
        self.rules = tuple(rules)
        self.allow = tuple(allow)
        self.max_file_size = max_file_size
        # Paths where an allow rule drops every hit of every rule are not read either: the
        # findings are the same, and installed documentation is a large part of most images.
        not_read = (*skipped, *fully_allowed_paths(self.allow))
        self._skipped = re.compile("|".join(f"(?:{glob_regex(g).pattern})" for g in not_read)
                                   if not_read else r"(?!)", re.DOTALL)
        self._not_read = tuple(not_read)
        self._last: tuple[FileEntry | None, bool] = (None, False)
        self.hits: dict[tuple[int, str], tuple[SecretHit, ...]] = {}
        self.writers: dict[str, set[int]] = {}
        """For paths with hits: every layer seen writing a regular file there."""
        self.bytes_scanned = 0
        self._layer_bytes: dict[int, int] = {}

    def wants(self, entry: FileEntry) -> bool:
        """Regular files within the size limit outside :data:`SKIPPED_PATHS` and outside
        :func:`fully_allowed_paths`."""
        if entry.kind is not FileKind.REGULAR:
            return False
        if self._last[0] is entry:
            # A CompositeVisitor asks again before visiting: answer without the path regex.
            return self._last[1]
        if entry.path in self.writers:
            self.writers[entry.path].add(entry.layer_index)
        wanted = (0 < entry.size <= self.max_file_size
                  and self._skipped.fullmatch(entry.path) is None)
        self._last = (entry, wanted)
        return wanted

    def visit(self, entry: FileEntry, content: bytes) -> bool:
        """Scan, record hits, keep nothing."""
        self.bytes_scanned += len(content)
        self._layer_bytes[entry.layer_index] = (self._layer_bytes.get(entry.layer_index, 0)
                                                + len(content))
        hits = scan_bytes(entry.path, content, self.rules, self.allow)
        if hits:
            self.hits[(entry.layer_index, entry.path)] = tuple(hits)
            self.writers.setdefault(entry.path, set()).add(entry.layer_index)
        return False


    def cache_key(self) -> str | None:
        """The rules, allow rules, size limit and skipped paths (hashed)."""
        options = describe((self.rules, self.allow, self.max_file_size, self._not_read))
        return f"secrets/{SECRET_VISITOR_VERSION}:" + hashlib.sha256(
            options.encode()).hexdigest()

    def export_layer(self, index: int) -> Any:
        """Hits by path (rule id, line, redacted evidence) and bytes scanned in ``index``."""
        hits = {path: [[hit.rule.id, hit.line, hit.evidence] for hit in found]
                for (layer, path), found in self.hits.items() if layer == index}
        return {"hits": hits, "bytes": self._layer_bytes.get(index, 0)}

    def import_layer(self, contents: LayerContents, state: Any) -> Commit:
        """Record an exported layer's hits at ``contents.layer.index``; the layer's regular
        files count as writers, as if they had been seen."""
        index = contents.layer.index
        rules = {rule.id: rule for rule in self.rules}
        hits = {str(path): tuple(SecretHit(rules[rule_id], int(line), str(evidence))
                                 for rule_id, line, evidence in found)
                for path, found in state["hits"].items()}
        scanned = int(state["bytes"])

        def commit() -> None:
            for entry in contents.entries:
                if entry.kind is FileKind.REGULAR and entry.path in self.writers:
                    self.writers[entry.path].add(index)
            for path, found in hits.items():
                self.hits[(index, path)] = found
                self.writers.setdefault(path, set()).add(index)
            self.bytes_scanned += scanned
            if scanned:
                self._layer_bytes[index] = scanned
        return commit


SECRET_VISITOR_VERSION = 1
"""Bump when what :class:`SecretVisitor` records per layer changes meaning."""


def _ref(layers: Sequence[LayerRef], index: int | None) -> LayerRef | None:
    if index is None or not 0 <= index < len(layers):
        return None
    return layers[index]


def findings(visitor: SecretVisitor, final_filesystem_entry_layer: Callable[[str], int | None],
             layers: Sequence[LayerRef]) -> list[CheckFinding]:
    """Turn a visitor's hits into findings.

    ``final_filesystem_entry_layer(path)`` is the layer whose copy of ``path`` the final
    image shows (None when the path is gone). A hit in any other layer is still retrievable
    from that layer: ``deleted_by`` is the first later layer seen writing the path, else the
    final writer, else (deleted by a whiteout, which visitors do not see) the last layer.
    A hit in an earlier layer that the final copy repeats (same rule and evidence) is dropped.
    """
    out: list[CheckFinding] = []
    for (index, path), hits in sorted(visitor.hits.items()):
        final = final_filesystem_entry_layer(path)
        deleted_by: LayerRef | None = None
        if final != index:
            if final is not None and final < index:
                deleted_by = None  # the caller's view disagrees with ours: treat as present
            else:
                later = sorted(i for i in visitor.writers.get(path, ()) if i > index)
                deleter = later[0] if later else final if final is not None else len(layers) - 1
                # Layers are read in order, so "first later writer" is exact; a path gone
                # from the final view of its own (last) layer has no deleter to name.
                deleted_by = _ref(layers, deleter) if deleter > index else None
        kept = {(h.rule.id, h.evidence) for h in visitor.hits.get((final, path), ())} \
            if final is not None and final != index else set()
        for hit in hits:
            if (hit.rule.id, hit.evidence) in kept:
                continue
            out.append(_finding(hit.rule, hit.evidence, layer=_ref(layers, index), path=path,
                                line=hit.line, deleted_by=deleted_by))
    return out


def _finding(rule: SecretRule, evidence: str, *, layer: LayerRef | None = None,
             path: str | None = None, line: int | None = None,
             deleted_by: LayerRef | None = None, config_key: str | None = None) -> CheckFinding:
    where = "the image config" if config_key else "a layer"
    if deleted_by is not None and layer is not None:
        rationale = (f"A {rule.title.lower()} is still retrievable from layer {layer.index} "
                     f"although layer {deleted_by.index} deleted or replaced the file.")
    else:
        rationale = f"A {rule.title.lower()} in {where} is readable by anyone who can pull it."
    return CheckFinding(
        rule_id=rule.id, title=rule.title, severity=rule.severity, category=Category.SECRET,
        rationale=rationale,
        remediation="Revoke and rotate the secret, then pass secrets at build time with "
                    "build secrets (RUN --mount=type=secret) and at run time from a secret "
                    "store; deleting a file in a later layer does not remove it.",
        layer=layer, path=path, config_key=config_key, line=line, deleted_by=deleted_by,
        evidence=evidence)


ENV_SECRET_RULE = SecretRule(
    "HS-SEC-ENV-SECRET", "Secret in an environment variable, label or build argument",
    Severity.HIGH, (), re.compile(rb"(?!)"), 0, None, None)
"""Name-based: a variable called ``*PASSWORD*``, ``*TOKEN*``... with a real-looking value."""


def _name_hit(name: str, value: str) -> str | None:
    value = value.strip().strip("\"'")
    if (not value or not _SECRET_NAME.search(name) or _NOT_A_VALUE_NAME.search(name)
            or value.startswith("/") or is_placeholder(value)):
        return None
    return f"{name}={redact(value)}"


def _config_hits(text: str, rules: Sequence[SecretRule],
                 allow: Sequence[AllowRule]) -> list[SecretHit]:
    return scan_bytes("", text.encode("utf-8", "surrogateescape"), rules, allow)


def _named_pairs(pairs: Iterable[tuple[str, str]], key: Callable[[str], str],
                 rules: Sequence[SecretRule], allow: Sequence[AllowRule],
                 layer: LayerRef | None = None) -> list[CheckFinding]:
    out: list[CheckFinding] = []
    for name, value in pairs:
        hits = _config_hits(f"{name}={value}", rules, allow)
        for hit in hits:
            out.append(_finding(hit.rule, hit.evidence, config_key=key(name), layer=layer))
        if not hits and (evidence := _name_hit(name, value)) is not None and not any(
                a.allows(ENV_SECRET_RULE.id, "", value) for a in allow):
            out.append(_finding(ENV_SECRET_RULE, evidence, config_key=key(name), layer=layer))
    return out


def build_args(created_by: str) -> list[tuple[str, str]]:
    """The ``NAME=value`` build arguments of a ``RUN |2 A=1 B=2 /bin/sh -c ...`` step."""
    match = _ARGS_PREFIX.match(created_by.strip())
    if match is None:
        return []
    count, rest = int(match.group(1)), match.group(2).split()
    pairs = [token.split("=", 1) for token in rest[:count] if "=" in token]
    return [(name, value) for name, value in pairs]


def scan_config(config: ImageConfig, layers: Sequence[LayerRef],
                rules: Sequence[SecretRule] = RULES,
                allow: Sequence[AllowRule] = ALLOW_RULES) -> list[CheckFinding]:
    """Secrets in ENV values, labels and history ``created_by`` (build arguments included).

    ENV and labels are image-wide (no layer); a history step is attributed to the layer it
    made, when it made one.
    """
    env = [tuple(item.split("=", 1)) if "=" in item else (item, "") for item in config.env]
    out = _named_pairs(((n, v) for n, v in env), lambda n: f"Env[{n}]", rules, allow)
    out += _named_pairs(config.labels.items(), lambda n: f"Labels[{n}]", rules, allow)
    history_layer = {pair[0]: i for i, pair in enumerate(config.layer_history())
                     if pair is not None}
    for h_index, entry in enumerate(config.history):
        if not entry.created_by:
            continue
        layer = _ref(layers, history_layer.get(h_index))
        key = f"history[{h_index}].created_by"
        hits = _config_hits(entry.created_by, rules, allow)
        reported = {hit.evidence for hit in hits}
        for hit in hits:
            out.append(_finding(hit.rule, hit.evidence, config_key=key, layer=layer))
        for name, value in build_args(entry.created_by):
            evidence = _name_hit(name, value)
            if evidence is None or any(redact(value.strip().strip("\"'")) in e
                                       for e in reported):
                continue
            if not any(a.allows(ENV_SECRET_RULE.id, "", value) for a in allow):
                out.append(_finding(ENV_SECRET_RULE, evidence, config_key=key, layer=layer))
    return out
