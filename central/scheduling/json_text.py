"""JSON text of many documents of one shape, made without a ``json.dumps`` per document.

A run writes hundreds of thousands of JSON documents (change-log payloads,
audit entries) that differ only in a few values. `JsonTemplate` serialises
the shape once, with a hole for each varying value, and fills the holes with
JSON fragments: the result is exactly ``dumps(document)`` for the document
with those values, as long as each fragment is ``dumps`` of its value
(`fragment` memoises that per distinct value; `quoted` is the shortcut for
text that JSON needs no escapes for, such as ids and ISO dates).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Final

_HOLE: Final = "\ue000hole{}\ue000"
"""A string no real document holds (a private-use character around a number)."""


class JsonTemplate:
    """``dumps`` of one document shape with holes at the values named."""

    def __init__(
        self,
        document: Mapping[str, Any],
        holes: Sequence[str],
        dumps: Callable[[Any], str] = json.dumps,
    ) -> None:
        """`document` gives the fixed values; `holes` name its top-level keys that vary."""
        missing = [key for key in holes if key not in document]
        if missing:
            raise ValueError(f"holes {missing} are not keys of the document")
        marked = {
            key: _HOLE.format(holes.index(key)) if key in holes else value
            for key, value in document.items()
        }
        text = dumps(marked)
        # The holes in the order they appear in the text (`dumps` may sort keys).
        markers = [dumps(_HOLE.format(index)) for index in range(len(holes))]
        if any(text.count(marker) != 1 for marker in markers):
            raise ValueError("a hole did not survive serialising exactly once")
        pieces: list[str] = []
        cursor = 0
        for position, index in sorted((text.index(m), i) for i, m in enumerate(markers)):
            pieces.append(_escaped(text[cursor:position]) + "{" + str(index) + "}")
            cursor = position + len(markers[index])
        pieces.append(_escaped(text[cursor:]))
        self.holes = tuple(holes)
        self._format = "".join(pieces)
        """One str.format call per document: the fixed parts, braces escaped."""

    def fill(self, *fragments: str) -> str:
        """The document's text with the holes filled by `fragments`, in the order of `holes`."""
        if len(fragments) != len(self.holes):
            raise ValueError(f"{len(self.holes)} fragments needed, got {len(fragments)}")
        return self._format.format(*fragments)


def _escaped(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def quoted(text: str) -> str:
    """The JSON string of `text`, which must need no escapes (ids, ISO dates and times)."""
    return f'"{text}"'


def fragment(dumps: Callable[[Any], str] = json.dumps) -> Callable[[Hashable], str]:
    """A memoised ``dumps`` for values that repeat (codes, names, numbers)."""
    memo: dict[tuple[type, Hashable], str] = {}

    def dump(value: Hashable) -> str:
        key = (type(value), value)  # True == 1, but they are not the same JSON
        text = memo.get(key)
        if text is None:
            text = memo[key] = dumps(value)
        return text

    return dump
