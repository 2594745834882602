"""The knowledge base: articles and their history, the default ranker, suggestions, deflections."""
