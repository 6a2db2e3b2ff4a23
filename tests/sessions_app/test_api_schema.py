"""The published OpenAPI schema says what the API takes and answers (core/api/schema.py).

The live checks are tests/test_api_contract.py (schemathesis) and tests/test_api_client.py (a
generated client); these read the schema itself, quickly, and the answers it promises.
"""

import pytest

pytestmark = pytest.mark.django_db

UPLOADS = {("post", "/api/v1/texts/"), ("post", "/api/v1/texts/{id}/revisions/"), ("post", "/api/v1/texts/inspect/")}
ERROR = {"$ref": "#/components/schemas/Error"}
VALIDATION_ERROR = {"$ref": "#/components/schemas/ValidationError"}


@pytest.fixture
def schema(client) -> dict:
    return client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def body_schema(response: dict) -> dict:
    return response["content"]["application/json"]["schema"]


def test_every_operation_takes_one_request_content_type_json_but_for_uploads(schema):
    content_types = {
        (method, path): sorted(operation["requestBody"]["content"])
        for method, path, operation in operations(schema)
        if "requestBody" in operation
    }

    assert {key for key, types in content_types.items() if types != ["application/json"]} == UPLOADS
    assert {content_types[key][0] for key in UPLOADS} == {"multipart/form-data"}


def test_every_operation_declares_the_errors_it_can_answer_with_the_error_body(schema):
    missing = []
    for method, path, operation in operations(schema):
        responses = operation["responses"]
        expected = {"401": ERROR}
        locations = {parameter["in"] for parameter in operation.get("parameters", [])}
        if method != "get" or "query" in locations:
            expected["400"] = VALIDATION_ERROR
        if method != "get":
            expected["403"] = ERROR
        if "path" in locations:
            expected["404"] = ERROR
        if "requestBody" in operation:
            expected["415"] = ERROR
        for code, body in expected.items():
            if code not in responses or body_schema(responses[code]) != body:
                missing.append(f"{method.upper()} {path} {code}")

    assert missing == []


def test_particular_errors_are_declared_where_they_happen(schema):
    paths = schema["paths"]

    def declared(method: str, path: str) -> set[str]:
        return {code for code, response in paths[path][method]["responses"].items() if code >= "400"}

    assert {"410", "429"} <= declared("post", "/api/v1/invitations/{token}/signup/")
    assert "410" in declared("post", "/api/v1/invitations/{token}/accept/")
    assert "429" in declared("post", "/api/v1/auth/token/")
    assert "429" not in declared("post", "/api/v1/groups/")
    for read in (
        "/api/v1/groups/{id}/invitations/",
        "/api/v1/sessions/{id}/attendance/",
        "/api/v1/sessions/{session_pk}/discussion/",
    ):
        assert body_schema(paths[read]["get"]["responses"]["403"]) == ERROR, read
    # A page past the end of a list is a 404.
    assert "404" in declared("get", "/api/v1/sessions/")
    assert body_schema(paths["/api/v1/sessions/{session_pk}/pack/"]["get"]["responses"]["404"]) == ERROR
    assert "content" not in paths["/api/v1/sessions/{session_pk}/pack/"]["get"]["responses"]["304"]


def test_error_bodies_are_described(schema):
    components = schema["components"]["schemas"]

    assert components["Error"]["required"] == ["detail"]
    assert components["ValidationError"]["required"] == ["detail", "errors"]
    assert components["ValidationError"]["properties"]["errors"]["additionalProperties"] == {
        "type": "array",
        "items": {"type": "string"},
    }


def test_fields_that_can_be_null_are_declared_nullable(schema):
    invitation = schema["components"]["schemas"]["Invitation"]["properties"]

    assert invitation["revoked_at"]["nullable"] is True
    assert "nullable" not in invitation["created_at"]


def test_ids_in_paths_and_filters_are_integers(schema):
    types = {
        (path, parameter["name"]): parameter["schema"]["type"]
        for _method, path, operation in operations(schema)
        for parameter in operation.get("parameters", [])
        if parameter["name"] in ("session_pk", "user_id", "passage", "text", "session", "author", "question")
    }

    assert set(types.values()) == {"integer"}
    assert types[("/api/v1/sessions/{session_pk}/questions/{id}/", "session_pk")] == "integer"
    assert types[("/api/v1/notes/", "passage")] == "integer"


def test_the_pack_and_reordered_questions_are_described_as_they_are_sent(schema):
    paths, components = schema["paths"], schema["components"]["schemas"]
    reorder = paths["/api/v1/sessions/{session_pk}/questions/reorder/"]["post"]

    assert body_schema(reorder["responses"]["200"]) == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Question"},
    }
    assert [p["name"] for p in reorder.get("parameters", [])] == ["session_pk"]
    assert components["Pack"]["properties"]["session"] == {"$ref": "#/components/schemas/PackSession"}
    assert components["PackNote"]["properties"]["replies"]["items"] == {"$ref": "#/components/schemas/PackNote"}


def test_operations_are_described_by_their_own_views(schema):
    descriptions = {(method, path): operation.get("description", "") for method, path, operation in operations(schema)}

    assert descriptions[("get", "/api/v1/sessions/")].startswith("The sessions of your groups")
    assert descriptions[("get", "/api/v1/sessions/{session_pk}/readings/")].startswith("A session's reading")
    assert not [key for key, text in descriptions.items() if "JSON" in text and "Errors go out" in text]
