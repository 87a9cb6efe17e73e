"""botbuilder inside other assistants: the rasa-sdk action server.

Imports `content`, `matching`, `conversations` (the one turn policy) and
`config`; never the server.
"""
