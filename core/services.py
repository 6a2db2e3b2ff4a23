"""Helpers every app's services use."""

from typing import Any, TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


class _Unset:
    """The default of an update service's keyword arguments: "leave this field as it is" (None may be a value)."""

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()


def given(**arguments) -> dict[str, Any]:
    """The keyword arguments a caller passed (those not UNSET), in order: an update service's changes."""
    return {name: value for name, value in arguments.items() if value is not UNSET}


def model_update(*, instance: M, data: dict[str, Any], save: bool = True) -> list[str]:
    """Set each of `data` on `instance` where it differs; save just those fields; return their names.

    Fields with `auto_now` (`updated_at`) are saved along when anything
    changed. Nothing changed: nothing is written. `save=False` leaves saving to
    the caller (who still has checks to make on the whole instance).
    """
    changed = [name for name, value in data.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, data[name])
    if changed and save:
        stamps = [f.name for f in instance._meta.concrete_fields if getattr(f, "auto_now", False)]
        instance.save(update_fields=[*changed, *(name for name in stamps if name not in changed)])
    return changed
