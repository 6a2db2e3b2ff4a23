"""Notes (annotations): writing, editing, deleting, hiding, and re-anchoring after a revision."""

import re
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.db.models import F, Q, signals
from django.db.models.functions import Lower
from django.utils import timezone

from core.services import UNSET, given
from sessions_app.models import Membership, User

from ..anchoring import SelectorError, find_again, make_selector, occurrences, selector_at
from ..enums import AnchorState, NoteVisibility
from ..mentions import MAX_MENTIONS, mentioned_usernames
from ..models import DiscussionQuestion, Note, NoteHelpful, NoteMention, NoteTag, Passage, ReadingAssignment, Text
from ..pack.versions import note_reaches, pack_versions_bump_for_notes
from ..rendering import markdown_problem, render_markdown
from ..selectors import note_audience
from ..signals import note_written

MAX_TAGS = 10
_TAG = re.compile(r"^[\w][\w\- ]{0,39}$")


def _clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        name = " ".join(str(tag).split()).lower().lstrip("#")
        if not _TAG.match(name):
            raise ValidationError({"tags": f"“{tag}” is not a tag: use up to 40 letters, digits, spaces or dashes."})
        if name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError({"tags": f"Use at most {MAX_TAGS} tags."})
    return cleaned


def _check_body(body: str, *, required: bool) -> str:
    limit = settings.NOTE_BODY_MAX_CHARS
    if len(body) > limit:
        raise ValidationError({"body": f"The note is {len(body):,} characters long; the limit is {limit:,}."})
    if required and not body.strip():
        raise ValidationError({"body": "Write something in the note."})
    if problem := markdown_problem(body, what="note"):
        raise ValidationError({"body": problem})
    return body


def _selector(passage: Passage, selector: dict | None) -> dict | None:
    if selector is None:
        return None
    if not isinstance(selector, dict):
        raise ValidationError({"selector": "Give the selector as {start, end, exact}, or null for the whole passage."})
    try:
        return make_selector(passage.body, selector.get("start"), selector.get("end"), selector.get("exact"))
    except SelectorError as error:
        raise ValidationError({"selector": str(error)}) from None


def _check_question(question: DiscussionQuestion | None, passage: Passage) -> None:
    if question is None:
        return
    reads_text = ReadingAssignment.objects.filter(session_id=question.session_id, text_id=passage.text_id).exists()
    if question.session.group_id != passage.text.group_id or not reads_text:
        raise ValidationError({"question": "That question belongs to a session that does not read this passage."})


def _mentioned_members(body: str, group_id: int) -> list[User]:
    """The group's members that `body` mentions; a 400 on `body` for anyone else, or for too many."""
    names = mentioned_usernames(body)
    if len(names) > MAX_MENTIONS:
        raise ValidationError(
            {"body": f"Mention at most {MAX_MENTIONS} people in one note; this one mentions {len(names)}."}
        )
    if not names:
        return []
    members = {
        user.username.casefold(): user
        for user in User.objects.annotate(folded=Lower("username")).filter(
            folded__in=[name.casefold() for name in names], memberships__group_id=group_id
        )
    }
    # Unknown and outside the group read the same: the message must not tell who has an account elsewhere.
    if strangers := [name for name in names if name.casefold() not in members]:
        listed = ", ".join(f"@{name}" for name in strangers)
        verb = "is not a member" if len(strangers) == 1 else "are not members"
        raise ValidationError({"body": f"{listed} {verb} of this group: only members can be mentioned."})
    return [members[name.casefold()] for name in names]


def _set_mentions(note: Note, mentioned: list[User], *, new: bool = False) -> list[int]:
    """Record who `note` mentions and whether its audience includes them; returns whom it now newly reaches."""
    if new and not mentioned:
        return []
    audience = note_audience(note, {user.pk for user in mentioned} - {note.author_id})
    before = dict(NoteMention.objects.filter(note=note).values_list("user_id", "notified"))
    NoteMention.objects.filter(note=note).exclude(user_id__in=[user.pk for user in mentioned]).delete()
    rows = [NoteMention(note=note, user=user, notified=user.pk in audience) for user in mentioned]
    NoteMention.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["note", "user"], update_fields=["notified"]
    )
    return [user.pk for user in mentioned if user.pk in audience and not before.get(user.pk)]


