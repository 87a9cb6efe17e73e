"""The manager's insight pages: the dashboard (`/editor/stats`), its CSV files, and the 👎 review.

Views only route: the figures come from `insights.figures.figures`, the
tables and chart data from `insights.dashboard`, the 👎 rows from
`insights.feedback`, and CSV text from the one formula-safe writer
(`interchange.spreadsheet.csv_text`). For managers and admins, like the rest
of the editor. The period is a GET form (`since`, `until`, `language`), so a
view can be bookmarked; a period that cannot be counted is a 400 page that
says why, never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext

from botbuilder.content.model import Bot
from botbuilder.errors import N_, BadRequest, NotFound, Phrase
from botbuilder.insights import dashboard
from botbuilder.insights.feedback import MAX_PAGE, thumbs_down
from botbuilder.insights.figures import Period, bot_timezone, default_period, figures
from botbuilder.insights.local_time import FIGURE_YEARS
from botbuilder.interchange.spreadsheet import csv_text
from botbuilder.server import auth
from botbuilder.server.auth import login_required
from botbuilder.server.common import services
from botbuilder.server.editor_shared import EDITORS, running_bot_problem
from botbuilder.server.i18n import localized

__all__ = ["blueprint"]

blueprint = Blueprint("insights", __name__, url_prefix="/editor")
auth.STAFF_BLUEPRINTS.add("insights")  # strict CSP and no-store: the pages show member text
MAX_FEEDBACK_CSV_ROWS = 10_000


@blueprint.context_processor
def _common() -> dict[str, Any]:
    return {"flows_problem": running_bot_problem(), "cell_text": dashboard.cell_text}


# -- the period --------------------------------------------------------------------------


def _day(args: Mapping[str, str], name: str, label: Phrase, default: date) -> date:
    value = args.get(name, "").strip()
    if not value:
        return default
    try:
        if len(value) != 10:
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            N_("'%(label)s' must be a date as YYYY-MM-DD, e.g. 2026-03-01; got '%(value)s'"),
            label=label,
            value=value[:20],
        ) from None
    if day.year not in FIGURE_YEARS:
        raise BadRequest(
            N_("'%(label)s' (%(value)s) is not a date botbuilder has figures for"),
            label=label,
            value=value,
        )
    return day


def _period(bot: Bot) -> Period:
    """The period the request asks for (default: the last 30 days); BadRequest if it can't be."""
    args = request.args
    timezone = bot_timezone(bot)
    default = default_period(datetime.now(ZoneInfo(timezone)).date())
    language = args.get("language", "").strip() or None
    if language is not None and language not in bot.languages:
        raise BadRequest(
            N_("language '%(language)s' is not one of this bot's: %(languages)s"),
            language=language[:16],
            languages=", ".join(bot.languages),
        )
    period = Period(
        since=_day(args, "since", Phrase(N_("From")), default.since),
        until=_day(args, "until", Phrase(N_("Until")), default.until),
        language=language,
        timezone=timezone,
    )
    period.check()
    return period


def _page_number() -> int:
    value = request.args.get("page", "1").strip()
    if not (
        value.isascii() and value.isdigit() and len(value) <= 6 and 1 <= int(value) <= MAX_PAGE
    ):
        raise BadRequest(
            N_("'page' must be a number from 1 to %(last)s; got '%(value)s'"),
            last=MAX_PAGE,
            value=value[:20],
        )
    return int(value)


def _form(period: Period | None) -> dict[str, str]:
    """What the period form shows: the period read, or what was typed when it was refused."""
    if period is None:
        return {k: request.args.get(k, "")[:20] for k in ("since", "until", "language")}
    return {
        "since": period.since.isoformat(),
        "until": period.until.isoformat(),
        "language": period.language or "",
    }


def _page(template: str, bot: Bot, period: Period | None, **values: Any) -> str:
    form = _form(period)
    return render_template(
        template,
        form=form,
        query={k: v for k, v in form.items() if v},
        languages=bot.languages,
        timezone=period.timezone if period else bot_timezone(bot),
        **values,
    )


