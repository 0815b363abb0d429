"""Tests of the hand-authored OpenAPI document in schemas/.

The document is read with PyYAML directly so that these tests check the file
itself, independently of the engine's schema loading.
"""

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT_PATH = ROOT / "schemas" / "sakari-calls.openapi.yaml"
DOC_EXAMPLE_PATH = (
    Path(__file__).resolve().parent / "data" / "doc_example_response.json"
)

GET_CALL_PATH = "/v1/accounts/{accountId}/calls/{callId}"
LIST_CALLS_PATH = "/v1/accounts/{accountId}/calls"
TOKEN_PATH = "/oauth2/token"
CALL_ERRORS = {"401", "403", "404", "429", "5XX"}

ERROR_RESPONSE = "#/components/schemas/ErrorResponse"
SCHEMA_KEYWORDS = {
    "$ref",
    "description",
    "enum",
    "examples",
    "format",
    "items",
    "maximum",
    "minimum",
    "properties",
    "required",
    "type",
}

Json = Any


# -- helpers ------------------------------------------------------------------


@pytest.fixture(scope="module")
def document() -> dict[str, Json]:
    with DOCUMENT_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def doc_example() -> Json:
    return json.loads(DOC_EXAMPLE_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def call_response_schema(document: dict[str, Json]) -> Json:
    return resolve_refs(document["components"]["schemas"]["CallResponse"], document)


def follow_pointer(document: Json, ref: str) -> Json:
    assert ref.startswith("#/"), f"only local references are used, got {ref!r}"
    node = document
    for token in ref[2:].split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def resolve_refs(node: Json, document: Json, seen: tuple[str, ...] = ()) -> Json:
    """Return a copy of node with every local $ref replaced by its target."""
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise ValueError(f"reference cycle through {ref!r}")
            target = follow_pointer(document, ref)
            return resolve_refs(target, document, (*seen, ref))
        return {key: resolve_refs(value, document, seen) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve_refs(item, document, seen) for item in node]
    return node


def iter_nodes(node: Json, pointer: str = "") -> Iterator[tuple[str, Json]]:
    """Yield every dict in node with its JSON pointer."""
    if isinstance(node, dict):
        yield pointer, node
        for key, value in node.items():
            yield from iter_nodes(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from iter_nodes(item, f"{pointer}/{index}")


def iter_subschemas(schema: Json, path: str) -> Iterator[tuple[str, Json]]:
    """Yield a schema and its nested property and item schemas, without $refs."""
    yield path, schema
    for name, child in schema.get("properties", {}).items():
        yield from iter_subschemas(child, f"{path}.{name}")
    if "items" in schema:
        yield from iter_subschemas(schema["items"], f"{path}[]")


def iter_component_subschemas(document: Json) -> Iterator[tuple[str, Json]]:
    for name, schema in document["components"]["schemas"].items():
        yield from iter_subschemas(schema, name)


def json_type(value: Json) -> str:
    # bool is a subclass of int, so it is tested first.
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def walk_mismatches(instance: Json, schema: Json, path: str = "$") -> list[str]:
    """Name every field of instance that the schema lacks or types differently.

    Arrays are followed into their first item, which is how the documentation
    page shows them.
    """
    observed = json_type(instance)
    if schema.get("type") != observed:
        return [f"{path}: example is {observed}, schema says {schema.get('type')}"]

    problems = []
    if observed == "object":
        properties = schema.get("properties", {})
        for key, value in instance.items():
            if key not in properties:
                problems.append(f"{path}.{key}: not in the schema")
                continue
            problems.extend(walk_mismatches(value, properties[key], f"{path}.{key}"))
    elif observed == "array" and instance:
        problems.extend(walk_mismatches(instance[0], schema["items"], f"{path}[0]"))
    return problems


def field_paths_of_instance(instance: Json, path: str = "$") -> set[str]:
    paths = {path}
    if isinstance(instance, dict):
        for key, value in instance.items():
            paths |= field_paths_of_instance(value, f"{path}.{key}")
    elif isinstance(instance, list) and instance:
        paths |= field_paths_of_instance(instance[0], f"{path}[0]")
    return paths


def field_paths_of_schema(schema: Json, path: str = "$") -> set[str]:
    paths = {path}
    for key, child in schema.get("properties", {}).items():
        paths |= field_paths_of_schema(child, f"{path}.{key}")
    if "items" in schema:
        paths |= field_paths_of_schema(schema["items"], f"{path}[0]")
    return paths


def error_paths(schema: Json, instance: Json) -> list[list[str | int]]:
    validator = jsonschema_rs.validator_for(schema, validate_formats=True)
    return sorted(
        list(error.instance_path) for error in validator.iter_errors(instance)
    )


def operation(document: Json, path: str, method: str) -> Json:
    return document["paths"][path][method]


def json_schema_ref(document: Json, response: Json) -> str:
    """The $ref of the application/json schema of a (possibly $ref'd) response."""
    if "$ref" in response:
        response = follow_pointer(document, response["$ref"])
    content = response["content"]
    assert list(content) == ["application/json"]
    return content["application/json"]["schema"]["$ref"]


# -- the document is valid OpenAPI 3.1 -------------------------------------


def test_document_declares_openapi_3_1_0(document: Json) -> None:
    assert document["openapi"] == "3.1.0"


def test_document_is_valid_openapi_3_1(document: Json) -> None:
    validate(document)


def test_spec_validator_rejects_a_broken_document(document: Json) -> None:
    broken = copy.deepcopy(document)
    del operation(broken, GET_CALL_PATH, "get")["responses"]["200"]["description"]

    with pytest.raises(
        OpenAPIValidationError, match='"description" is a required property'
    ):
        validate(broken)


def test_document_metadata(document: Json) -> None:
    assert document["info"]["title"]
    assert document["info"]["version"] == "1.0.0"
    assert "Get call" in document["info"]["description"]
    assert document["servers"] == [{"url": "https://api.sakari.io"}]


# -- the documentation page's example validates ----------------------------


def test_doc_example_is_valid_call_response(
    call_response_schema: Json, doc_example: Json
) -> None:
    assert error_paths(call_response_schema, doc_example) == []


def test_document_embeds_the_doc_example_as_200_example(
    document: Json, doc_example: Json
) -> None:
    media = operation(document, GET_CALL_PATH, "get")["responses"]["200"]["content"]
    embedded = media["application/json"]["examples"]["documentationPage"]["value"]

    assert embedded == doc_example


@pytest.mark.parametrize(
    ("pointer", "value"),
    [
        (("data", "contact", "optIn"), True),
        (("data", "direction"), "sideways"),
        (("data", "status"), "answered"),
        (("data", "contact"), None),
        (("data", "created", "at"), "2023-11-07"),
        (("data", "contact", "email"), "chris.sakari.io"),
        (("data", "duration"), -1),
        (("data", "contact", "hubspot", "id"), "123"),
    ],
    ids=lambda value: ".".join(value) if isinstance(value, tuple) else repr(value),
)
def test_schema_rejects_a_drifted_doc_example(
    call_response_schema: Json,
    doc_example: Json,
    pointer: tuple[str, ...],
    value: Json,
) -> None:
    drifted = copy.deepcopy(doc_example)
    parent = drifted
    for key in pointer[:-1]:
        parent = parent[key]
    parent[pointer[-1]] = value

    assert error_paths(call_response_schema, drifted) == [list(pointer)]


def test_schema_rejects_a_missing_required_call_field(
    call_response_schema: Json, doc_example: Json
) -> None:
    drifted = copy.deepcopy(doc_example)
    del drifted["data"]["recording"]

    assert error_paths(call_response_schema, drifted) == [["data"]]


def test_schema_accepts_an_undocumented_field(
    call_response_schema: Json, doc_example: Json
) -> None:
    # Objects stay open; undocumented fields are reported by the strict overlay.
    extended = copy.deepcopy(doc_example)
    extended["data"]["contact"]["mobile"] = {"number": "123-456-7890"}

    assert error_paths(call_response_schema, extended) == []


# -- every field of the example is in the schema, with the same type -------


def test_every_example_field_is_in_the_schema_with_its_type(
    call_response_schema: Json, doc_example: Json
) -> None:
    assert walk_mismatches(doc_example, call_response_schema) == []


def test_schema_declares_no_field_beyond_the_page(
    call_response_schema: Json, doc_example: Json
) -> None:
    schema_paths = field_paths_of_schema(call_response_schema)
    example_paths = field_paths_of_instance(doc_example)

    assert schema_paths == example_paths
    # The page shows 102 field paths below the root (jq '[paths] | length').
    assert len(example_paths) == 103


def _remove_contact_opt_in(schema: Json) -> None:
    del schema["properties"]["data"]["properties"]["contact"]["properties"]["optIn"]


def _duration_as_string(schema: Json) -> None:
    schema["properties"]["data"]["properties"]["duration"]["type"] = "string"


def _list_opt_out_as_boolean(schema: Json) -> None:
    contact = schema["properties"]["data"]["properties"]["contact"]
    opt_out = contact["properties"]["lists"]["items"]["properties"]["optOut"]
    opt_out["type"] = "boolean"


def _sms_destinations_as_array(schema: Json) -> None:
    phone = schema["properties"]["data"]["properties"]["phoneNumber"]
    sms = phone["properties"]["channels"]["properties"]["sms"]
    sms["properties"]["supportedDestinations"] = {
        "type": "array",
        "items": {"type": "string"},
    }


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_remove_contact_opt_in, ["$.data.contact.optIn: not in the schema"]),
        (
            _duration_as_string,
            ["$.data.duration: example is integer, schema says string"],
        ),
        (
            _list_opt_out_as_boolean,
            ["$.data.contact.lists[0].optOut: example is string, schema says boolean"],
        ),
        (
            _sms_destinations_as_array,
            [
                "$.data.phoneNumber.channels.sms.supportedDestinations: "
                "example is object, schema says array"
            ],
        ),
    ],
    ids=lambda value: value.__name__.strip("_") if callable(value) else "",
)
def test_walker_names_the_path_of_a_mutated_schema(
    call_response_schema: Json,
    doc_example: Json,
    mutate: Callable[[Json], None],
    expected: list[str],
) -> None:
    mutated = copy.deepcopy(call_response_schema)
    mutate(mutated)

    assert walk_mismatches(doc_example, mutated) == expected


