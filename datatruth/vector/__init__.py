"""The vector index of a workspace: fields, metrics, synonyms, values and verified questions, embedded offline."""
