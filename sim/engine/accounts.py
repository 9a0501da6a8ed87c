"""Named accounts and grants in a market: where each account sits, its terms, and grants on the timetable.

The market renews contracts on one cycle (``market.contract_cycle`` periods, every
customer in its phase of it). A named account may have a contract of its own: a current
one that runs longer (``months_to_renewal`` beyond one cycle) or a multi-year length
(``contract_months``, a whole number of cycles). It then keeps its phase, and the renewals
it is not due for are skipped: at the start of such a period it is held out of the period's
renewals, and put back at the next. Like every scheduled change this holds within the
horizon; the outlook past it renews every account on the market's cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.engine.market import Market
    from sim.engine.model import ProcurementModel
    from sim.inputs.schema import Intervention, Scenario


YOU = 0  # your company: the first supplier of the first supplier group


def account_indices(scenario: Scenario) -> dict[str, int]:
    """Customer index of each named account: the first customers of its segment, in list order."""
    starts, start = {}, 0
    for group in scenario.customers:
        starts[group.name] = start
        start += group.count
    out: dict[str, int] = {}
    for account in scenario.accounts:
        out[account.name] = starts[account.segment]
        starts[account.segment] += 1
    return out


def peer_edges(scenario: Scenario) -> np.ndarray:
    """Peer links between named accounts as undirected edges (E, 2) of customer indices."""
    index = account_indices(scenario)
    pairs = {tuple(sorted((index[a.name], index[p]))) for a in scenario.accounts for p in a.peers}
    return np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)


def contract_terms(scenario: Scenario) -> dict[int, tuple[int, int]]:
    """Named accounts that do not renew every cycle from now: customer index -> (first renewal, periods between).

    The first renewal is the period ``months_to_renewal`` falls in; the length is
    ``contract_months`` in periods, a whole number of the market's cycles (the market's
    cycle when not given).
    """
    per_period = 12.0 / scenario.periods_per_year
    cycle = scenario.market.contract_cycle
    index = account_indices(scenario)
    terms = {}
    for account in scenario.accounts:
        first = int(account.months_to_renewal // per_period)
        months = account.contract_months
        length = cycle if months is None else cycle * max(1, round(months / per_period / cycle))
        if first >= cycle or length != cycle:
            terms[index[account.name]] = (first, length)
    return terms


def place_accounts(model: ProcurementModel) -> None:
    """Give the named accounts their revenue, discount, renewal month and supplier (you); schedule grants."""
    scenario = model.config
    if scenario.accounts:
        st = model.state
        index = account_indices(scenario)
        rows = np.array([index[a.name] for a in scenario.accounts], dtype=np.int64)
        st.base_demand[rows] = [a.annual_revenue / scenario.periods_per_year for a in scenario.accounts]
        st.discount[rows] = [a.current_discount for a in scenario.accounts]
        st.price[rows] = 1.0 - st.discount[rows]
        st.supplier[rows] = YOU
        st.offset[rows] = [int(a.months_to_renewal // model.months_per_period) % model.cycle for a in scenario.accounts]
        schedule_contracts(model)
    if scenario.interventions:
        schedule_grants(model)


def schedule_contracts(model: ProcurementModel) -> None:
    """Hold each account with a contract of its own out of the renewals it is not due for (within the horizon)."""
    for row, (first, length) in contract_terms(model.config).items():
        phase = int(model.state.offset[row])
        for period in range(phase, model.periods, model.cycle):
            if period < first or (period - first) % length:
                model.timetable.events[period].append(lambda m=model, r=row, t=period: _hold(m, r, t, True))
                model.timetable.events[period + 1].append(lambda m=model, r=row, t=period: _hold(m, r, t, False))


def _hold(market: Market, row: int, period: int, out: bool) -> None:
    """Take a market's customer out of (or put it back into) the model's renewals of ``period``'s phase."""
    model = market.model
    customer = market.customers.start + row
    phase = period % model.cycle
    renewing = model.renewal_phase[phase]
    model.renewal_phase[phase] = renewing[renewing != customer] if out else np.union1d(renewing, [customer])


def targets(scenario: Scenario, item: Intervention) -> np.ndarray:
    """Customer indices an intervention is addressed to."""

    index = account_indices(scenario)
    if item.to in index:
        return np.array([index[item.to]], dtype=np.int64)
    start = 0
    for group in scenario.customers:
        if group.name == item.to:
            return np.arange(start, start + group.count, dtype=np.int64)
        start += group.count
    return np.empty(0, dtype=np.int64)


def effective_periods(model: ProcurementModel, rows: np.ndarray, start: int) -> np.ndarray:
    """The period after each customer's next renewal on or after ``start`` (when the grant first prices)."""
    cycle = model.cycle
    offset = np.broadcast_to(model.state.offset, (model.n_customers,))[rows]
    renewal = start + (offset - start) % cycle
    contracts = contract_terms(model.config)
    for k, row in enumerate(rows.tolist()):
        terms = contracts.get(row)
        if terms is not None:
            first, length = terms
            renewal[k] = first if start <= first else first + -(-(start - first) // length) * length
    return renewal + 1


def schedule_grants(model: ProcurementModel) -> None:
    """Put every grant on the model's timetable, at the start of the period after the renewal."""
    scenario = model.config
    for item in scenario.interventions:
        rows = targets(scenario, item)
        when = effective_periods(model, rows, int(item.from_period))
        for period in np.unique(when):
            if period >= model.periods:
                continue
            chosen = rows[when == period]
            model.timetable.events[int(period)].append(
                lambda m=model, r=chosen, lv=float(item.grant), who=item.to, t=int(period): _grant(m, r, lv, who, t)
            )


def _grant(model: ProcurementModel, rows: np.ndarray, level: float, who: str, period: int) -> None:
    """Raise your accounts among ``rows`` to the discount ``level``; what it adds is a favour (not asked for)."""
    st = model.state
    mine = rows[st.supplier[rows] == YOU]
    raised = mine[st.discount[mine] < level]
    if raised.size:
        st.favour[raised] += level - st.discount[raised]
        st.discount[raised] = level
        st.price[raised] = 1.0 - level + st.premium[raised]
        what = who if rows.size == 1 else f"{raised.size} account(s) of segment {who}"
        model.events.append((period - 1, f"you granted {what} a {100 * level:.1f}% discount at renewal"))