def _set_tags(note: Note, tags: list[str], *, new: bool = False) -> list[NoteTag]:
    """Replace the note's tags (a new note has none to delete); returns the rows written."""
    if not new:
        note.tags.all().delete()
    rows = [NoteTag(note=note, name=name) for name in tags]
    if rows:
        NoteTag.objects.bulk_create(rows)
    return rows


def _keep_as_read(note: Note, relation: str, rows: list) -> None:
    """Hold `rows` as `note.<relation>.all()`, as `prefetch_related` would, so showing the note reads them no more.

    Only for rows that are the whole relation, in its order (its Meta ordering).
    """
    queryset = getattr(note, relation).all()
    queryset._result_cache, queryset._prefetch_done = rows, True
    note._prefetched_objects_cache = {**getattr(note, "_prefetched_objects_cache", {}), relation: queryset}


def _check_visibility(visibility: str) -> None:
    if visibility not in NoteVisibility.values:
        raise ValidationError({"visibility": f"“{visibility}” is not one of: {', '.join(NoteVisibility.values)}."})


def _remember_audience(*, author_id: int, group_id: int, visibility: str, membership: Membership | None = None) -> None:
    """The person's note form in this group starts at the audience they chose last (one UPDATE, often none).

    With their `membership` as read in this transaction, none when it holds that audience already.
    """
    if membership is None:
        Membership.objects.filter(user_id=author_id, group_id=group_id).exclude(note_visibility=visibility).update(
            note_visibility=visibility
        )
    elif membership.note_visibility != visibility:
        # By the membership's id, in SQL made from the model's names (the ORM compiled the UPDATE each time).
        connection = connections[router.db_for_write(Membership, instance=membership)]
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {quote(Membership._meta.db_table)} SET "  # noqa: S608 (names from the model, quoted)
                f"{quote(Membership._meta.get_field('note_visibility').column)} = %s "
                f"WHERE {quote(Membership._meta.pk.column)} = %s",
                [str(visibility), membership.pk],
            )
        membership.note_visibility = visibility


def _check_highlight(*, body: str, selector: dict | None, parent: Note | None, question) -> None:
    if body.strip():
        raise ValidationError({"body": "A highlight has no words of its own: leave the body empty, or write a note."})
    if selector is None:
        raise ValidationError({"selector": "A highlight marks words: give the selector of the words to highlight."})
    if parent is not None:
        raise ValidationError({"parent": "A reply cannot be a highlight."})
    if question is not None:
        raise ValidationError({"question": "A highlight has no words, so it cannot answer a question."})


