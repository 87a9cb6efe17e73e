"""axe-core in the page: the accessibility rules (WCAG 2.1 A and AA) a page breaks.

axe-core is vendored under tests/browser/vendor/axe-core (MPL-2.0) and evaluated
through the DevTools protocol, which the page's strict CSP does not block (an
injected <script> would be), so the page is checked exactly as it is served.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def axe_violations(page: Any, impacts: tuple[str, ...] = SERIOUS) -> list[str]:
    """The page's violations of these impacts, one readable line each (rule, impact, where)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {
              runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
            });
            return r.violations.map(v => ({
              id: v.id, impact: v.impact, help: v.help,
              targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
            }));
        }"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'])}"
        for v in result
        if v["impact"] in impacts
    ]
