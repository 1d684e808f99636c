"""Conditions a question names before it uses them are said in full at each use, or left alone."""

from __future__ import annotations

import pytest

from datatruth.ask.named_conditions import expand


@pytest.mark.parametrize(
    ("question", "expanded", "name"),
    [
        (
            "Let's call a large order one worth more than $500. How many large orders came in during May?",
            "How many orders worth more than $500 came in during May?",
            "large order",
        ),
        (
            "We call a customer a 'regular' when their orders are above 12. Which regions have the most regulars?",
            "Which regions have the most customers with orders above 12?",
            "regular",
        ),
        (
            "Call a flight hopeful if it left more than 2 hours late; how many hopeful flights went to Boston?",
            "how many flights that left more than 2 hours late went to Boston?",
            "hopeful",
        ),
        (
            "Treat any order with more than $2,000 of revenue as a whale order. What share of 2025 orders were whales?",
            "What share of 2025 orders were orders with more than $2,000 of revenue?",
            "whale",
        ),
        (
            "Treat any order with more than $2,000 of revenue as a whale order. What share of 2025 orders were whale?",
            "What share of 2025 orders with more than $2,000 of revenue?",
            "whale",
        ),
        (
            "An order counts as chunky if it has more than 5 lines. How many chunky ones did we get in May?",
            "How many orders that has more than 5 lines did we get in May?",
            "chunky",
        ),
    ],
)
def test_a_named_condition_is_said_in_full_where_it_is_used(question: str, expanded: str, name: str) -> None:
    text, named = expand(question)
    assert text == expanded
    assert named is not None and named.name == name


@pytest.mark.parametrize(
    "question",
    [
        "revenue by month in 2025",
        # a metric defined in the question is the definitions reader's, not a named condition
        "Define discount depth as (gross sales - revenue) / gross sales. What was it per channel?",
        # named but never used: nothing to expand, the planner sees the question as asked
        "Let's call a big order one worth more than $1,000. How many orders did we get in October?",
        # a condition that cannot follow its noun as it stands is left for the planner to refuse
        "Call a fire claim well-staffed when 8 or more firefighters responded. How many well-staffed fire claims?",
    ],
)
def test_a_question_without_a_usable_named_condition_is_left_alone(question: str) -> None:
    assert expand(question) == (question, None)