def _refused(template: str, bot: Bot, problem: BadRequest) -> ResponseReturnValue:
    return _page(template, bot, None, problem=localized(problem)), 400


# -- the dashboard -----------------------------------------------------------------------


@blueprint.get("/stats")
@login_required(EDITORS)
def stats() -> ResponseReturnValue:
    bot = services().runtime.current().bot
    try:
        period = _period(bot)
    except BadRequest as exc:
        return _refused("editor/stats.html", bot, exc)
    numbers = figures(services().storage, period, bot)
    unit, _ = dashboard.trend_rows(numbers)
    return _page(
        "editor/stats.html",
        bot,
        period,
        figures=numbers,
        decided=sum(numbers["decisions"].values()),
        tables=dashboard.tables(numbers),
        charts=_with_local_weekdays(dashboard.charts(numbers)),
        trend_unit=unit,
    )


def _with_local_weekdays(charts: dict[str, Any]) -> dict[str, Any]:
    # The weekday chart's short names in the page's language (Babel's CLDR names, Monday first).
    names = get_day_names("abbreviated", locale=get_locale() or "en")
    charts["weekdays"]["labels"] = [names[day] for day in range(7)]
    return charts


@blueprint.get("/stats/<name>.csv")
@login_required(EDITORS)
def stats_csv(name: str) -> ResponseReturnValue:
    if name not in dashboard.TABLES:
        unknown = NotFound(
            N_("no table '%(table)s'; the dashboard's are %(tables)s"),
            table=name[:40],
            tables=", ".join(dashboard.TABLES),
        )
        if not request.accept_mimetypes.accept_html:
            raise unknown  # a script's download: the JSON 404, in English
        title = gettext("Not found")  # a browser's: a page in the reader's language
        return render_template("auth/refused.html", message=localized(unknown), title=title), 404
    bot = services().runtime.current().bot
    try:
        period = _period(bot)
    except BadRequest as exc:
        return _refused("editor/stats.html", bot, exc)
    table = dashboard.tables(figures(services().storage, period, bot))[name]
    return _csv(table.csv_rows(), f"{name}-{period.since}-{period.until}")


def _csv(rows: list[list[Any]], name: str) -> Response:
    return Response(
        csv_text(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="botbuilder-{name}.csv"'},
    )


# -- the 👎 review -------------------------------------------------------------------------


@blueprint.get("/feedback")
@login_required(EDITORS)
def feedback() -> ResponseReturnValue:
    bot = services().runtime.current().bot
    try:
        period, page = _period(bot), _page_number()
    except BadRequest as exc:
        return _refused("editor/feedback.html", bot, exc)
    result = thumbs_down(services().storage, period, page)
    sections = [
        (group, [item for item in result.items if item.intent == group.intent])
        for group in result.groups
    ]
    return _page(
        "editor/feedback.html",
        bot,
        period,
        result=result,
        sections=[(group, items) for group, items in sections if items],
        zone=ZoneInfo(period.timezone),
    )


@blueprint.get("/feedback.csv")
@login_required(EDITORS)
def feedback_csv() -> ResponseReturnValue:
    bot = services().runtime.current().bot
    try:
        period = _period(bot)
    except BadRequest as exc:
        return _refused("editor/feedback.html", bot, exc)
    result = thumbs_down(services().storage, period, 1, per_page=MAX_FEEDBACK_CSV_ROWS)
    zone = ZoneInfo(period.timezone)
    rows: list[list[Any]] = [
        [
            "intent",
            "answered at",
            "language",
            "question",
            "answer",
            "then",
            "next message",
            "handoff team",
            "conversation",
        ]
    ]
    rows += [
        [
            i.intent or "",
            i.answered_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            i.language,
            i.question,
            i.answer,
            i.next_step,
            i.next_message,
            i.handoff_team,
            i.conversation_id,
        ]
        for i in result.items
    ]
    return _csv(rows, f"feedback-{period.since}-{period.until}")
