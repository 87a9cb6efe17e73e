"""botbuilder inside other assistants: the rasa-sdk action server.

Imports `content` and `matching`; never the server.
"""
