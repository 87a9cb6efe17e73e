"""The handoff teams of bot.yml as forms: office hours, time zone, closed days, webhook, e-mail.

An admin edits teams in the browser; the change becomes a `Draft` of bot.yml
and goes through `FlowEditor.save` like every other edit, so it is checked by
the same loader as `botbuilder check`, written atomically under the writers'
lock and kept in the history with its author. The form is read back through
the loader's own reading of bot.yml (`read_settings`), so the page shows the
hours exactly as the bot will use them.

Only what changed is written, into the round-trip tree: comments, key order
and the flow style of `hours: {mon-fri: "09:00-17:00"}` survive. Days with
the same hours are written as one range (`mon-fri`), an end of midnight as
`24:00`. A team's webhook URL is a secret: forms carry it masked, and an
empty webhook field keeps the one in bot.yml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, time
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from botbuilder.content.bot_settings import HANDOFF_KEYS, TEAM_KEYS, read_settings
from botbuilder.content.emails import is_email
from botbuilder.content.files import dump_yaml, round_trip_yaml
from botbuilder.content.loader import SETTINGS_FILE
from botbuilder.content.model import TeamSettings
from botbuilder.editing.forms import Draft, EditConflict, FieldProblem, InvalidEdit, digest
from botbuilder.editing.history import VersionRecord
from botbuilder.editing.round_trip import load_round_trip, set_key, update_list
from botbuilder.editing.service import FlowEditor
from botbuilder.editing.yaml_comments import delete_keeping_comments, set_keeping_comments
from botbuilder.errors import N_, Message

__all__ = [
    "DAYS",
    "TeamForm",
    "Teams",
    "hours_summary",
    "masked_url",
    "parse_hours",
    "timezone_choices",
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TIMEZONE = TeamSettings.timezone
TEAM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_MIDNIGHT_END = time(23, 59, 59)  # how the loader reads an end of 24:00
Hours = dict[int, tuple[tuple[time, time], ...]]


@dataclass
class TeamForm:
    """One team as the admin fills it in; `hours` per weekday (0 = Monday) as "09:00-17:00, …"."""

    name: str
    hours: dict[int, str] = field(default_factory=dict)
    timezone: str = DEFAULT_TIMEZONE
    closed_days: list[str] = field(default_factory=list)
    webhook: str = ""  # a new URL; "" keeps the one in bot.yml
    remove_webhook: bool = False
    email: str = ""
    webhook_masked: str = ""  # what the page shows of the URL in bot.yml
    revision: str = ""  # a token of the team as the form was opened; a save names it

    @classmethod
    def of(cls, team: TeamSettings) -> TeamForm:
        return cls(
            name=team.name,
            hours={day: hours_text(team.hours.get(day, ())) for day in range(7)},
            timezone=team.timezone,
            closed_days=[d.isoformat() for d in team.closed_days],
            email=team.email or "",
            webhook_masked=masked_url(team.webhook) if team.webhook else "",
            revision=team_revision(team),
        )


def team_revision(team: TeamSettings) -> str:
    """A token of a team's settings as the loader reads them, webhook included."""
    return digest(repr(team))


def hours_text(ranges: tuple[tuple[time, time], ...]) -> str:
    return ", ".join(
        f"{start:%H:%M}-{'24:00' if end == _MIDNIGHT_END else f'{end:%H:%M}'}"
        for start, end in ranges
    )


def masked_url(url: str) -> str:
    """A webhook URL as a page may show it: scheme and host, the secret path hidden."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}/…" if parts.scheme else "…"


def timezone_choices() -> list[str]:
    """The time zones the form offers: Europe's first, then the rest of the world."""
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
    return sorted(zones, key=lambda z: (not z.startswith("Europe/"), z)) + ["UTC"]


def parse_hours(text: str) -> tuple[tuple[time, time], ...] | None:
    """ "09:00-12:00, 13:00-17:00" as the loader reads it; None if not understood."""
    ranges = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = _RANGE.match(part)
        if not m:
            return None
        h1, m1, h2, m2 = (int(x) for x in m.groups())
        if not (h1 < 24 and m1 < 60 and (h2 < 24 or (h2, m2) == (24, 0)) and m2 < 60):
            return None
        start, end = time(h1, m1), _MIDNIGHT_END if h2 == 24 else time(h2, m2)
        if end <= start:
            return None
        ranges.append((start, end))
    return tuple(ranges)


