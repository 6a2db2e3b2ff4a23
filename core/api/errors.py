"""One JSON error shape for the whole API.

`{"detail": "<a sentence a person can act on>", "errors": {"<field>": ["..."]}}`:
`detail` always names the field when there is one; `errors` is present for
validation failures. Django's ValidationError and our domain errors raised
by services are translated here, so services stay free of HTTP.
"""

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..exceptions import Gone
from ..transactions import in_request_transaction


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = key if not prefix else f"{prefix}.{key}"
            if key in ("non_field_errors", "__all__"):
                name = prefix or "non_field_errors"
            for field, messages in _flatten(value, name).items():
                out.setdefault(field, []).extend(messages)
        return out
    if isinstance(detail, list):
        if detail and all(isinstance(item, (str, exceptions.ErrorDetail)) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            for field, messages in _flatten(item, f"{prefix}[{index}]" if prefix else str(index)).items():
                out.setdefault(field, []).extend(messages)
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def validation_response(detail) -> Response:
    errors = _flatten(detail)
    field, messages = next(iter(errors.items()))
    summary = messages[0] if field == "non_field_errors" else f"{field}: {messages[0]}"
    return Response({"detail": summary, "errors": errors}, status=status.HTTP_400_BAD_REQUEST)


def exception_handler(exc, context):
    """Translate `exc` into our JSON error; a write's transaction is rolled back (nothing half-written).

    The request's transaction is `core.transactions`'s, for writes only: a read
    has none, and neither has a view that runs outside it (`non_atomic_requests`,
    e.g. the token view, whose failed logins must stay recorded); those must
    not mark an enclosing one (a test's) as broken. DRF's own `set_rollback`
    reads `ATOMIC_REQUESTS`, which is off, and does nothing.
    """
    response = _handle(exc, context)
    if response is not None and in_request_transaction(context.get("request")):
        transaction.set_rollback(True)
    return response


def _handle(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return validation_response(detail)
    if isinstance(exc, RequestDataTooBig):
        message = "The request body is larger than this server accepts; send a smaller file."
        return Response({"detail": f"body: {message}", "errors": {"body": [message]}}, status=400)
    if isinstance(exc, Gone):
        return Response({"detail": exc.message}, status=status.HTTP_410_GONE)
    if isinstance(exc, exceptions.ValidationError):
        return validation_response(exc.detail)
    if isinstance(exc, exceptions.ParseError):
        return Response(
            {"detail": f"The request body could not be read: {exc.detail}", "errors": {"body": [str(exc.detail)]}},
            status=status.HTTP_400_BAD_REQUEST,
        )
    return drf_exception_handler(exc, context)


def page_not_found(request, exception):
    """Django's 404 handler: an unknown address under /api/ answers in the API's JSON; pages keep theirs."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "There is nothing at this address in the API."}, status=status.HTTP_404_NOT_FOUND
        )
    return defaults.page_not_found(request, exception)
