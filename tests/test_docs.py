"""Everything a user can type or set is documented in the README; public names exist."""

from __future__ import annotations

import importlib
import pkgutil

import click
import pytest

import botbuilder
from botbuilder.cli import main
from botbuilder.config import ENVIRONMENT

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.split("```")[1]
    assert "make serve" in first_block and "make test" in first_block


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_and_option_is_in_the_readme(name: str) -> None:
    command = main.commands[name]
    assert f"botbuilder {name}" in README
    for param in command.params:
        if isinstance(param, click.Option):
            assert any(opt in README for opt in param.opts), f"{name} {param.opts} undocumented"


@pytest.mark.parametrize("variable", sorted(ENVIRONMENT.values()))
def test_every_environment_setting_is_in_the_readme(variable: str) -> None:
    assert variable in README


def test_every_bot_yml_key_is_in_the_readme() -> None:
    from botbuilder.content import bot_settings, limit_settings

    keys = (
        bot_settings.BOT_KEYS
        + bot_settings.MATCHER_KEYS
        + bot_settings.HANDOFF_KEYS
        + bot_settings.TEAM_KEYS
        + bot_settings.WIDGET_KEYS
        + limit_settings.LIMIT_KEYS
    )
    for key in keys:
        assert f"`{key}`" in README or f".{key}`" in README or f"`{key}." in README, key


def test_every_name_in_dunder_all_exists() -> None:
    for module_info in pkgutil.walk_packages(botbuilder.__path__, "botbuilder."):
        if (
            module_info.name.endswith(("__main__", "migrations.env"))
            or ".versions." in module_info.name
        ):
            continue
        module = importlib.import_module(module_info.name)
        for name in getattr(module, "__all__", []):
            assert hasattr(module, name), f"{module_info.name}.__all__ names missing {name}"


def test_every_command_the_readme_shows_exists() -> None:
    import re

    shown = set(re.findall(r"`botbuilder ([a-z-]+)", README))
    assert shown, "the README shows no commands"
    assert shown <= set(main.commands), shown - set(main.commands)
