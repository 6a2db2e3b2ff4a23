"""Who may change texts, readings, questions and notes (DESIGN.md, "Who may do what").

Checked against a `core.rules.Target`; seeing is the selectors' job (404).
"""

import rules

from core.rules import declare
from sessions_app.rules import has_facilitator_rights, is_organizer, leads_session


@rules.predicate
def is_author(user, target) -> bool:
    return target.obj.author_id == user.pk


IMPORT_TEXTS = declare(
    "readings.import_texts", has_facilitator_rights, "Only organizers and facilitators can import texts."
)
CHANGE_TEXT = declare(
    "readings.change_text", has_facilitator_rights, "Only organizers and facilitators can edit texts."
)
REVISE_TEXT = declare(
    "readings.revise_text", has_facilitator_rights, "Only organizers and facilitators can import revisions."
)
ASSIGN_READINGS = declare(
    "readings.assign_readings", leads_session, "Only organizers and this session's facilitators can assign readings."
)
CHANGE_READING = declare(
    "readings.change_reading", leads_session, "Only organizers and this session's facilitators can change readings."
)
REMOVE_READING = declare(
    "readings.remove_reading", leads_session, "Only organizers and this session's facilitators can remove readings."
)
MANAGE_QUESTIONS = declare(
    "readings.manage_questions", leads_session, "Only organizers and this session's facilitators manage its questions."
)
CHANGE_QUESTION = declare(
    "readings.change_question", leads_session, "Only organizers and this session's facilitators can edit questions."
)
REMOVE_QUESTION = declare(
    "readings.remove_question", leads_session, "Only organizers and this session's facilitators can remove questions."
)
DECIDE_QUESTION = declare(
    "readings.decide_question",
    leads_session,
    "Only organizers and this session's facilitators accept or reject questions.",
)
REORDER_QUESTIONS = declare(
    "readings.reorder_questions",
    leads_session,
    "Only organizers and this session's facilitators can reorder questions.",
)
SEE_DISCUSSION = declare(
    "readings.see_discussion", has_facilitator_rights, "The discussion overview is for facilitators and organizers."
)
CHANGE_NOTE = declare("readings.change_note", is_author, "Only its author can change or delete a note.")
HIDE_NOTE = declare("readings.hide_note", is_organizer, "Only organizers can hide notes.")
