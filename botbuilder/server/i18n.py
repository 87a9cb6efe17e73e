"""The staff pages' language: Flask-Babel with gettext catalogues in web/translations/.

Which language a page is in, first that applies:

1. the signed-in user's saved language (`users.language`, set on the
   preferences page), if a catalogue for it is present;
2. the language picked on the sign-in page's switch (kept in the session);
3. the browser's `Accept-Language`, best match among the catalogues present;
4. the bot's own language (bot.yml `language`) when the browser names only
   languages we have no catalogue for; English when it names none at all (a
   script, `curl`, a test client: RFC 9110 reads no header as "any language"),
   so JSON errors for scripts stay in the source language.

The languages offered are the catalogues present: a directory
`web/translations/<code>/LC_MESSAGES/` with a compiled `messages.mo`. Adding a
third language is adding its catalogue (docs/translating.md), not code. English
is the source language: its catalogue has no translations, the text in the
templates and code is shown as written.

Templates mark text with `_("…")` (newstyle gettext: `_("%(n)s waiting", n=3)`
formats and escapes), Python views with `gettext`/`ngettext`/`lazy_gettext`
from `flask_babel`. Times follow `localtime.viewer_timezone` (the user's saved
timezone, else the bot's); Babel's own date formatting uses the same zone.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from flask import Flask, has_request_context, request, session
from flask_babel import Babel, get_locale, gettext

from botbuilder.errors import BotbuilderError, Message, Phrase
from botbuilder.server.common import current_user, services, web_root
from botbuilder.server.localtime import viewer_timezone

__all__ = [
    "SOURCE_LANGUAGE",
    "SESSION_KEY",
    "available_languages",
    "choose_language",
    "current_language",
    "init_app",
    "language_names",
    "localized",
    "translations_folder",
]

SOURCE_LANGUAGE = "en"  # the language the templates and code are written in
SESSION_KEY = "language"  # the sign-in page's switch, before anyone is signed in
DOMAIN = "messages"


def translations_folder() -> Path:
    """web/translations/: one folder per language, shipped inside the package."""
    return web_root() / "translations"


@functools.cache
def _catalogues(folder: Path) -> tuple[str, ...]:
    found = {
        path.parent.parent.name
        for path in folder.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")
        if _is_locale(path.parent.parent.name)
    }
    return tuple(sorted(found | {SOURCE_LANGUAGE}))


def _is_locale(code: str) -> bool:
    try:
        Locale.parse(code)
    except (ValueError, UnknownLocaleError):
        return False
    return True


def available_languages() -> tuple[str, ...]:
    """The language codes with a compiled catalogue (and English, the source), sorted."""
    return _catalogues(translations_folder())


def language_names() -> list[tuple[str, str]]:
    """(code, the language's own name) for each catalogue: ("nl", "Nederlands")."""
    names = [
        (code, Locale.parse(code).get_display_name(code) or code) for code in available_languages()
    ]
    return [(code, name[:1].upper() + name[1:]) for code, name in names]


def choose_language() -> str:
    """The language of this request's pages (see the module docstring for the order)."""
    available = available_languages()
    if not has_request_context():
        return SOURCE_LANGUAGE
    user = current_user()
    if user is not None and user.language in available:
        return user.language
    picked = session.get(SESSION_KEY)
    if isinstance(picked, str) and picked in available:
        return picked
    if not request.accept_languages:
        return SOURCE_LANGUAGE
    best = request.accept_languages.best_match(available)
    if best:
        return best
    bot_language = services().runtime.current().bot.settings.language
    return bot_language if bot_language in available else SOURCE_LANGUAGE


def current_language() -> str:
    """The language code of this request's pages, for `<html lang>`: "nl"."""
    locale = get_locale()
    return locale.language if locale is not None else SOURCE_LANGUAGE


def localized(exc: BotbuilderError | str) -> str:
    """The error's message (or a `Message`) in this request's language: its `N_`-marked
    template translated, then its values filled in, `Phrase` and `Message` values
    translated too (errors.py). Any other text is shown as it is."""
    if not isinstance(exc, (BotbuilderError, Message)):
        return exc
    if not exc.params:
        return gettext(exc.template)
    return gettext(exc.template, **{k: _localized_value(v) for k, v in exc.params.items()})


def _localized_value(value: object) -> object:
    if isinstance(value, Message):
        return localized(value)
    return gettext(value) if isinstance(value, Phrase) else value


def _choose_timezone() -> str:
    return viewer_timezone()


def init_app(app: Flask) -> None:
    """Flask-Babel on `app`, with the selectors above; `_` and friends in every template."""
    Babel(
        app,
        default_locale=SOURCE_LANGUAGE,
        default_domain=DOMAIN,
        default_translation_directories=str(translations_folder()),
        locale_selector=choose_language,
        timezone_selector=_choose_timezone,
    )
    app.jinja_env.filters["localized"] = localized  # {{ conflict|localized }}

    @app.context_processor
    def _language() -> dict[str, Any]:
        return {"current_language": current_language, "language_names": language_names}

    @app.after_request
    def _vary(response: Any) -> Any:
        # The same address answers in another language for another browser.
        if response.mimetype == "text/html":
            response.vary.add("Accept-Language")
        return response
