"""Content regexes a bundle asks for, searched during the one pass over every layer.

The ``files/content_regex_match`` trigger reads its answers from
:attr:`~hullscan.policy.context.EvaluationContext.content_matches`; this module fills it:
:func:`content_patterns` lists the regexes of a bundle, :class:`ContentRegexVisitor` searches
every layer's regular files for them, and :meth:`ContentRegexVisitor.final_matches` keeps the
hits in the file versions the final image shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from hullscan.checks.secrets.scanner import DEFAULT_MAX_FILE_SIZE, is_binary
from hullscan.image.layer import Commit, FileEntry, FileKind, LayerContents
from hullscan.image.layer_cache import describe
from hullscan.policy.model import Bundle

CONTENT_VISITOR_VERSION = 1
"""Bump when what :class:`ContentRegexVisitor` records per layer changes meaning."""

CONTENT_GATE = "files"
CONTENT_TRIGGER = "content_regex_match"


def content_patterns(bundle: Bundle) -> tuple[str, ...]:
    """The regex texts of every ``files/content_regex_match`` rule, each once, in order."""
    texts = (rule.params["regex"].pattern for policy in bundle.policies for rule in policy.rules
             if rule.gate == CONTENT_GATE and rule.trigger == CONTENT_TRIGGER)
    return tuple(dict.fromkeys(texts))


class ContentRegexVisitor:
    """A :class:`~hullscan.image.layer.LayerVisitor` searching regular files for regexes.

    Files over ``max_file_size`` bytes, empty files and binaries (the secret scanner's
    :func:`~hullscan.checks.secrets.scanner.is_binary`) are not searched; content is decoded
    as UTF-8 (invalid bytes replaced). Keeps no contents; hits stay here, by regex text.
    """

    def __init__(self, patterns: Sequence[str], *,
                 max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> None:
        self.patterns = tuple((text, re.compile(text)) for text in dict.fromkeys(patterns))
        self.max_file_size = max_file_size
        self.hits: dict[str, set[tuple[int, str]]] = {text: set() for text, _ in self.patterns}
        """Regex text -> every ``(layer index, path)`` whose content matches."""

    def wants(self, entry: FileEntry) -> bool:
        """Regular files within the size limit, when there is anything to search for."""
        return (bool(self.patterns) and entry.kind is FileKind.REGULAR
                and 0 < entry.size <= self.max_file_size)

    def visit(self, entry: FileEntry, content: bytes) -> bool:
        """Search every regex; keep nothing."""
        if is_binary(content):
            return False
        text = content.decode("utf-8", "replace")
        for pattern_text, pattern in self.patterns:
            if pattern.search(text) is not None:
                self.hits[pattern_text].add((entry.layer_index, entry.path))
        return False

    def cache_key(self) -> str | None:
        """The regex texts and the size limit."""
        texts = describe([text for text, _ in self.patterns])
        return f"content-regex/{CONTENT_VISITOR_VERSION}:{texts};max={self.max_file_size}"

    def export_layer(self, index: int) -> Any:
        """For each regex text, the matching paths of layer ``index``."""
        return {text: sorted(path for layer, path in hits if layer == index)
                for text, hits in self.hits.items()}

    def import_layer(self, contents: LayerContents, state: Any) -> Commit:
        """Record an exported layer's hits at ``contents.layer.index``."""
        index = contents.layer.index
        hits = {str(text): [(index, str(path)) for path in paths]
                for text, paths in state.items()}
        if set(hits) != set(self.hits):
            raise ValueError("content-regex state for other patterns")

        def commit() -> None:
            for text, found in hits.items():
                self.hits[text].update(found)
        return commit

    def final_matches(self, layer_of: Callable[[str], int | None]
                      ) -> dict[str, tuple[str, ...]]:
        """For every regex, the sorted paths whose final version matches.

        ``layer_of(path)`` is the layer whose copy of ``path`` the final image shows (None when
        the path is gone): hits in other layers' copies are dropped.
        """
        return {text: tuple(sorted(path for layer, path in hits if layer_of(path) == layer))
                for text, hits in self.hits.items()}
