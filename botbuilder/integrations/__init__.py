"""botbuilder inside other assistants and services: the rasa-sdk action server, and
e-mail over SMTP (`mail.py`: the digest and replies to follow-ups).

Imports `content`, `matching`, `conversations` (the one turn policy) and
`config`; never the server.
"""
