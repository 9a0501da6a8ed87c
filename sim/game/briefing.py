"""What people read around the moves: each role's briefing before round 1, the move sentences, the round's story.

The briefing fits one phone screen; the move sentences say in one line what is in force
(discount and added service together) and how far a team can go; the story is the
projector's one sentence about the room during the rounds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.game.table import BOT, MAX_DEMAND, Table

if TYPE_CHECKING:
    from sim.game.session import Session

BRIEFING = {
    "procurement": (
        "You are the buyer's procurement team. One round is one contract year.",
        (
            "Each round you demand a total discount off the list price (for example 12%). "
            "Asking for no more than is in force now means: no new demand."
        ),
        "The supplier then grants some of it, adds service instead, or holds its price and explains its value.",
        (
            "You see what you pay, the value you perceive and your savings (cash). "
            "You do not see the supplier's margin, cash or investment."
        ),
        "Score: your value and the joint value of your table, compared at the debrief with the same market played another way.",
    ),
    "supplier": (
        "You are the supplier's team. One round is one contract year.",
        "Each round procurement demands a total discount; you see it once it is in.",
        (
            "You answer: grant a discount, add service instead (it costs you about a third of what it is "
            "worth to the buyer), or hold the price and explain the value it funds."
        ),
        (
            "You see your margin, profit (cash), cash, capabilities and investment. "
            "Procurement sees none of these, only what it pays and the value it perceives."
        ),
        "Score: your value and the joint value of your table, compared at the debrief with the same market played another way.",
    ),
}


def pct(value: float) -> str:
    """A share as people type it: one decimal (5.0%, never 4.999999999999999%)."""
    return f"{100 * value:.1f}%"


def typed(value: float) -> float:
    """A share as a percentage with one decimal, as a form field holds it (0.05 -> 5.0)."""
    return round(100 * value + 1e-9, 1)


def in_force(table: Table) -> str:
    """What is in force, discount and service together: '8.0% off list price (0.0% discount + 8.0% added service)'."""
    level, discount = table.level(), table.discount()
    return f"{pct(level)} off list price ({pct(discount)} discount + {pct(level - discount)} added service)"


def supplier_sentence(table: Table) -> str:
    """The supplier's move in one sentence: the demand, what is in force, and how far it can go."""
    assert table.demand is not None  # noqa: S101 - asked only once the demand is in
    gap = table.gap(table.demand)
    head = f"Procurement demands {pct(table.demand)} in total; in force now: {in_force(table)}"
    if gap <= 1e-9:
        return f"{head}. That leaves nothing more to concede this round: hold the price and explain its value."
    return (
        f"{head}. You can concede up to {pct(gap)} more this round, as a discount or as added service, "
        "or hold the price."
    )


def procurement_sentence(table: Table) -> str:
    """Procurement's move in one sentence: what is in force and what a demand means."""
    return (
        f"In force now: {in_force(table)}. Demand a total above {pct(table.level())} to ask for more; "
        f"at most {pct(MAX_DEMAND)}."
    )


def _kind(row: dict) -> str:
    answer = row["answer"].removeprefix(BOT)
    if answer == "hold" or row["points"] <= 1e-9:
        return "held the price"
    return "added service" if answer == "value_trade" else "granted a discount"


def round_story(session: Session) -> str:
    """The room in one sentence, for the projector: where the game is and what the last round did."""
    rounds = session.settings.rounds
    if session.state == "lobby":
        taken = sum(1 for t in session.tables for name in t.teams.values() if name)
        done = " The practice round is done." if session.practiced else ""
        return f"Teams are joining: {taken} of {2 * len(session.tables)} seats are taken.{done}"
    if session.state == "finished":
        return f"All {rounds} rounds are played: the debrief is next."
    if session.state == "debrief":
        return "The debrief: every table against the balanced policy."
    if session.practice:
        return "The practice round: it does not count, and every table starts again afterwards."
    if session.round <= 1:
        return (
            f"Round 1 of {rounds}, the first contract year: procurement demands a discount, then the supplier answers."
        )
    last = [t.log[session.round - 2] for t in session.tables if len(t.log) >= session.round - 1]
    counts: dict[str, int] = {}
    for row in last:
        counts[_kind(row)] = counts.get(_kind(row), 0) + 1
    what = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    before = [t.log[session.round - 3]["discount_after"] if session.round > 2 else 0.0 for t in session.tables]
    now = sum(r["discount_after"] for r in last) / max(len(last), 1)
    was = sum(before) / max(len(before), 1)
    trend = (
        f"up from {pct(was)}" if now > was + 1e-9 else (f"down from {pct(was)}" if now < was - 1e-9 else "unchanged")
    )
    suppliers = "supplier" if len(last) == 1 else "suppliers"
    return (
        f"Round {session.round} of {rounds}. Last round, of {len(last)} {suppliers}: {what}; "
        f"the discount in force averages {pct(now)}, {trend}."
    )