# -- paths, operations and status codes ------------------------------------


def test_document_has_exactly_the_three_operations(document: Json) -> None:
    operations = {
        (path, method, op["operationId"])
        for path, item in document["paths"].items()
        for method, op in item.items()
    }

    assert operations == {
        (GET_CALL_PATH, "get", "getCall"),
        (LIST_CALLS_PATH, "get", "listCalls"),
        (TOKEN_PATH, "post", "getToken"),
    }


@pytest.mark.parametrize(
    ("path", "method", "success_schema", "error_codes"),
    [
        (GET_CALL_PATH, "get", "CallResponse", CALL_ERRORS),
        (LIST_CALLS_PATH, "get", "CallListResponse", CALL_ERRORS | {"400"}),
        (TOKEN_PATH, "post", "TokenResponse", {"400", "401"}),
    ],
)
def test_operation_documents_its_status_codes(
    document: Json,
    path: str,
    method: str,
    success_schema: str,
    error_codes: set[str],
) -> None:
    responses = operation(document, path, method)["responses"]

    assert set(responses) == {"200"} | error_codes
    assert json_schema_ref(document, responses["200"]) == (
        f"#/components/schemas/{success_schema}"
    )
    for code in error_codes:
        assert json_schema_ref(document, responses[code]) == ERROR_RESPONSE, code


