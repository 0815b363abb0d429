"""JSONPath strings for instance locations: ``$.data.contact.lists[1].optOut``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if IDENTIFIER.fullmatch(key):
        return f"{path}.{key}"
    # Bracket notation for keys that are not plain names (spaces, dots, quotes).
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def jsonpath(parts: Iterable[str | int]) -> str:
    path = "$"
    for part in parts:
        path = child(path, part)
    return path


def parent(path: str) -> str:
    """The enclosing object's path (only for dotted names, which is all the
    classifier needs to pair a missing field with an undocumented one)."""
    head, _, _ = path.rpartition(".")
    return head or "$"


def leaf(path: str) -> str:
    return path.rpartition(".")[2]
