"""Teaching a workspace: feedback turned into reviewed proposals, suggestions from what people asked, LLM drafts."""