@pytest.mark.parametrize("path", [GET_CALL_PATH, LIST_CALLS_PATH])
def test_429_documents_retry_after_in_both_forms(document: Json, path: str) -> None:
    response = resolve_refs(
        operation(document, path, "get")["responses"]["429"], document
    )
    header = response["headers"]["Retry-After"]

    assert header["schema"] == {"type": "string"}
    assert "seconds" in header["description"]
    assert "HTTP-date" in header["description"]


def test_path_parameters_are_required_strings(document: Json) -> None:
    parameters = resolve_refs(
        operation(document, GET_CALL_PATH, "get")["parameters"], document
    )

    assert parameters == [
        {
            "name": "accountId",
            "in": "path",
            "required": True,
            "description": "Account to apply operations to",
            "schema": {"type": "string"},
        },
        {
            "name": "callId",
            "in": "path",
            "required": True,
            "description": "ID of call",
            "schema": {"type": "string"},
        },
    ]


def test_list_calls_pages_with_offset_and_limit(document: Json) -> None:
    parameters = resolve_refs(
        operation(document, LIST_CALLS_PATH, "get")["parameters"], document
    )
    by_name = {parameter["name"]: parameter for parameter in parameters}

    assert [parameter["name"] for parameter in parameters] == [
        "accountId",
        "offset",
        "limit",
    ]
    assert by_name["offset"]["in"] == "query"
    assert by_name["offset"]["schema"] == {
        "type": "integer",
        "minimum": 0,
        "default": 0,
    }
    assert by_name["limit"]["in"] == "query"
    assert by_name["limit"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 25,
    }


def test_security_is_bearer_except_for_the_token_endpoint(document: Json) -> None:
    schemes = document["components"]["securitySchemes"]
    token = operation(document, TOKEN_PATH, "post")

    assert document["security"] == [{"bearerAuth": []}]
    assert schemes["bearerAuth"]["type"] == "http"
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert schemes["bearerAuth"]["bearerFormat"] == "JWT"
    assert schemes["clientCredentials"]["flows"]["clientCredentials"]["tokenUrl"] == (
        TOKEN_PATH
    )
    assert token["security"] == []
    assert "security" not in operation(document, GET_CALL_PATH, "get")
    assert "security" not in operation(document, LIST_CALLS_PATH, "get")


def test_token_request_is_a_json_body(document: Json) -> None:
    body = operation(document, TOKEN_PATH, "post")["requestBody"]

    assert body["required"] is True
    assert body["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/TokenRequest"}}
    }


# -- enums, required lists, openness and descriptions ----------------------


