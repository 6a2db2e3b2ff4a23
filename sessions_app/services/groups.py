"""Groups, memberships and invitations: every write, under one transaction each."""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from core.links import absolute_url
from core.services import UNSET, given, model_update
from core.validators import validate_single_line, validate_timezone

from ..enums import NoteVisibility, Role, SummaryAttendance
from ..exceptions import InvitationUnavailable
from ..models import Invitation, Membership, StudyGroup, User
from ..signals import group_reminders_changed, membership_changed
from ..versions import Audience, group_versions_bump, session_versions_bump
from .schedule import check_leads


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "group"
    slug, n = base, 2
    while StudyGroup.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ValidationError({"role": f"“{role}” is not a role; choose one of {', '.join(Role.values)}."})


@transaction.atomic
def group_create(*, creator: User, name: str, description: str = "", timezone: str = "UTC") -> StudyGroup:
    """Create a group with `creator` as its first organizer."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the group a name."})
    try:
        validate_timezone(timezone)
    except ValidationError as error:
        raise ValidationError({"timezone": error.messages}) from None
    group = StudyGroup.objects.create(name=name, slug=_unique_slug(name), description=description, timezone=timezone)
    membership_add(group=group, user=creator, role=Role.ORGANIZER)
    return group


@transaction.atomic
def group_update(
    *,
    group: StudyGroup,
    name: str = UNSET,
    description: str = UNSET,
    timezone: str = UNSET,
    reading_lead_minutes: int = UNSET,
    starting_lead_minutes: int = UNSET,
    default_note_visibility: str = UNSET,
    highlights_unlock_peek: bool = UNSET,
    member_progress_visible: bool = UNSET,
    summary_attendance: str = UNSET,
) -> StudyGroup:
    """Change a group's name, description, default timezone, reminder defaults, note settings, progress setting
    or how the after-session summary tells who came (a change reaches every pack of the group)."""
    fields = given(
        name=name,
        description=description,
        timezone=timezone,
        reading_lead_minutes=reading_lead_minutes,
        starting_lead_minutes=starting_lead_minutes,
        default_note_visibility=default_note_visibility,
        highlights_unlock_peek=highlights_unlock_peek,
        member_progress_visible=member_progress_visible,
        summary_attendance=summary_attendance,
    )
    if fields.get("summary_attendance", SummaryAttendance.NAMES) not in SummaryAttendance.values:
        raise ValidationError({"summary_attendance": f"Choose one of: {', '.join(SummaryAttendance.values)}."})
    if fields.get("default_note_visibility", NoteVisibility.GROUP) not in NoteVisibility.values:
        raise ValidationError({"default_note_visibility": f"Choose one of: {', '.join(NoteVisibility.values)}."})
    if "timezone" in fields:
        try:
            validate_timezone(fields["timezone"])
        except ValidationError as error:
            raise ValidationError({"timezone": error.messages}) from None
    if "name" in fields and not fields["name"].strip():
        raise ValidationError({"name": "Give the group a name."})
    check_leads(fields.get("reading_lead_minutes"), fields.get("starting_lead_minutes"))
    changed = model_update(instance=group, data=fields)
    if "summary_attendance" in changed:  # the previous session's summary, in the packs of the group
        group_versions_bump(group_ids=[group.pk])
    if "member_progress_visible" in changed:  # names or totals in the facilitators' brief
        group_versions_bump(group_ids=[group.pk], audience=Audience.FACILITATORS)
    if {"reading_lead_minutes", "starting_lead_minutes"} & set(changed):
        group_reminders_changed.send(sender=StudyGroup, group=group)
    return group


@transaction.atomic
def membership_add(*, group: StudyGroup, user: User, role: str = Role.MEMBER) -> Membership:
    """Add `user` to `group`; an existing membership is returned unchanged."""
    _check_role(role)
    membership, created = Membership.objects.get_or_create(group=group, user=user, defaults={"role": role})
    if created:
        group_versions_bump(group_ids=[group.pk], audience=Audience.FACILITATORS)  # the brief lists members
        membership_changed.send(sender=Membership, group=group, user=user, started=True)
    return membership


def _lock_organizers(group: StudyGroup) -> list[int]:
    """Lock the organizer rows so two demotions cannot both pass the last-organizer check."""
    return list(
        Membership.objects.select_for_update()
        .filter(group=group, role=Role.ORGANIZER)
        .order_by("pk")
        .values_list("user_id", flat=True)
    )


def _guard_last_organizer(group: StudyGroup, membership: Membership, action: str) -> None:
    organizers = _lock_organizers(group)
    if membership.role == Role.ORGANIZER and organizers == [membership.user_id]:
        raise ValidationError(
            {
                "role": f"{membership.user.name} is the group's last organizer and cannot {action}; "
                "make another member an organizer first."
            }
        )


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str) -> Membership:
    """Change a member's role; the last organizer cannot be demoted."""
    _check_role(role)
    if role != Role.ORGANIZER:
        _guard_last_organizer(membership.group, membership, "be demoted")
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_end(*, membership: Membership, leaving: bool) -> None:
    """Remove a member (or let them leave); the last organizer can do neither."""
    _guard_last_organizer(membership.group, membership, "leave" if leaving else "be removed")
    group, user = membership.group, membership.user
    membership.delete()
    facilitated = list(user.facilitated_sessions.filter(group=group))
    user.facilitated_sessions.remove(*facilitated)
    session_versions_bump(sessions=[session.pk for session in facilitated], audience=Audience.EVERYONE)
    group_versions_bump(group_ids=[group.pk], audience=Audience.FACILITATORS)  # the brief lists members
    membership_changed.send(sender=Membership, group=group, user=user, started=False)


