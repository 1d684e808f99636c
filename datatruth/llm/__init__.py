"""The optional LLM: a planner that proposes QueryPlans (checked like user input) and a guarded raw-SQL mode."""

from datatruth.llm.client import ChatReply, ChatRequest, LLMClient, LLMRefused, LLMUnavailable
from datatruth.llm.planner import LLMQueryPlanner, Proposal, install

__all__ = [
    "ChatReply",
    "ChatRequest",
    "LLMClient",
    "LLMQueryPlanner",
    "LLMRefused",
    "LLMUnavailable",
    "Proposal",
    "install",
]
