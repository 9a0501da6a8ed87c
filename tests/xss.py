"""Script payloads for user text, and the check that none of them ran in a browser page.

Reusable by every browser test that shows user text (reports, analysis, dashboard, game,
what-if): put :func:`payload` strings into every string field, open the page inside
:func:`watching`, then call :func:`assert_no_payload_ran`.

    with watching(page) as seen:
        page.goto(url)
        assert_no_payload_ran(page, seen, visible=[payload("name")])

Each payload, if it ever runs, records its tag in ``window.__xss`` (or opens a dialog), so
a failure says which field leaked. A payload shown as text (escaped) is the goal: pass
some in ``visible`` to prove the field is on the page at all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

MARK = "__xss"

# One per injection context: element content, attribute value (double and single quoted),
# script content, URL, SVG, and an iframe that would run its own script.
TEMPLATES = (
    "<img src=x onerror=\"window.{mark}=(window.{mark}||[]).concat('{tag}')\">",
    "<script>window.{mark}=(window.{mark}||[]).concat('{tag}')</script>",
    "\"'><svg onload=\"window.{mark}=(window.{mark}||[]).concat('{tag}')\">",
    "<iframe srcdoc=\"<script>parent.{mark}=(parent.{mark}||[]).concat('{tag}')</script>\"></iframe>",
    "javascript:alert('{tag}')",
)


def payload(tag: str, kind: int = 0) -> str:
    """A script payload that records ``tag`` if it runs (``kind`` picks the injection context)."""
    return TEMPLATES[kind % len(TEMPLATES)].format(mark=MARK, tag=tag)


@dataclass
class Seen:
    """What a page did while watched: dialogs it opened and what it logged."""

    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)


@contextlib.contextmanager
def watching(page) -> Iterator[Seen]:
    """Record dialogs (dismissed) and console messages of ``page`` while the block runs."""
    seen = Seen()

    def on_dialog(dialog) -> None:
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda msg: seen.console.append(msg.text))
    yield seen


def assert_no_payload_ran(page, seen: Seen, visible: Sequence[str] = ()) -> None:
    """No payload ran (no mark, no dialog, no element it would create), and ``visible`` texts are shown as text."""
    assert page.evaluate(f"window.{MARK} || null") is None, f"payload ran: {page.evaluate(f'window.{MARK}')}"
    assert not seen.dialogs, f"a dialog opened: {seen.dialogs}"
    planted = page.evaluate(
        """() => [...document.querySelectorAll('*')].filter(e =>
                 [...e.attributes].some(a => a.name.startsWith('on') && a.value.includes('__xss'))
                 || (e.tagName === 'SCRIPT' && e.textContent.includes('__xss'))
                 || (e.tagName === 'IFRAME' && (e.getAttribute('srcdoc') || '').includes('__xss'))
                 || ((e.getAttribute('href') || '').startsWith('javascript:'))
               ).map(e => e.outerHTML.slice(0, 120))"""
    )
    assert not planted, f"payload elements in the page: {planted}"
    text = page.evaluate("document.body.innerText")
    for shown in visible:
        assert shown in text, f"{shown[:40]!r} is not shown on the page"
