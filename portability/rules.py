"""Who may take a group's content out (DESIGN.md, "Who may do what"); see core/rules.py."""

from core.rules import declare
from sessions_app.rules import is_organizer

EXPORT_GROUP = declare("portability.export_group", is_organizer, "Only organizers can download the group's content.")