def _problems(form: TeamForm, new: bool, names: list[str]) -> list[FieldProblem]:
    """What is wrong with the form itself, per field, before the loader sees it."""
    found: list[tuple[str, Message]] = []
    if new and not TEAM_NAME.fullmatch(form.name):
        bad_name = N_("a team name has 1 to 40 letters, digits, - or _, e.g. 'weekend'")
        found.append(("name", Message(bad_name)))
    elif new and form.name in names:
        found.append(("name", Message(N_("there is already a team '%(team)s'"), team=form.name)))
    for day, text in form.hours.items():
        if parse_hours(text) is None:
            not_hours = N_("%(day)s: '%(hours)s' is not from-to, e.g. 09:00-17:00")
            found.append((f"hours-{DAYS[day]}", Message(not_hours, day=DAYS[day], hours=text)))
    if form.timezone not in available_timezones():
        no_zone = N_("unknown time zone '%(zone)s'; e.g. Europe/Amsterdam")
        found.append(("timezone", Message(no_zone, zone=form.timezone)))
    for closed in form.closed_days:
        try:
            date.fromisoformat(closed)
        except ValueError:
            not_a_day = N_("closed day '%(day)s' must be a date like 2026-12-25")
            found.append(("closed_days", Message(not_a_day, day=closed)))
    if form.webhook and urlsplit(form.webhook).scheme not in ("http", "https"):
        found.append(("webhook", Message(N_("the webhook must be an http(s) URL"))))
    if form.email and not is_email(form.email):
        found.append(
            ("email", Message(N_("'%(email)s' is not an e-mail address"), email=form.email))
        )
    return [FieldProblem(name, _in_settings(text), text) for name, text in found]


def _in_settings(message: Message) -> Message:
    """`message` as a problem of bot.yml ("bot.yml: …"), as the editor shows the loader's."""
    # TRANSLATORS: where in which flow file (faq.yml:12:5), then what is wrong there.
    return Message(N_("%(place)s: %(message)s"), place=SETTINGS_FILE, message=message)


class Teams:
    """The teams of one bot, read and changed through its `FlowEditor`."""

    def __init__(self, editor: FlowEditor) -> None:
        self.editor = editor

    def current(self) -> tuple[list[TeamForm], str]:
        """Every team as a form, and the default team, as the loader reads bot.yml now."""
        handoff = read_settings(self.editor.root, []).handoff
        return [TeamForm.of(t) for t in handoff.teams.values()], handoff.default_team

    def form(self, name: str) -> TeamForm:
        teams, _ = self.current()
        found = next((t for t in teams if t.name == name), None)
        if found is None:
            raise InvalidEdit([FieldProblem(None, f"no team '{name}' in bot.yml", "no such team")])
        return found

    # -- drafts -------------------------------------------------------------------------

    def draft_team(self, form: TeamForm, new: bool) -> Draft:
        """bot.yml with the team added or changed; InvalidEdit names the fields in error."""
        handoff = read_settings(self.editor.root, []).handoff
        problems = _problems(form, new, list(handoff.teams))
        if not new and form.name not in handoff.teams:
            problems.append(FieldProblem(None, f"no team '{form.name}' in bot.yml", "no team"))
        elif not new and form.revision and form.revision != team_revision(handoff.teams[form.name]):
            raise EditConflict(
                N_(
                    "someone else saved team '%(team)s' while you were editing it. The form "
                    "now shows their version; make your change again."
                ),
                None,
                team=form.name,
            )
        if problems:
            raise InvalidEdit(problems)
        yaml, data, teams = self._document()
        node = teams.get(form.name)
        fresh = not isinstance(node, CommentedMap)
        if not isinstance(node, CommentedMap):
            node = CommentedMap()
        if not node:
            node.fa.set_block_style()  # `leden: {}` grows into a block
        before = handoff.teams.get(form.name, TeamSettings(name=form.name))
        _apply_team(node, before, form)
        if fresh:
            set_keeping_comments(teams, form.name, node)
        note = f"{'added' if new else 'edited'} team '{form.name}'"
        return Draft({SETTINGS_FILE: dump_yaml(data, yaml)}, {SETTINGS_FILE: note})

    def draft_delete(self, name: str) -> Draft:
        handoff = read_settings(self.editor.root, []).handoff
        if name == handoff.default_team:
            default = N_("team '%(team)s' is the default team; choose another default team first")
            text = Message(default, team=name)
            raise InvalidEdit([FieldProblem("default_team", _in_settings(text), text)])
        yaml, data, teams = self._document()
        if name not in teams:
            raise InvalidEdit([FieldProblem(None, f"no team '{name}' in bot.yml", "no team")])
        delete_keeping_comments(teams, name)
        return Draft(
            {SETTINGS_FILE: dump_yaml(data, yaml)}, {SETTINGS_FILE: f"deleted team '{name}'"}
        )

    def draft_default(self, name: str) -> Draft:
        yaml, data, teams = self._document()
        if name not in teams:
            text = Message(N_("'%(team)s' is not a team; add it first"), team=name)
            raise InvalidEdit([FieldProblem("default_team", _in_settings(text), text)])
        set_keeping_comments(data["handoff"], "default_team", name, HANDOFF_KEYS)
        return Draft(
            {SETTINGS_FILE: dump_yaml(data, yaml)},
            {SETTINGS_FILE: f"default team is now '{name}'"},
        )

    def save(self, draft: Draft, author: str, focus: str | None = None) -> list[VersionRecord]:
        """`FlowEditor.save`, with the loader's problems in team `focus` tied to its fields."""
        try:
            return self.editor.save(draft, author)
        except InvalidEdit as exc:
            text = draft.changes.get(SETTINGS_FILE, "")
            raise InvalidEdit([_tied(p, text, focus) for p in exc.problems]) from exc

    def _document(self) -> tuple[YAML, CommentedMap, CommentedMap]:
        """bot.yml parsed for a round trip, with `handoff.teams` made if it is missing."""
        exists = (self.editor.root / SETTINGS_FILE).exists()
        yaml, data = self.editor.parsed(SETTINGS_FILE) if exists else (round_trip_yaml(), None)
        data = CommentedMap() if data is None else data
        handoff = data.get("handoff") if isinstance(data, CommentedMap) else None
        if handoff is None and isinstance(data, CommentedMap):
            data["handoff"] = handoff = CommentedMap()
        if not isinstance(handoff, CommentedMap) or not isinstance(
            handoff.get("teams") or CommentedMap(), CommentedMap
        ):
            text = "bot.yml's 'handoff.teams' is not a mapping of teams; fix it by hand first"
            raise InvalidEdit([FieldProblem(None, f"{SETTINGS_FILE}: {text}", text)])
        if not isinstance(handoff.get("teams"), CommentedMap):
            set_key(handoff, "teams", CommentedMap(), HANDOFF_KEYS)
        return yaml, data, handoff["teams"]


