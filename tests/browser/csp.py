"""Content-Security-Policy violations as a browser test sees them.

`watch_csp(page)` before the first `goto`: every `securitypolicyviolation` event
(in any document the page opens, shadow roots included: the event is composed)
and every console message in which Chromium reports a blocked resource lands in
the returned list, which a test asserts empty at its end.
"""

from __future__ import annotations

from typing import Any

__all__ = ["watch_csp"]

_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
    + " in " + e.sourceFile + ":" + e.lineNumber);
});
"""


def watch_csp(page: Any) -> list[str]:
    """The CSP violations `page` reports from now on (a list that fills as they happen)."""
    violations: list[str] = []
    page.add_init_script(_LISTENER)

    def seen(message: Any) -> None:
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text:
            violations.append(text)

    page.on("console", seen)
    return violations
