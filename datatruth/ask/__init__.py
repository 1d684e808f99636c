"""Ask: turn a plain-words question into a QueryPlan (vocabulary, value index, time phrases, planner, follow-ups)."""
