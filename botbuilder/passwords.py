"""Password rules: what makes a password good enough for a staff account.

`check_password` refuses short passwords, one character repeated, too few
different characters, runs like `abcdefghij`, the account's e-mail name, and the
most used passwords (English and Dutch lists) with digits or symbols added or
letters swapped for look-alikes ("Welkom2024!", "p@ssw0rd1"). Accounts
(accounts.py) check every new password with it.
"""

from __future__ import annotations

import re

from botbuilder.errors import N_, BadRequest, Phrase

__all__ = ["COMMON_PASSWORDS", "MIN_DISTINCT_CHARACTERS", "MIN_PASSWORD_LENGTH", "check_password"]

MIN_PASSWORD_LENGTH = 10
MIN_DISTINCT_CHARACTERS = 5
# The most used passwords and the words they are built on (English and Dutch lists),
# compared after digits and symbols at either end are stripped and l33t is undone,
# so "Welkom2024!" and "p@ssw0rd1" count too.
COMMON_PASSWORDS = frozenset(
    """
    password wachtwoord passwort motdepasse welcome welkom geheim secret letmein changeme
    default admin administrator beheerder root login qwerty qwertz azerty qwertyuiop
    asdfgh asdfghjkl zxcvbn zxcvbnm qazwsx 1qaz2wsx zaq12wsx 1q2w3e4r 1q2w3e4r5t
    q1w2e3r4t5 iloveyou ikhouvanjou loveyou monkey dragon football voetbal baseball soccer
    sunshine princess prinses master shadow superman batman trustno starwars whatever
    michael jennifer jordan computer hello hallo freedom charlie abc abcdef abcdefg
    abcdefgh 123abc 123456 1234567 12345678 123456789 1234567890 0123456789 0987654321
    987654321 111111 000000 123123 121212 654321 112233 666666 696969 123qwe qwe123 pass
    test testtest testing guest user summer zomer winter lente herfst autumn spring
    amsterdam rotterdam utrecht nederland holland ajax feyenoord liefde schatje hartje
    konijn lekker botbuilder chatbot example
    """.split()
)
_UNLEET = str.maketrans("@4301!$57", "aaeoiisst")
_ENDS = "0123456789!@#$%^&*()_+-=[]{};:'\",.<>/?\\|`~ "


def _weakness(password: str, email: str) -> BadRequest | None:
    """Why `password` is easy to guess, or None."""
    lowered = password.lower()
    distinct = len(set(lowered))
    if distinct == 1:
        return _easy(N_("it is one character repeated"))
    if distinct < MIN_DISTINCT_CHARACTERS:
        return BadRequest(
            N_(
                "that password is too easy to guess: it uses only %(distinct)d different "
                "characters; use at least %(least)d. A few unrelated words make a good one."
            ),
            distinct=distinct,
            least=MIN_DISTINCT_CHARACTERS,
        )
    steps = {ord(b) - ord(a) for a, b in zip(lowered, lowered[1:], strict=False)}
    if steps in ({1}, {-1}):
        return _easy(N_("it is a run of characters, like abcdefghij or 1234567890"))
    core = re.sub(r"[\s._-]+", "", lowered.strip(_ENDS)).translate(_UNLEET)
    name = email.strip().lower().partition("@")[0]
    if len(name) >= 3 and (name in lowered or name.translate(_UNLEET) in core):
        return _easy(N_("it contains the name of the account's e-mail address"))
    # "welkomwelkom" is "welkom" twice
    period = next((p for p in range(1, len(core)) if core == core[:p] * (len(core) // p)), 0)
    if {lowered, core, core[:period]} & COMMON_PASSWORDS:
        return _easy(N_("it is one of the most used passwords, or one with a number added"))
    return None


def _easy(reason: str) -> BadRequest:
    return BadRequest(
        N_(
            "that password is too easy to guess: %(reason)s. A few unrelated words make a good one."
        ),
        reason=Phrase(reason),
    )


def check_password(password: str, email: str = "") -> str:
    """`password` if it is good enough for the account `email`; BadRequest says why not."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(
            N_(
                "the password is too short: use at least %(least)d characters "
                "(a few words make a good one)"
            ),
            least=MIN_PASSWORD_LENGTH,
        )
    weak = _weakness(password, email)
    if weak:
        raise weak
    return password
