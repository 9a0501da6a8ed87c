"""QR codes of the join address, for the terminal and the facilitator's page (drawn by segno).

segno is a small, dependency-free, well-kept QR encoder; a QR encoder of our own (Reed-
Solomon codes, masking, version selection) would be far more code to get right.
"""

from __future__ import annotations

import io

import segno


def terminal(url: str) -> str:
    """The QR code of ``url`` as text blocks for a terminal (two modules per character row)."""
    out = io.StringIO()
    segno.make(url, error="m").terminal(out=out, compact=True)
    return out.getvalue()


def svg(url: str, scale: int = 6) -> str:
    """The QR code of ``url`` as an inline SVG element (black on white, with its quiet zone)."""
    return segno.make(url, error="m").svg_inline(scale=scale, dark="#000", light="#fff", title="Scan to join")
