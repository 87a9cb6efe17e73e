"""The one exception tree of botbuilder.

Every error carries a message written for the person who will read it: a
manager fixing a flow file, an operator starting a server, or a widget
developer reading an HTTP error.

    BotbuilderError
    ├── FlowError              one or more problems in a bot directory
    ├── ConfigError            a bad setting (environment, bot.yml, CLI)
    ├── ModelError             the embedding model cannot be loaded
    ├── EvaluationFileError    a broken evaluation file
    ├── ImportFileError        a file to import with bad rows; nothing was written
    ├── MailError              an e-mail that could not be sent (integrations/mail.py)
    └── RequestError           a request the core refuses; carries an HTTP status
        ├── BadRequest         400
        │   └── InvalidEdit    422, an editor change that fails validation (editing.py)
        │       └── UnheededAdvice  422, a change `check` would warn about, not yet confirmed
        ├── LoginFailed        401 (accounts.py)
        ├── NotFound           404
        ├── Conflict           409
        │   └── EditConflict   409, someone else saved the intent first (editing.py)
        ├── PayloadTooLarge    413
        ├── TooManyAttempts    429, login rate limit (accounts.py)
        └── Unavailable        503 with Retry-After, e.g. the matcher's queue is full

Core code raises these; only the CLI turns them into exit codes and only the
server turns them into JSON error responses.

A message staff read on a page is written as a template marked with `N_`,
its values given apart: `Conflict(N_("%(holder)s has this conversation"),
holder=name)`. `message` is the English text (logs, the CLI, the widget API);
the staff pages translate `template` and fill in `params` in the page's
language (server/i18n.py `localized`). A value that is itself marked text
(which step was refused, and why) is a `Phrase`, translated as well. Text the
core returns rather than raises (`check`'s advice on a flow) is a `Message`:
the English `str`, with its template and values kept for the pages.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "N_",
    "Phrase",
    "BadRequest",
    "BotbuilderError",
    "ConfigError",
    "Conflict",
    "EvaluationFileError",
    "FlowError",
    "ImportFileError",
    "MailError",
    "Message",
    "FlowProblem",
    "ModelError",
    "NotFound",
    "PayloadTooLarge",
    "RequestError",
    "Unavailable",
]


def N_(text: str) -> str:
    """Marks `text` for the catalogues (`make translations`) without translating it here."""
    return text


class Phrase(str):
    """A value of an error message that is text to translate too, not a name or a number."""


class Message(str):
    """English text made from an `N_`-marked template and its values, for text the core
    hands back rather than raises (`check`'s advice): a plain `str` to the CLI and logs;
    pages translate `template` and fill in `params` (server/i18n.py `localized`)."""

    template: str
    params: dict[str, object]

    def __new__(cls, template: str, **params: object) -> Message:
        text = super().__new__(cls, template % params if params else template)
        text.template = template
        text.params = params
        return text


class BotbuilderError(Exception):
    """Base of every error botbuilder raises on purpose."""

    def __init__(self, message: str, **params: object) -> None:
        self.template = message
        self.params = params
        self.message = message % params if params else message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class FlowProblem:
    """One problem at one place in a flow file: `file:line:col: message`."""

    path: str
    line: int
    column: int
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class FlowError(BotbuilderError):
    """A bot directory with one or more errors; all of them are listed."""

    def __init__(self, problems: list[FlowProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.path, p.line, p.column))
        count = len(self.problems)
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"{count} error{'s' if count != 1 else ''} in the flows:\n{lines}")


class ConfigError(BotbuilderError):
    """A setting that cannot be used as given."""


class ModelError(BotbuilderError):
    """The embedding model named in bot.yml cannot be loaded."""


class EvaluationFileError(BotbuilderError):
    """An evaluation file that is not a list of {q, expect} cases."""


class ImportFileError(BotbuilderError):
    """A file to import (Rasa, spreadsheet, QnA) that cannot be imported as it is.

    `problems` lists each bad row or entry; nothing is written when any exist.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        count = len(problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''}; nothing was imported:\n"
            + "\n".join(problems)
        )


class MailError(BotbuilderError):
    """An e-mail the SMTP server did not take; the message names no address or password."""


class RequestError(BotbuilderError):
    """A request the core refuses; `status` is the HTTP status that fits."""

    status = 400


class BadRequest(RequestError):
    status = 400


class NotFound(RequestError):
    status = 404


class Conflict(RequestError):
    status = 409


class PayloadTooLarge(RequestError):
    status = 413


class Unavailable(RequestError):
    """503: too busy (or a part it needs is away) right now; `retry_after` seconds to wait."""

    status = 503

    def __init__(self, message: str, retry_after: int = 1, **params: object) -> None:
        super().__init__(message, **params)
        self.retry_after = retry_after
