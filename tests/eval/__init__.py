"""Evaluation sets (questions with hand-written gold SQL) and the runner that scores them."""
