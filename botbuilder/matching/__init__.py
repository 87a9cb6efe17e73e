"""From a member's question to a decision: encoders (`encoder`, with its
cache), the two views of a question and the model over them (`features`),
the classifier (`classifier`), thresholds from a bot's own examples
(`calibration`), the rule from scores to answer, clarify or handoff
(`decision`), the matcher and its saved indexes (`matcher`, `index_store`,
`cache_db`), the running bot (`runtime`), understanding of requests for a
person, and evaluation.

Imports `content`; never conversations, editing or the server.
"""
