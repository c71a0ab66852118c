"""axe-core, Deque's accessibility engine, run inside a Playwright page.

The engine is vendored beside this module (vendor/axe-core, see its README), so the browser
tests need neither Node nor npm: it is injected into the page as a script and run there."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# The WCAG 2.1 A and AA success criteria: what the ADA and the accreditors' accommodation
# policies are read against.
WCAG_21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
# axe rates each violation minor, moderate, serious or critical; these two fail a page.
BLOCKING = ("serious", "critical")


def axe_violations(
    page: Page, *, tags: tuple[str, ...] = WCAG_21_AA, impacts: tuple[str, ...] = BLOCKING
) -> list[dict]:
    """The violations axe finds in the page as it stands, of the given impacts; each as axe
    reports it (id, impact, help, helpUrl, nodes with their target selectors and summary)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=AXE_JS)
    results = page.evaluate(
        """tags => axe.run(document, {
            runOnly: {type: "tag", values: tags},
            resultTypes: ["violations"],
        })""",
        list(tags),
    )
    return [violation for violation in results["violations"] if violation["impact"] in impacts]


def describe(violations: list[dict], *, nodes_per_rule: int = 5) -> str:
    """The violations as a reader fixing them wants them: the rule, its impact and help, then
    each element's selector and axe's summary of what is wrong with it."""
    lines = []
    for violation in violations:
        nodes = violation["nodes"]
        lines.append(
            f"- {violation['id']} ({violation['impact']}, {len(nodes)} element(s)): "
            f"{violation['help']} <{violation['helpUrl']}>"
        )
        for node in nodes[:nodes_per_rule]:
            # A selector inside a frame or shadow root comes as a list of selectors.
            target = " >> ".join(
                " ".join(part) if isinstance(part, list) else part for part in node["target"]
            )
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {target}: {summary}")
        if len(nodes) > nodes_per_rule:
            lines.append(f"    … and {len(nodes) - nodes_per_rule} more")
    return "\n".join(lines)