def test_components_declare_exactly_the_named_schemas(document: Json) -> None:
    assert set(document["components"]["schemas"]) == {
        "AttributeFilter",
        "Call",
        "CallListResponse",
        "CallResponse",
        "Contact",
        "ContactList",
        "Created",
        "CreatedBy",
        "DoubleOptIn",
        "ErrorResponse",
        "IntegrationRef",
        "ListFilter",
        "Pagination",
        "PhoneNumber",
        "PhoneNumberChannels",
        "TokenRequest",
        "TokenResponse",
    }


def test_enums_are_exactly_the_ones_relied_on(document: Json) -> None:
    enums = {
        pointer: node["enum"]
        for pointer, node in iter_nodes(document)
        if "enum" in node
    }

    assert enums == {
        "/components/schemas/Call/properties/direction": ["inbound", "outbound"],
        "/components/schemas/Call/properties/status": [
            "initiated",
            "ringing",
            "in-progress",
            "completed",
            "busy",
            "no-answer",
            "failed",
            "canceled",
        ],
        "/components/schemas/TokenRequest/properties/grant_type": [
            "client_credentials"
        ],
    }


def test_required_lists_are_exactly_the_ones_relied_on(document: Json) -> None:
    required = {
        path: schema["required"]
        for path, schema in iter_component_subschemas(document)
        if "required" in schema
    }

    assert required == {
        "CallResponse": ["success", "data"],
        "Call": [
            "id",
            "direction",
            "status",
            "contact",
            "phoneNumber",
            "created",
            "duration",
            "voicemail",
            "recording",
        ],
        "Contact": ["id"],
        "PhoneNumber": ["id"],
        "Created": ["at"],
        "ErrorResponse": ["success", "error"],
        "ErrorResponse.error": ["code", "message"],
        "CallListResponse": ["success", "data"],
        "TokenRequest": ["grant_type", "client_id", "client_secret"],
        "TokenResponse": ["access_token"],
    }


def test_nothing_is_nullable(document: Json) -> None:
    offenders = [
        pointer
        for pointer, node in iter_nodes(document)
        if "nullable" in node
        or node.get("type") == "null"
        or (isinstance(node.get("type"), list) and "null" in node["type"])
    ]

    assert offenders == []


def test_no_object_is_closed(document: Json) -> None:
    offenders = [
        pointer
        for pointer, node in iter_nodes(document)
        if node.get("additionalProperties") is False
        or node.get("unevaluatedProperties") is False
    ]

    assert offenders == []


def test_schemas_use_only_the_agreed_keywords(document: Json) -> None:
    offenders = {
        path: sorted(set(schema) - SCHEMA_KEYWORDS)
        for path, schema in iter_component_subschemas(document)
        if set(schema) - SCHEMA_KEYWORDS
    }

    assert offenders == {}


def test_schemas_objects_and_enums_are_described(document: Json) -> None:
    undescribed = [
        path
        for path, schema in iter_component_subschemas(document)
        if (path.count(".") == 0 or "enum" in schema or schema.get("type") == "object")
        and "$ref" not in schema
        and not schema.get("description", "").strip()
    ]

    assert undescribed == []


def test_enum_descriptions_say_the_values_are_relied_on(document: Json) -> None:
    call = document["components"]["schemas"]["Call"]["properties"]

    for name in ("direction", "status"):
        assert "relies on" in call[name]["description"], name
        assert "INFERRED" in call[name]["description"], name


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Contact.optIn", {"type": "string", "format": "date-time"}),
        ("Contact.blocked", {"type": "string", "format": "date-time"}),
        ("ContactList.optIn", {"type": "string", "format": "date-time"}),
        ("ContactList.optOut", {"type": "string", "format": "date-time"}),
        ("ListFilter.optIn", {"type": "boolean"}),
        ("ListFilter.blocked", {"type": "boolean"}),
        ("PhoneNumber.supportedDestinations", {"type": "array"}),
        ("PhoneNumber.supportedDestinations[]", {"type": "string"}),
        ("PhoneNumber.forwardTo", {"type": "object"}),
        ("PhoneNumberChannels.sms.supportedDestinations", {"type": "object"}),
        ("PhoneNumberChannels.voice.incoming.forwardTo", {"type": "string"}),
        ("IntegrationRef.id", {"type": "integer"}),
        ("Call.duration", {"type": "integer", "minimum": 0}),
        ("Contact.email", {"type": "string", "format": "email"}),
        ("CreatedBy.email", {"type": "string", "format": "email"}),
        ("Contact.attributes", {"type": "object"}),
    ],
)
def test_provider_traps_are_typed_as_the_page_shows(
    document: Json, path: str, expected: dict[str, Json]
) -> None:
    schemas = dict(iter_component_subschemas(document))
    keywords = {
        key: value
        for key, value in schemas[path].items()
        if key not in {"description", "examples", "items", "properties"}
    }

    assert keywords == expected
