"""Readings' reactions to changes in `sessions_app` (wiring only: each receiver calls one service)."""

from sessions_app.signals import profile_changed

from .pack.versions import pack_versions_bump_for_name


def on_profile_changed(sender, *, user, changed, **kwargs) -> None:
    if "display_name" in changed:  # packs show people by name: as authors and in mentions
        pack_versions_bump_for_name(user_id=user.pk)


def connect() -> None:
    profile_changed.connect(on_profile_changed, dispatch_uid="readings.profile_changed")
