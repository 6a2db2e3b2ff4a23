"""The OpenAPI schema says what each operation can answer, errors included.

Every operation of the API can fail in the same few ways, with the same JSON
body (`api/errors.py`): a bad credential (401, on every operation: a wrong
token is refused even where none is needed), invalid input (400, with
`errors` by field), a change you may not make or a cookie session without its
CSRF token (403), an object outside your groups or a page past the end (404),
a body in a content type the operation does not take (415), and too many
tries (429). Rather than decorate each view, this schema class adds those
answers from what it can see of the operation (its method, parameters, body
and throttles); views declare only what is particular to them (a 410, a 403
on a read), and get the error body filled in.
"""

from drf_spectacular import openapi
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

from .pagination import PageNumberPagination


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in a sentence a person can act on.")


class ValidationErrorSerializer(ErrorSerializer):
    detail = serializers.CharField(help_text="The first problem, naming its field (`field: message`).")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Every message, by field (`non_field_errors` for the request as a whole; `body` for an unreadable "
        "body).",
    )


DESCRIPTIONS = {
    "400": "Invalid request: `detail` names the field and the problem, `errors` lists every message by field.",
    "401": "No credentials, or credentials that are not valid (an unknown or revoked token).",
    "403": "Signed in, but not allowed to do this; or a cookie session sent no valid CSRF token.",
    "404": "Not found, or not in one of your groups (or a page past the end of the list).",
    "415": "The body is in a content type this operation does not take.",
    "429": "Too many attempts; wait the seconds that `Retry-After` gives.",
}


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in self._error_statuses(operation):
            responses.setdefault(code, {"description": DESCRIPTIONS[code]})
        for code, response in responses.items():
            if code >= "400" and "content" not in response:
                serializer = ValidationErrorSerializer if code == "400" else ErrorSerializer
                body = self._get_response_for_code(serializer, code, media_types=["application/json"])
                responses[code] = {**body, "description": response.get("description") or body["description"]}
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_statuses(self, operation: dict) -> list[str]:
        parameters = operation.get("parameters", [])
        locations = {parameter["in"] for parameter in parameters}
        paginated = any(parameter["name"] == PageNumberPagination.page_query_param for parameter in parameters)
        unsafe = self.method not in SAFE_METHODS
        codes = ["401"]
        if unsafe or "query" in locations:
            codes.append("400")
        if unsafe:
            codes.append("403")
        if "path" in locations or paginated:
            codes.append("404")
        if "requestBody" in operation:
            codes.append("415")
        if self.view.get_throttles():
            codes.append("429")
        return codes