def note_create(
    *,
    author: User,
    passage: Passage,
    body: str = "",
    visibility: str | None = None,
    selector: dict | None = None,
    parent: Note | None = None,
    question: DiscussionQuestion | None = None,
    tags: Iterable[str] = (),
    highlight: bool = False,
    membership: Membership | None = None,
) -> Note:
    """Write a note on `passage` (or on the quoted span given by `selector`), or a highlight.

    The caller has checked that the author may see the passage and, for a
    reply, the parent. A reply sits on its parent's passage, belongs to its
    parent's thread (`root`) and takes the thread root's audience, whatever
    visibility was asked for; a reply under a hidden note is out of view with
    it (`hidden_root`). The thread's root is locked while the reply is
    written, so an audience change cannot slip in between.

    Without `visibility`, a note is for the audience the author chose last
    in this group, else the group's default (`Membership.default_note_visibility`);
    a top-level note remembers the audience it was written for. A
    `highlight` marks words with no body: private unless asked otherwise,
    never a reply, and it changes no remembered audience. `membership`, the
    author's in the passage's group if the caller has read it (with its group),
    saves reading it again.

    Everything is checked before anything is written, and the writes need no
    savepoint of their own (`_writing`): a refused note leaves the caller's
    transaction as it was.
    """
    if visibility is not None:
        _check_visibility(visibility)
    if passage.retired:
        raise ValidationError({"passage": "That passage was removed in a later revision of the text."})
    if highlight:
        _check_highlight(body=body, selector=selector, parent=parent, question=question)
        visibility = visibility or NoteVisibility.PRIVATE
    else:
        _check_body(body, required=True)
    group_id = passage.text.group_id
    if membership is not None and (membership.user_id, membership.group_id) != (author.pk, group_id):
        membership = None
    if parent is not None:
        if parent.passage_id != passage.pk:
            raise ValidationError({"parent": "A reply belongs on the same passage as the note it answers."})
        if parent.deleted_at is not None:
            raise ValidationError({"parent": "That note was deleted; it takes no new replies."})
        if parent.highlight:
            raise ValidationError({"parent": "A highlight takes no replies."})
        selector = None
    _check_question(question, passage)
    mentioned = _mentioned_members(body, group_id)
    selector = _selector(passage, selector)
    tag_names = _clean_tags(tags)
    remember = visibility is not None and parent is None and not highlight
    if visibility is None:
        if membership is None:
            membership = Membership.objects.select_related("group").filter(user=author, group_id=group_id).first()
        visibility = membership.default_note_visibility if membership else NoteVisibility.PRIVATE
    with _writing():
        if remember:
            _remember_audience(author_id=author.pk, group_id=group_id, visibility=visibility, membership=membership)
        root_id = hidden_root_id = hidden_author_id = None
        thread_author_id = author.pk
        if parent is not None:
            root_id = parent.root_id or parent.pk
            current = {
                pk: row
                for pk, *row in Note.objects.select_for_update()
                .filter(pk__in={root_id, parent.pk})
                .values_list("pk", "visibility", "author_id", "hidden_root_id", "hidden_author_id")
            }
            visibility, thread_author_id = current[root_id][0], current[root_id][1]
            hidden_root_id, hidden_author_id = current[parent.pk][2], current[parent.pk][3]
        note = Note(
            author=author,
            passage=passage,
            selector=selector,
            body=body,
            body_html=render_markdown(body),
            visibility=visibility,
            parent=parent,
            root_id=root_id,
            thread_author_id=thread_author_id,
            hidden_root_id=hidden_root_id,
            hidden_author_id=hidden_author_id,
            question=question,
            highlight=highlight,
        )
        _insert(note)
        tag_rows = _set_tags(note, tag_names, new=True)
        newly_mentioned = _set_mentions(note, mentioned, new=True)
        # What the answer shows of a new note is known: no tag or one (several are ordered by the database's
        # collation, so they are read back), and no mention (mentions are read back with their people).
        if len(tag_rows) <= 1:
            _keep_as_read(note, "tags", tag_rows)
        if not mentioned:
            _keep_as_read(note, "mentions", [])
        note_written.send(sender=Note, note=note, created=True, mentioned=newly_mentioned)
        pack_versions_bump_for_notes(note_reaches([note.pk]))
    return note


_INSERTS: dict[str, str] = {}


