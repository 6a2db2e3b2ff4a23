"""What is read and said: texts, passages, assignments, questions and notes."""
