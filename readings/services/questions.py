"""Discussion questions: written by those who lead a session, proposed by members."""

from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from core.services import UNSET, given, model_update
from sessions_app.models import Session, User

from ..enums import QuestionKind, QuestionState
from ..models import DiscussionQuestion, Passage, ReadingAssignment
from ..pack.versions import Audience, note_reaches, pack_versions_bump_for_notes, pack_versions_bump_for_session


def _check_passages(session: Session, passages: Iterable[Passage]) -> list[Passage]:
    """Passages must come from texts the session reads."""
    passages = list(passages)
    assigned = set(ReadingAssignment.objects.filter(session=session).values_list("text_id", flat=True))
    if stray := [passage.pk for passage in passages if passage.text_id not in assigned]:
        raise ValidationError({"passages": f"Passages {stray} are not in a text this session reads; assign it first."})
    return passages


def _check_fields(prompt: str | None, kind: str | None, minutes: int | None) -> None:
    if prompt is not None and not prompt.strip():
        raise ValidationError({"prompt": "Write the question."})
    if kind is not None and kind not in QuestionKind.values:
        raise ValidationError({"kind": f"“{kind}” is not one of: {', '.join(QuestionKind.values)}."})
    if minutes is not None and not 0 < minutes <= 240:
        raise ValidationError({"minutes": "Suggest between 1 and 240 minutes."})


@transaction.atomic
def question_create(
    *,
    session: Session,
    author: User,
    prompt: str,
    kind: str = QuestionKind.DISCUSSION,
    passages: Iterable[Passage] = (),
    minutes: int | None = None,
    facilitator_notes: str = "",
    propose: bool = False,
) -> DiscussionQuestion:
    """Add a question at the end of the session's list.

    With `propose`, it waits as `proposed` for a facilitator or organizer to
    accept it, and facilitator notes are not allowed (a member writes it).
    """
    _check_fields(prompt, kind, minutes)
    passages = _check_passages(session, passages)
    if propose and facilitator_notes:
        raise ValidationError({"facilitator_notes": "Facilitator notes are for those who lead the session."})
    last = DiscussionQuestion.objects.filter(session=session).aggregate(n=Max("position"))["n"] or 0
    question = DiscussionQuestion.objects.create(
        session=session,
        position=last + 1,
        prompt=prompt.strip(),
        kind=kind,
        minutes=minutes,
        facilitator_notes=facilitator_notes,
        state=QuestionState.PROPOSED if propose else QuestionState.ACCEPTED,
        proposed_by=author,
    )
    question.passages.set(passages)
    if question.state == QuestionState.ACCEPTED:
        pack_versions_bump_for_session(session=session)
    else:  # a proposal: in the facilitators' brief
        pack_versions_bump_for_session(session=session, audience=Audience.FACILITATORS)
    return question


@transaction.atomic
def question_update(
    *,
    question: DiscussionQuestion,
    prompt: str = UNSET,
    kind: str = UNSET,
    passages: list[Passage] = UNSET,
    minutes: int | None = UNSET,
    facilitator_notes: str = UNSET,
) -> DiscussionQuestion:
    """Change a question's wording, kind, passages, suggested minutes or facilitators' notes."""
    changes = given(prompt=prompt, kind=kind, minutes=minutes, facilitator_notes=facilitator_notes)
    _check_fields(changes.get("prompt"), changes.get("kind"), changes.get("minutes"))
    if "prompt" in changes:
        changes["prompt"] = changes["prompt"].strip()
    model_update(instance=question, data=changes, save=False)
    question.save()
    passages_given = passages is not UNSET and passages is not None
    if passages_given:
        question.passages.set(_check_passages(question.session, passages))
    if question.state == QuestionState.ACCEPTED:
        # Facilitator notes are in the packs of those with facilitator rights only.
        facilitators_only = (set(changes) | ({"passages"} if passages_given else set())) <= {"facilitator_notes"}
        audience = Audience.FACILITATORS if facilitators_only else Audience.EVERYONE
        pack_versions_bump_for_session(session=question.session, audience=audience)
    elif question.state == QuestionState.PROPOSED:  # in the facilitators' brief
        pack_versions_bump_for_session(session=question.session, audience=Audience.FACILITATORS)
    return question


@transaction.atomic
def question_decide(*, question: DiscussionQuestion, accept: bool) -> DiscussionQuestion:
    """Accept or reject a question; deciding again changes the decision."""
    was_accepted = question.state == QuestionState.ACCEPTED
    question.state = QuestionState.ACCEPTED if accept else QuestionState.REJECTED
    question.save(update_fields=["state", "updated_at"])
    if accept or was_accepted:
        pack_versions_bump_for_session(session=question.session)
    else:  # a proposal rejected leaves the facilitators' brief
        pack_versions_bump_for_session(session=question.session, audience=Audience.FACILITATORS)
    return question


@transaction.atomic
def question_delete(*, question: DiscussionQuestion) -> None:
    # The notes answering it lose their `question`.
    pack_versions_bump_for_notes(note_reaches(question.answers.values_list("pk", flat=True)))
    if question.state == QuestionState.ACCEPTED:
        pack_versions_bump_for_session(session=question.session)
    elif question.state == QuestionState.PROPOSED:  # in the facilitators' brief
        pack_versions_bump_for_session(session=question.session, audience=Audience.FACILITATORS)
    question.delete()


@transaction.atomic
def questions_reorder(*, session: Session, order: Sequence[int]) -> list[DiscussionQuestion]:
    """Put the session's questions in the order of `order`, which must name each of them once."""
    questions = {q.pk: q for q in DiscussionQuestion.objects.select_for_update().filter(session=session)}
    if len(order) != len(set(order)) or set(order) != set(questions):
        raise ValidationError(
            {"order": f"List every question of this session once; expected the ids {sorted(questions)}."}
        )
    for position, question_id in enumerate(order, start=1):
        questions[question_id].position = position
    DiscussionQuestion.objects.bulk_update(questions.values(), ["position"])
    pack_versions_bump_for_session(session=session)
    return [questions[question_id] for question_id in order]


@transaction.atomic
def question_move(*, question: DiscussionQuestion, up: bool) -> list[DiscussionQuestion]:
    """Swap `question` with its neighbour above (or below); at either end nothing changes."""
    order = list(
        DiscussionQuestion.objects.filter(session_id=question.session_id)
        .order_by("position", "id")
        .values_list("pk", flat=True)
    )
    index = order.index(question.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
    return questions_reorder(session=question.session, order=order)
