"""From a member's question to a decision: encoders, n-gram features, the
classifier, calibration, the matcher and its saved indexes, the running bot
(`runtime`), understanding of requests for a person, and evaluation.

Imports `content`; never conversations, editing or the server.
"""
