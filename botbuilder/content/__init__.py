"""A bot's content: the typed model, YAML read with positions, bot.yml settings,
the loader and its advice, languages, system texts, Markdown rendering, the
file helpers every writer uses (atomic write, the writers' lock, the YAML style),
the one e-mail rule (`emails`) and the one rule for typed text (`plain_text`).

The foundation of the other rooms: imports only `botbuilder.errors` and
third-party libraries, never matching, conversations, editing or the server.
"""
