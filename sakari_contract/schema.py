"""Load the hand-authored OpenAPI document and compile validators from it.

The document under schemas/ is never edited by code. Strictness (reporting
undocumented properties) is an overlay applied to a copy at load time.
"""

from __future__ import annotations

import copy
import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from .errors import UsageError

logger = logging.getLogger("sakari_contract")

SCHEMA_NAME = "sakari-calls.openapi.yaml"
BASE_URI = "urn:sakari-contract:openapi"
CALL_PATH = "/v1/accounts/{accountId}/calls/{callId}"
LIST_PATH = "/v1/accounts/{accountId}/calls"
TOKEN_PATH = "/oauth2/token"
JSON = "application/json"
# A value every RFC 3339 checker must refuse (space, no offset). If the format
# checker accepts it, format checks are silently off and results would depend on
# which optional packages happen to be installed.
KNOWN_BAD_DATE_TIME = "2024-05-01 12:00:00"
# A mailbox as teams store it: no display name ("Chris <c@x.io>"), no IP
# literal, and a domain with a TLD. The lenient defaults accept all three.
STRICT_EMAIL = jsonschema_rs.EmailOptions(
    require_tld=True, allow_domain_literal=False, allow_display_text=False
)


def default_schema_path() -> Path:
    """The schema shipped in the wheel, or the checkout's schemas/ folder."""
    shipped = resources.files("sakari_contract") / "_schemas" / SCHEMA_NAME
    if shipped.is_file():
        return Path(str(shipped))
    return Path(__file__).resolve().parent.parent / "schemas" / SCHEMA_NAME


def read_document(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read schema {path}: {exc}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        raise UsageError(
            f"schema {path} does not parse at {where}: {exc.problem}"
        ) from None
    except yaml.YAMLError as exc:
        raise UsageError(f"schema {path} does not parse: {exc}") from None
    if not isinstance(document, dict) or "components" not in document:
        raise UsageError(f"schema {path} is not an OpenAPI document with components")
    return document


def object_schemas(node: Any) -> Iterator[dict[str, Any]]:
    """Every subschema that declares properties, at any depth."""
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            yield node
        for value in node.values():
            yield from object_schemas(value)
    elif isinstance(node, list):
        for item in node:
            yield from object_schemas(item)


def strict_overlay(components: dict[str, Any]) -> dict[str, Any]:
    """A copy in which objects with declared properties allow no others.

    Free-form objects (no ``properties``, such as ``contact.attributes``) stay
    open: the page documents them as arbitrary maps.
    """
    strict = copy.deepcopy(components)
    for node in object_schemas(strict):
        node.setdefault("additionalProperties", False)
    return strict


def inline_refs(node: Any, components: dict[str, Any], seen: tuple[str, ...] = ()):
    """Resolve local ``$ref``s into one self-contained schema (for generators)."""
    if isinstance(node, list):
        return [inline_refs(item, components, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            raise UsageError(f"schema has a circular $ref: {' -> '.join(seen)}")
        target = resolve_pointer({"components": components}, ref)
        return inline_refs(target, components, (*seen, ref))
    return {key: inline_refs(value, components, seen) for key, value in node.items()}


def resolve_pointer(document: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise UsageError(f"schema $ref {ref!r} is not local (expected '#/...')")
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise UsageError(f"schema $ref {ref!r} points at nothing")
        node = node[part]
    return node


@dataclass(frozen=True, eq=False)
class Contract:
    """The document plus compiled validators for each response body we check."""

    path: Path
    document: dict[str, Any]

    @property
    def components(self) -> dict[str, Any]:
        return self.document["components"]

    def schema_ref(self, name: str) -> str:
        return f"#/components/schemas/{name}"

    def response_ref(self, path: str, status: str) -> str | None:
        """The body schema documented for an operation's status code."""
        responses = self.document["paths"][path]["get"]["responses"]
        key = status if status in responses else f"{status[0]}XX"
        response = responses.get(key) or {}
        if isinstance(response.get("$ref"), str):
            response = resolve_pointer(self.document, response["$ref"])
        content = response.get("content") or {}
        schema = (content.get(JSON) or {}).get("schema") or {}
        ref = schema.get("$ref")
        return ref if isinstance(ref, str) else None

    def body_refs(self) -> set[str]:
        """Every response body schema the GET operations document."""
        refs: set[str] = set()
        for path, item in self.document["paths"].items():
            for status in (item.get("get") or {}).get("responses") or {}:
                ref = self.response_ref(path, str(status))
                if ref is not None:
                    refs.add(ref)
        return refs

    def documented_statuses(self, path: str) -> set[str]:
        return set(self.document["paths"][path]["get"]["responses"])

    def resolved(self, name: str) -> dict[str, Any]:
        schema = self.components["schemas"][name]
        return inline_refs(schema, self.components)

    @functools.cache  # noqa: B019 - a Contract lives as long as the process
    def validator(self, ref: str, *, strict: bool) -> Any:
        components = strict_overlay(self.components) if strict else self.components
        schema = {"$id": BASE_URI, "$ref": ref, "components": components}
        try:
            return jsonschema_rs.validator_for(
                schema,
                validate_formats=True,
                email_options=STRICT_EMAIL,
            )
        except (jsonschema_rs.ValidationError, ValueError) as exc:
            first = str(exc).splitlines()[0]
            raise UsageError(f"schema {self.path}: {ref}: {first}") from None


def ensure_format_checks(contract: Contract) -> None:
    """Stop unless format checks are really on (see KNOWN_BAD_DATE_TIME)."""
    probe = {"type": "string", "format": "date-time"}
    validator = jsonschema_rs.validator_for(probe, validate_formats=True)
    if validator.is_valid(KNOWN_BAD_DATE_TIME):
        raise UsageError(
            "the date-time format checker accepted "
            f"{KNOWN_BAD_DATE_TIME!r}; format checks are off, refusing to run"
        )


@functools.cache
def load_contract(path: Path | None = None) -> Contract:
    path = path or default_schema_path()
    document = read_document(path)
    for key in ("paths", "components"):
        if not isinstance(document.get(key), dict):
            raise UsageError(f"schema {path} has no {key!r} mapping")
    contract = Contract(path=path, document=document)
    ensure_format_checks(contract)
    # Compile every response schema now: a broken $ref is a usage error before
    # any request is sent, not halfway through a run.
    for ref in contract.body_refs():
        contract.validator(ref, strict=True)
    logger.debug("loaded contract from %s", path)
    return contract