def _apply_team(node: CommentedMap, before: TeamSettings, form: TeamForm) -> None:
    """Write the fields of `form` that differ from `before` into the team's node."""
    hours = {d: r for d, text in form.hours.items() if (r := parse_hours(text))}
    if hours != {d: r for d, r in before.hours.items() if r}:
        if hours:
            set_keeping_comments(node, "hours", _hours_node(hours, node.get("hours")), TEAM_KEYS)
        else:
            node.pop("hours", None)
    if form.timezone != before.timezone:
        set_keeping_comments(node, "timezone", form.timezone, TEAM_KEYS)
    closed = sorted({date.fromisoformat(d) for d in form.closed_days})
    if closed != sorted(before.closed_days):
        old = node.get("closed_days")
        if not closed:
            node.pop("closed_days", None)
        elif isinstance(old, CommentedSeq):
            update_list(old, closed, lambda d: str(d))
        else:
            seq = CommentedSeq(closed)
            seq.fa.set_flow_style()
            set_keeping_comments(node, "closed_days", seq, TEAM_KEYS)
    if form.remove_webhook:
        node.pop("webhook", None)
    elif form.webhook:
        set_keeping_comments(node, "webhook", form.webhook.strip(), TEAM_KEYS)
    if form.email.strip() != (before.email or ""):
        if form.email.strip():
            set_keeping_comments(node, "email", form.email.strip(), TEAM_KEYS)
        else:
            node.pop("email", None)


def _day_groups(hours: dict[int, str]) -> list[tuple[str, str]]:
    """Days with the same hours as one range: [("mon-fri", "09:00-17:00"), ("sat", …)]."""
    groups, day = [], 0
    while day < 7:
        if not hours.get(day):
            day += 1
            continue
        last = day
        while last + 1 < 7 and hours.get(last + 1) == hours[day]:
            last += 1
        groups.append((DAYS[day] if last == day else f"{DAYS[day]}-{DAYS[last]}", hours[day]))
        day = last + 1
    return groups


def hours_summary(form: TeamForm) -> str:
    """A team's hours in one line, as bot.yml writes them; "" for a team always open."""
    return "; ".join(f"{days} {text}" for days, text in _day_groups(form.hours))


def _hours_node(hours: Hours, old: object) -> CommentedMap:
    """Days with the same hours as one range (mon-fri), in the style of the old node."""
    node = CommentedMap()
    texts = {day: hours_text(ranges) for day, ranges in hours.items()}
    for days, text in _day_groups(texts):
        node[days] = DoubleQuotedScalarString(text)
    if not (isinstance(old, CommentedMap) and not old.fa.flow_style()):
        node.fa.set_flow_style()
    return node


def _tied(problem: FieldProblem, text: str, team: str | None) -> FieldProblem:
    """The problem tied to the team form's field its line is in (hours, timezone, …)."""
    m = re.match(rf"{re.escape(SETTINGS_FILE)}:(\d+):", problem.text)
    if problem.field is not None or team is None or m is None:
        return problem
    try:
        teams = load_round_trip(text)[1]["handoff"]["teams"]
        node = teams[team]
    except (YAMLError, KeyError, TypeError):
        return problem
    line = int(m.group(1)) - 1
    names = list(teams)
    after = names[names.index(team) + 1 :]
    end = teams.lc.key(after[0])[0] if after else line + 1
    if not isinstance(node, CommentedMap) or not node or not node.lc.line <= line < end:
        return problem
    keys = sorted((node.lc.key(k)[0], str(k)) for k in node)
    key = next((k for ln, k in reversed(keys) if ln <= line), keys[0][1])
    return replace(problem, field=key)
