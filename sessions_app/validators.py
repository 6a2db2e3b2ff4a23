import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError


@cache
def known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    """An IANA name such as `Europe/London`; abbreviations like `EST` are not enough."""
    if value not in known_timezones():
        raise ValidationError(
            "“%(value)s” is not a known IANA timezone; use a name such as “Europe/London” or “America/New_York”.",
            code="invalid_timezone",
            params={"value": value},
        )
