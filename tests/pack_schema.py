"""The pack's published schema (OpenAPI, `Pack` in /api/v1/schema/) as a strict JSON Schema, to check packs against.

`tests/conftest.py` checks every pack the suite builds, for every role, so
the hand-built dict (`readings.pack.builder`) and the contract clients are
generated from cannot part: a key the schema does not declare, a missing
required one or a wrong type fails the test that built it.
"""

from functools import cache

import jsonschema


def _strict(node):
    """OpenAPI 3.0 to JSON Schema: `nullable` becomes a null alternative; objects take no undeclared keys."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _strict(value) for key, value in node.items()}
    if node.get("type") == "object" and "properties" in node:
        node.setdefault("additionalProperties", False)
    if node.pop("nullable", False):
        node = {"anyOf": [node, {"type": "null"}]}
    return node


@cache
def pack_validator() -> jsonschema.protocols.Validator:
    from drf_spectacular.generators import SchemaGenerator

    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    schema = {"$ref": "#/components/schemas/Pack", "components": {"schemas": _strict(components)}}
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def pack_problems(pack: dict) -> list[str]:
    """Where `pack` departs from the published schema (empty when it matches)."""
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(pack)'}: {error.message}"
        for error in pack_validator().iter_errors(pack)
    ]