def _insert(note: Note) -> None:
    """Write a new note as `note.save()` would, the INSERT's SQL made once per process.

    The ORM built an InsertQuery and compiled it on every note written (a fifth of a note's CPU). The
    columns and their values are the same: every concrete field but the id, each value as the field
    prepares it for saving (`pre_save`: `created_at` and `updated_at`; `get_db_prep_save`: the JSON
    columns). The service fills the thread's copies itself (`Note.save` would: `fill_thread_copies`).
    Should anything listen to a note's `pre_save` or `post_save`, the note is saved the ORM's way.
    """
    if signals.pre_save.has_listeners(Note) or signals.post_save.has_listeners(Note):
        note.save()
        return
    alias = router.db_for_write(Note, instance=note)
    connection = connections[alias]
    fields = [field for field in Note._meta.local_concrete_fields if field is not Note._meta.auto_field]
    if (sql := _INSERTS.get(alias)) is None:
        quote = connection.ops.quote_name
        columns, values = ", ".join(quote(field.column) for field in fields), ", ".join(["%s"] * len(fields))
        sql = _INSERTS[alias] = (
            f"INSERT INTO {quote(Note._meta.db_table)} ({columns}) "  # noqa: S608 (names from the model, quoted)
            f"VALUES ({values}) RETURNING {quote(Note._meta.pk.column)}"
        )
    params = [field.get_db_prep_save(field.pre_save(note, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        note.pk = cursor.fetchone()[0]
    note._state.adding, note._state.db = False, alias


def _writing() -> transaction.Atomic:
    """The writes of a service that has checked everything first: atomic, and inside the caller's
    transaction (a request's) with no savepoint, two round trips fewer.

    Without a savepoint, an error raised in here marks the caller's whole
    transaction for rollback; only a failure of the database itself can be
    raised here, and it fails the request.
    """
    return transaction.atomic(savepoint=False)


@transaction.atomic
def note_update(
    *,
    note: Note,
    body: str = UNSET,
    visibility: str = UNSET,
    selector: dict = UNSET,
    question: DiscussionQuestion | None = UNSET,
    tags: list[str] = UNSET,
    passage: Passage = UNSET,
) -> Note:
    """Edit one's own note: body, visibility, selector, question, tags; or re-attach it to a passage.

    The audience and the passage belong to the thread: changing them on a
    top-level note changes them for every reply under it, at any depth, in
    the same transaction. A thread where anyone else has replied keeps its
    audience; a reply keeps its thread's audience and passage.
    """
    changes = given(body=body, visibility=visibility, selector=selector, question=question, tags=tags, passage=passage)
    if note.deleted_at is not None:
        raise ValidationError({"body": "This note was deleted."})
    reached = note_reaches([note.pk])
    mentioned = None
    if "body" in changes and (changes["body"].strip() or not note.highlight):
        note.body = _check_body(changes["body"], required=True)
        note.body_html = render_markdown(note.body)
        note.highlight = False
        mentioned = _mentioned_members(note.body, note.passage.text.group_id)
    if "visibility" in changes and changes["visibility"] != note.visibility:
        _check_visibility(changes["visibility"])
        if note.parent_id is not None:
            raise ValidationError({"visibility": "A reply keeps the audience of the note it answers."})
        # Locks the thread, so no reply is written to the old audience while it changes.
        writers = set(
            Note.objects.select_for_update().filter(Q(pk=note.pk) | Q(root=note)).values_list("author_id", flat=True)
        )
        if writers - {note.author_id}:
            # Others wrote for this audience; changing it would show their words to people they did not write for.
            raise ValidationError(
                {"visibility": "Others have replied in this thread, so its audience can no longer change."}
            )
        note.visibility = changes["visibility"]
        thread_fields = {"visibility": note.visibility, "updated_at": timezone.now()}
        if note.visibility == NoteVisibility.PRIVATE:
            # Nothing of a private thread is shown to anyone else, so there is nothing left to hide.
            note.hidden, note.hidden_by, note.hidden_root, note.hidden_author = False, None, None, None
            thread_fields.update(hidden=False, hidden_by=None, hidden_root=None, hidden_author=None)
        Note.objects.filter(root=note).update(**thread_fields)
        if not note.highlight:
            group_id = note.passage.text.group_id
            _remember_audience(author_id=note.author_id, group_id=group_id, visibility=note.visibility)
    if "passage" in changes or "selector" in changes:
        passage = changes.get("passage", note.passage)
        if note.parent_id is not None and passage.pk != note.passage_id:
            raise ValidationError({"passage": "A reply stays on the passage of the note it answers."})
        if passage.text.group_id != note.passage.text.group_id:
            raise ValidationError({"passage": "No such passage in this note's group."})
        if passage.retired:
            raise ValidationError({"passage": "That passage was removed in a later revision of the text."})
        note.passage = passage
        note.selector = _selector(passage, changes.get("selector", note.selector))
        if note.highlight and note.selector is None:
            raise ValidationError({"selector": "A highlight marks words: it cannot cover a whole passage."})
        note.anchor_state, note.candidates = AnchorState.ANCHORED, []
        if note.parent_id is None:
            Note.objects.filter(root=note).update(
                passage=passage, anchor_state=AnchorState.ANCHORED, candidates=[], updated_at=timezone.now()
            )
    if "question" in changes:
        if note.highlight and changes["question"] is not None:
            raise ValidationError({"question": "A highlight has no words, so it cannot answer a question."})
        _check_question(changes["question"], note.passage)
        note.question = changes["question"]
    note.save()
    if "tags" in changes:
        _set_tags(note, _clean_tags(changes["tags"]))
    if mentioned is not None or "visibility" in changes:
        # A new audience may now include (or leave out) someone mentioned before.
        if mentioned is None:
            mentioned = list(User.objects.filter(pk__in=NoteMention.objects.filter(note=note).values("user_id")))
        newly_mentioned = _set_mentions(note, mentioned)
        note_written.send(sender=Note, note=note, created=False, mentioned=newly_mentioned)
    pack_versions_bump_for_notes([*reached, *note_reaches([note.pk])])
    return note


@transaction.atomic
def note_delete(*, note: Note) -> None:
    """Delete a note. One with replies stays as an empty "deleted" placeholder so the thread survives."""
    parent = note.parent
    pack_versions_bump_for_notes(note_reaches([note.pk]))
    if note.replies.exists():
        note.body = note.body_html = ""
        note.selector = None
        note.question = None
        note.deleted_at = timezone.now()
        note.save()
        note.tags.all().delete()
        note.mentions.all().delete()
    else:
        note.delete()
    if parent is not None and parent.deleted_at is not None and not parent.replies.exists():
        parent.delete()


def _check_markable(*, note: Note, user: User) -> None:
    if note.visibility == NoteVisibility.PRIVATE:
        raise ValidationError({"note": "A private note is for its author alone; it has no helpful marks."})
    if note.deleted_at is not None:
        raise ValidationError({"note": "That note was deleted."})
    if note.highlight:
        raise ValidationError({"note": "A highlight has no words to find helpful."})
    if note.author_id == user.pk:
        raise ValidationError({"note": "Mark others' notes as helpful; your own is counted by them."})


@transaction.atomic
def note_mark_helpful(*, note: Note, user: User) -> Note:
    """`user` finds `note` helpful: one mark per person, so marking again changes nothing.

    The caller has checked that `user` may see the note. A private note, a
    highlight, a deleted note and one's own note take no marks. The note's
    `helpful_count` moves with the mark, in the same transaction.
    """
    _check_markable(note=note, user=user)
    _, created = NoteHelpful.objects.get_or_create(note=note, user=user)
    if created:
        Note.objects.filter(pk=note.pk).update(helpful_count=F("helpful_count") + 1)
        pack_versions_bump_for_notes(note_reaches([note.pk]))
    note.refresh_from_db(fields=["helpful_count"])
    return note


@transaction.atomic
def note_unmark_helpful(*, note: Note, user: User) -> Note:
    """Take back `user`'s helpful mark on `note`; without one, nothing changes. The caller has checked they see it."""
    removed, _ = NoteHelpful.objects.filter(note=note, user=user).delete()
    if removed:
        Note.objects.filter(pk=note.pk).update(helpful_count=F("helpful_count") - removed)
        pack_versions_bump_for_notes(note_reaches([note.pk]))
    note.refresh_from_db(fields=["helpful_count"])
    return note


@transaction.atomic
def note_set_hidden(*, note: Note, hidden: bool, by: User) -> Note:
    """An organizer hides a group or facilitators note, and every reply under it, or shows them again.

    Hidden notes are seen only by the author of the (topmost) hidden note and
    the group's organizers (`selectors._visible_in_group`). The whole thread
    is locked and each of its notes gets its `hidden_root` again, so nested
    hiding and showing again always leave the thread consistent. The caller
    has checked that `by` organizes the note's group.
    """
    if note.visibility == NoteVisibility.PRIVATE:
        raise ValidationError({"hidden": "A private note is seen by its author alone; there is nothing to hide."})
    root_id = note.root_id or note.pk
    thread = list(
        Note.objects.select_for_update()
        .filter(Q(pk=root_id) | Q(root_id=root_id))
        .only("pk", "author_id", "parent_id", "hidden", "hidden_by", "hidden_root", "hidden_author", "updated_at")
    )
    by_id = {one.pk: one for one in thread}
    reached = note_reaches(by_id)
    target = by_id[note.pk]
    # Only the note's own row changes in what anyone's pack shows (its `hidden` mark); the replies under it
    # change who sees them, not what they say, so their `updated_at` stays.
    target.hidden, target.hidden_by, target.updated_at = hidden, (by if hidden else None), timezone.now()
    changed = {target.pk: target}
    for one in thread:
        if one.hidden_root_id != (topmost := _topmost_hidden(one, by_id)):
            # Whoever wrote the topmost hidden note still sees what it hides (`hidden_author`).
            one.hidden_root_id = topmost
            one.hidden_author_id = by_id[topmost].author_id if topmost is not None else None
            changed[one.pk] = one
    Note.objects.bulk_update(changed.values(), ["hidden", "hidden_by", "hidden_root", "hidden_author", "updated_at"])
    pack_versions_bump_for_notes([*reached, *note_reaches(changed)])
    note.hidden, note.hidden_by = target.hidden, target.hidden_by
    note.hidden_root_id, note.hidden_author_id = target.hidden_root_id, target.hidden_author_id
    note.updated_at = target.updated_at
    return note


def _topmost_hidden(note: Note, thread: dict[int, Note]) -> int | None:
    """The id of the highest hidden note on the way from `note` up to its thread's root, or None."""
    topmost, current = None, note
    while current is not None:
        if current.hidden:
            topmost = current.pk
        current = thread.get(current.parent_id)
    return topmost


def _neighbourhood(passage: Passage, active: list[Passage], changed_ids: set[int]) -> list[Passage]:
    """The passages that may have taken over `passage`'s text in this revision.

    Its immediate neighbours, and passages new or edited in this revision
    close to where it stands (or stood, if it was retired).
    """
    window = 1 if not passage.retired else 3
    near = [p for p in active if abs(p.position - passage.position) <= window and p.pk != passage.pk]
    return [p for p in near if abs(p.position - passage.position) == 1 or p.pk in changed_ids]


@transaction.atomic
def notes_reanchor_for_text(*, text: Text, revision: int) -> dict[str, int]:
    """Resolve every note on `text` against its passages after revision `revision`.

    - anchored: its passage still holds the exact quote at the same offsets
      (a note on a whole passage: the passage is still there);
    - moved: the quote was found again exactly once (or once in the same
      context) in its passage or in a neighbour that took over its text; the
      selector and, if needed, the passage are updated;
    - orphaned: the quote is gone or ambiguous. The note keeps its old
      selector, and `candidates` lists every place the quote now appears.

    Replies follow their parent's passage and state. Returns counts per state.
    """
    active = list(text.passages.filter(retired=False).order_by("position"))
    by_id = {p.pk: p for p in text.passages.all()}
    changed_ids = {p.pk for p in active if p.revision_changed == revision}
    notes = list(Note.objects.filter(passage__text=text).select_related("parent").order_by("parent_id", "id"))
    counts = dict.fromkeys(AnchorState.values, 0)
    resolved: dict[int, Note] = {}
    for note in sorted(notes, key=lambda n: n.parent_id is not None):
        if note.parent_id is not None and note.parent_id in resolved:
            parent = resolved[note.parent_id]
            note.passage_id, note.anchor_state, note.candidates = parent.passage_id, parent.anchor_state, []
        else:
            _resolve(note, by_id[note.passage_id], active, changed_ids)
        resolved[note.pk] = note
        counts[note.anchor_state] += 1
    Note.objects.bulk_update(notes, ["passage", "selector", "anchor_state", "candidates"], batch_size=1000)
    return counts


def _resolve(note: Note, passage: Passage, active: list[Passage], changed_ids: set[int]) -> None:
    selector = note.selector
    note.candidates = []
    if not selector:
        note.anchor_state = AnchorState.ORPHANED if passage.retired else AnchorState.ANCHORED
        return
    start, end, exact = selector["start"], selector["end"], selector["exact"]
    if not passage.retired and passage.body[start:end] == exact:
        note.selector = selector_at(passage.body, start, end)
        note.anchor_state = AnchorState.ANCHORED
        return
    pools = [] if passage.retired else [[passage]]
    pools.append(_neighbourhood(passage, active, changed_ids))
    for pool in pools:
        place, places = find_again(selector, ((p.pk, p.body) for p in pool))
        if place is not None:
            target = next(p for p in pool if p.pk == place.passage_id)
            note.passage_id = target.pk
            note.selector = selector_at(target.body, place.start, place.start + len(exact))
            note.anchor_state = AnchorState.MOVED
            return
        if places:
            break
    note.anchor_state = AnchorState.ORPHANED
    note.candidates = [
        {"passage": p.pk, "anchor": p.anchor, "position": p.position, "start": start, "end": start + len(exact)}
        for p in active
        for start in occurrences(p.body, exact)
    ]
