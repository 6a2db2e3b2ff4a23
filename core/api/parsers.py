"""Request parsers for the whole API."""

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def json_depth_exceeds(data, limit: int) -> bool:
    """Whether `data` (parsed JSON) nests lists and objects more than `limit` levels deep; iterative, no recursion."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with a limit on how deeply a body may nest (`API_JSON_MAX_DEPTH`).

    Python's decoder recurses once per level, so ten thousand `[` ran out of
    stack (a 500); no request of ours nests more than a few levels.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_JSON_MAX_DEPTH
        message = f"JSON nested more than {limit} levels deep is not accepted."
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(message) from None
        if json_depth_exceeds(data, limit):
            raise ParseError(message)
        return data