def invitation_url(invitation: Invitation) -> str:
    return absolute_url("invitation-signup-page", invitation.token)


@transaction.atomic
def invitation_create(
    *,
    group: StudyGroup,
    created_by: User,
    role: str = Role.MEMBER,
    max_uses: int = 1,
    expires_at: datetime | None = None,
) -> Invitation:
    """A link that lets up to `max_uses` people join `group` as `role` until `expires_at`."""
    _check_role(role)
    if max_uses < 1:
        raise ValidationError({"max_uses": "An invitation must allow at least one use."})
    now = timezone.now()
    if expires_at is None:
        expires_at = now + timedelta(days=settings.INVITATION_DEFAULT_DAYS)
    if expires_at <= now:
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    return Invitation.objects.create(
        group=group,
        created_by=created_by,
        role=role,
        max_uses=max_uses,
        expires_at=expires_at,
        token=secrets.token_urlsafe(24),
    )


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> Invitation:
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation


def invitation_problem(invitation: Invitation) -> str | None:
    """Why the invitation can no longer be used, or None while it can."""
    if invitation.revoked_at is not None:
        return "This invitation was revoked; ask the organizer for a new link."
    if invitation.expires_at <= timezone.now():
        return "This invitation has expired; ask the organizer for a new link."
    if invitation.use_count >= invitation.max_uses:
        return "This invitation has been used up; ask the organizer for a new link."
    return None


def _consume(invitation: Invitation) -> Invitation:
    invitation = Invitation.objects.select_for_update().select_related("group").get(pk=invitation.pk)
    if problem := invitation_problem(invitation):
        raise InvitationUnavailable(problem)
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Join the invitation's group. A member already in the group keeps their role and the use is not spent."""
    invitation = _consume(invitation)
    existing = Membership.objects.filter(group=invitation.group, user=user).first()
    if existing is not None:
        return existing
    invitation.use_count += 1
    invitation.save(update_fields=["use_count"])
    return membership_add(group=invitation.group, user=user, role=invitation.role)


def _username_problems(username: str) -> list[str]:
    """What Django's own validators (and ours) say about a new user name: the same rules as the admin's."""
    problems: list[str] = []
    for validator in [validate_single_line, *User._meta.get_field("username").validators]:
        try:
            validator(username)
        except ValidationError as error:
            problems.extend(error.messages)
    return problems[:1]


def signup_problems(*, username: str, email: str, password: str, display_name: str = "") -> dict[str, list[str]]:
    """Everything wrong with a sign-up, every field at once: {field: [messages]} (empty when it is fine)."""
    username = username.strip()
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = ["Choose a user name."]
    elif problems := _username_problems(username):
        errors["username"] = problems
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["That user name is taken; choose another."]
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = ["Give an email address; reminders and password resets go there."]
    name = display_name.strip()
    try:
        validate_single_line(name)
        if len(name) > 150:
            raise ValidationError("Keep your name to 150 characters.")
    except ValidationError as error:
        errors["display_name"] = error.messages
    candidate = User(username=username, email=email, display_name=name)
    try:
        validate_password(password, user=candidate)
    except ValidationError as error:
        errors["password"] = error.messages
    return errors


@transaction.atomic
def invitation_signup(
    *, invitation: Invitation, username: str, email: str, password: str, display_name: str = ""
) -> Membership:
    """Create an account (with the name others see) and its membership at once; nothing is written if either fails."""
    invitation = _consume(invitation)
    errors = signup_problems(username=username, email=email, password=password, display_name=display_name)
    if errors:
        raise ValidationError(errors)
    username = username.strip()
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username=username, email=email, password=password, display_name=display_name.strip()
            )
    except IntegrityError:
        raise ValidationError({"username": "That user name is taken; choose another."}) from None
    invitation.use_count += 1
    invitation.save(update_fields=["use_count"])
    return membership_add(group=invitation.group, user=user, role=invitation.role)
