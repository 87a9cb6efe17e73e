"""botbuilder: an FAQ chatbot builder for community managers.

The core (content, matching, conversations, editing, interchange, privacy,
accounts, db) knows nothing of HTTP; the Flask server, the CLI and the Rasa
integration are thin layers over it. docs/architecture.md draws the rooms.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
