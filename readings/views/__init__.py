"""HTML pages of the readings app: the session page, the reading view, texts and the organizer editors."""
