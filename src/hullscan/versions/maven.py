"""Maven versions, ordered as Maven's ``ComparableVersion`` (Maven 3.x) orders them.

The lower-cased version is split at ``.`` and ``-`` and at every switch between digits and
letters; a ``-`` (and a digit/letter switch) opens a nested list. Numbers compare
numerically; qualifiers rank ``alpha`` < ``beta`` < ``milestone`` < ``rc`` = ``cr`` <
``snapshot`` < ``""`` = ``final`` = ``ga`` = ``release`` < ``sp``, and unknown qualifiers
after those, alphabetically. ``a1``/``b1``/``m1`` are alpha/beta/milestone when followed by a
digit. Trailing "null" items (0, the release qualifier, empty lists) are dropped, which
gives numeric padding: ``1`` == ``1.0`` == ``1.0.0`` == ``1-ga``. A number is newer than a
qualifier; a list is older than a number and newer than a qualifier.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Union

from hullscan.versions._base import InvalidVersionError

_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_RELEASE_INDEX = str(_QUALIFIERS.index(""))

Item = Union[int, "Qualifier", "ListItem"]


class Qualifier:
    __slots__ = ("comparable",)

    def __init__(self, value: str, followed_by_digit: bool) -> None:
        if followed_by_digit and len(value) == 1:
            value = {"a": "alpha", "b": "beta", "m": "milestone"}.get(value, value)
        value = _ALIASES.get(value, value)
        if value in _QUALIFIERS:
            self.comparable = str(_QUALIFIERS.index(value))
        else:
            self.comparable = f"{len(_QUALIFIERS)}-{value}"

    def is_null(self) -> bool:
        return self.comparable == _RELEASE_INDEX


class ListItem(list[Item]):
    def normalize(self) -> None:
        for index in range(len(self) - 1, -1, -1):
            item = self[index]
            if _is_null(item):
                del self[index]
            elif not isinstance(item, ListItem):
                break


def _is_null(item: Item) -> bool:
    if isinstance(item, int):
        return item == 0
    if isinstance(item, Qualifier):
        return item.is_null()
    return len(item) == 0


def _cmp(left: Item | None, right: Item | None) -> int:
    """``left.compareTo(right)`` with None as Maven's null item."""
    if left is None:
        return 0 if right is None else -_cmp(right, None)
    if isinstance(left, int):
        if right is None:
            return 0 if left == 0 else 1
        if isinstance(right, int):
            return (left > right) - (left < right)
        return 1
    if isinstance(left, Qualifier):
        if right is None:
            return (left.comparable > _RELEASE_INDEX) - (left.comparable < _RELEASE_INDEX)
        if isinstance(right, Qualifier):
            return (left.comparable > right.comparable) - (left.comparable < right.comparable)
        return -1
    if right is None:
        return 0 if not left else _cmp(left[0], None)
    if isinstance(right, int):
        return -1
    if isinstance(right, Qualifier):
        return 1
    for index in range(max(len(left), len(right))):
        result = _cmp(
            left[index] if index < len(left) else None,
            right[index] if index < len(right) else None,
        )
        if result:
            return result
    return 0


def _item(is_digit: bool, text: str) -> Item:
    return int(text) if is_digit else Qualifier(text, False)


@lru_cache(maxsize=65536)
def _parse(version: str) -> ListItem:
    text = version.strip().lower()
    if not text or any(c.isspace() for c in text):
        raise InvalidVersionError("maven", version)
    current = root = ListItem()
    stack = [root]
    is_digit = False
    start = 0
    for index, char in enumerate(text):
        if char in ".-":
            current.append(0 if index == start else _item(is_digit, text[start:index]))
            start = index + 1
            if char == "-":
                nested = ListItem()
                current.append(nested)
                current = nested
                stack.append(nested)
        elif char.isdigit():
            if not is_digit and index > start:
                if current:
                    nested = ListItem()
                    current.append(nested)
                    current = nested
                    stack.append(nested)
                current.append(Qualifier(text[start:index], True))
                start = index
                nested = ListItem()
                current.append(nested)
                current = nested
                stack.append(nested)
            is_digit = True
        else:
            if is_digit and index > start:
                current.append(_item(True, text[start:index]))
                start = index
                nested = ListItem()
                current.append(nested)
                current = nested
                stack.append(nested)
            is_digit = False
    if len(text) > start:
        if not is_digit and current:
            nested = ListItem()
            current.append(nested)
            current = nested
            stack.append(nested)
        current.append(_item(is_digit, text[start:]))
    while stack:
        stack.pop().normalize()
    return root


class Maven:
    name = "maven"

    def parse(self, version: str) -> ListItem:
        return _parse(version)

    def validate(self, version: str) -> bool:
        try:
            _parse(version)
        except InvalidVersionError:
            return False
        return True

    def compare(self, a: str, b: str) -> int:
        return _cmp(_parse(a), _parse(b))


SCHEME = Maven()
