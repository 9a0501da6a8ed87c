"""The stages' passes over customer rows, compiled with numba: one loop instead of dozens of numpy passes.

A sweep's runs are customer-periods by the million, and a stage written as whole-array
numpy reads and writes every row once per operation (some 300 passes a period). Each
function here does a stage's per-customer arithmetic in one loop over the rows, in the
order and with the operations of the equations in docs/model.md, so the single run and
every member of an ensemble (the same loop over more rows) get the same numbers. They are
compiled on first use and cached beside this file (see :mod:`sim.engine.compiled`).

Nothing here decides anything the model's methods do not describe: each pass is called
from the stage of :class:`sim.engine.model.ProcurementModel` whose docstring it implements, and
takes every array it reads or writes as an argument.
"""

from __future__ import annotations

import math

import numpy as np

from sim.engine.compiled import compiled_loop
from sim.engine.customers import (
    balance_index,
    demand_level,
    engagement_sustained,
    fresh_cocreation,
    service_sustained,
    trust_sustained,
)
from sim.engine.delays import toward_asymmetric

# An account falls below the supplier's reservation (walk-away's test) when it funds less of its upkeep than
# the supplier's firmness asks by more than this share of it: smaller gaps are the noise of cost allocation.
NOTICE_SLACK = 0.05


@compiled_loop
def customer_pass(
    # what the relationship delivers
    cell,
    on,
    s,
    value_table,
    cocreation_table,
    service_table,
    visibility,
    inverse_baseline_value,
    # lags (as rates) and parameters of the customer
    perception_rate,
    expectation_rate,
    trust_rise_rate,
    trust_fall_rate,
    engagement_rate,
    cocreation_rate,
    smoothing,
    band_high,
    tolerance,
    engagement_level,
    cocreation_gain,
    reference,
    reciprocity,
    # the supplier side, per supplier row
    gross_margin,
    sustain_per_unit,
    engagement_value,
    coverage,
    list_revenue,
    service_rate,
    service_response,
    firmness,
    # stocks and flows of the customer (read and written)
    volume,
    price,
    gift,
    favour,
    cost_to_serve,
    gift_cost,
    pending_cost,
    redesign_cost,
    redesign_left,
    value,
    value_capability,
    value_withheld,
    value_cocreated,
    paid,
    perceived_value,
    expectation,
    transaction_cost,
    customer_value,
    contribution,
    sustaining_cost,
    supplier_value,
    balance_smoothed,
    trust,
    engagement,
    cocreation,
    service,
    cover,
    uncovered_periods,
    # per supplier row (written): volume-weighted value expected and received, relative to baseline
    expectation_ratio,
    received_ratio,
):
    """Stage 3 for every customer row (see ``ProcurementModel.update_customers``), but its own market
    success, which numpy's vectorised ``exp`` and ``log`` compute faster than a loop.

    Two passes: the first books what each relationship delivers and costs, and adds up per
    supplier what its accounts leave after their upkeep and the engagement they give; the
    second credits engagement within that bound, then updates the balance, trust,
    engagement, co-creation and the supplier's view of each account (its cover and service).
    """
    n_sup = list_revenue.size
    expected_total = np.zeros(n_sup)
    received_total = np.zeros(n_sup)
    funded = np.zeros(n_sup)  # contribution less upkeep, over the supplier's accounts
    credits = np.zeros(n_sup)  # engagement value its accounts would credit, unbounded
    for i in range(cell.size):
        k, j, served = cell[i], s[i], on[i]
        withheld = (1.0 - service[i]) * service_table[k] * served
        cocreated = cocreation_table[k] * max(cocreation[i], -1.0) * served
        u = (value_table[k] + gift[i]) * served - withheld + cocreated
        value[i] = u
        value_capability[i] = value_table[k] * served
        value_withheld[i] = withheld
        value_cocreated[i] = cocreated
        perceived_value[i] += (visibility[i] * u - perceived_value[i]) * perception_rate[i]
        expectation[i] += (u - expectation[i]) * expectation_rate[i] * served
        weight = volume[i] * inverse_baseline_value[i]
        expected_total[j] += weight * expectation[i]
        received_total[j] += weight * u
        # The ledger (MODEL-SPEC section 3), per relationship.
        redesigning = redesign_left[i] > 0
        transaction_cost[i] = pending_cost[i] + redesign_cost[i] * redesigning
        redesign_left[i] -= redesigning
        pending_cost[i] = 0.0
        paid[i] = price[i] * volume[i]
        customer_value[i] = (u - price[i]) * volume[i] - transaction_cost[i]
        contribution[i] = ((price[i] - (1.0 - gross_margin[j])) * volume[i] - cost_to_serve[i] - gift_cost[i]) * served
        sustaining_cost[i] = sustain_per_unit[j] * volume[i]
        supplier_value[i] = engagement_value[j] * engagement[i] * volume[i]  # the credit, bounded below
        funded[j] += contribution[i] - sustaining_cost[i]
        credits[j] += supplier_value[i]
    # Engagement is credited at most up to what the supplier's accounts leave after upkeep: it
    # never makes a supplier that cannot fund the upkeep of its offer look in balance.
    bound = np.zeros(n_sup)
    for j in range(n_sup):
        if list_revenue[j] > 0:
            expectation_ratio[j] = expected_total[j] / list_revenue[j]
            received_ratio[j] = received_total[j] / list_revenue[j]
        if credits[j] > 0:
            bound[j] = min(1.0, max(funded[j], 0.0) / credits[j])
    for i in range(cell.size):
        j, served = s[i], on[i]
        supplier_value[i] = contribution[i] - sustaining_cost[i] + bound[j] * supplier_value[i]
        balance = balance_index(supplier_value[i], customer_value[i])
        balance_smoothed[i] += smoothing[i] * (balance - balance_smoothed[i]) * served
        target = trust_sustained(balance_smoothed[i], band_high[i], tolerance[i])
        trust[i] += toward_asymmetric(trust[i], target, trust_rise_rate[i], trust_fall_rate[i]) * served
        offered = engagement_sustained(engagement_level[i], trust[i], favour[i], reciprocity[i], engagement_value[j])
        engagement[i] += (offered - engagement[i]) * engagement_rate[i] * served
        # Co-creation needs the customer's engagement and the supplier's sales people's time.
        goal = cocreation_gain[i] * (engagement[i] * coverage[j] * service[i] - reference[i])
        cocreation[i] += (goal - cocreation[i]) * cocreation_rate[i] * served
        # The supplier's view: does the account pay for its share of the upkeep (favours it gave aside)?
        paid = contribution[i] + favour[i] * volume[i]
        covered = paid / sustaining_cost[i] if sustaining_cost[i] > 0 else (1.0 if paid >= 0 else 0.0)
        cover[i] = covered if served else 1.0
        uncovered_periods[i] = (uncovered_periods[i] + 1) * (covered < firmness[j] - NOTICE_SLACK) * (served > 0)
        kept = service_sustained(covered, service_response[j])
        service[i] += (kept - service[i]) * service_rate[j] * served


@compiled_loop
def best_peer_discount_pass(peers, discount, supplier, idx, best):
    """``best[c]``: the largest discount a peer of customer ``idx[c]`` gets from the same supplier (0 if none).

    ``peers[i, j]`` is customer ``i``'s ``j``-th peer, or N (no one) past its degree
    (the transpose of :attr:`sim.engine.network.PeerNetwork.peers`); a customer without a supplier
    has no parity to ask.
    """
    for c in range(idx.size):
        best[c] = _best_peer(peers, discount, supplier, idx[c])


@compiled_loop
def _best_peer(peers, discount, supplier, i):
    n = discount.size
    mine = supplier[i]
    best = 0.0
    if mine < 0:
        return best
    for j in range(peers.shape[1]):
        p = peers[i, j]
        if p < n and supplier[p] == mine and discount[p] > best:
            best = discount[p]
    return best


@compiled_loop
def renewal_terms_pass(
    idx,
    supplier_row,
    peers,
    supplier,
    # procurement levers of every customer
    savings_target,
    value_pressure,
    surplus_target,
    budget_pressure,
    financials_pressure,
    margin_norm,
    parity_pressure,
    max_discount,
    # the relationship
    discount,
    gift,
    perceived_value,
    price,
    market_success,
    volume,
    cost_to_serve,
    engagement,
    visibility,
    value,
    demand,
    favour,
    # the supplier, per supplier row
    margin_reported,
    gross_margin,
    gift_unit,
    upkeep_per_unit,
    firmness,
    concession_rate,
    explain_rate,
    concession_exponent,
    # the renewal
    alternatives,
    cycle,
    demand_override,
    terms,
    rows,
):
    """What each renewing customer ``idx[c]`` brings to the table (see ``ProcurementModel._negotiate``).

    Procurement's demand (:func:`sim.engine.customers.demand_level`, with the best discount a peer
    gets from the same supplier where parity pressure is on; ``demand_override`` unless NaN),
    written to ``demand``; the buyer's reservation, the level that would make staying (worth
    ``cycle`` x its perceived net value, as ``ProcurementModel._utility``) as good as its best
    alternative (a column of ``alternatives``), never above its demand; the
    supplier's ceiling (its reservation), the level at which the account's contribution at list
    price (a value premium is not room to concede), its added service counted at cost, still
    funds ``firmness`` of its share of the upkeep (a favour the supplier gave is not held against
    the account). Into
    ``terms`` (the rows of :data:`TERMS`) and ``rows`` (each one's supplier row).
    """
    for c in range(idx.size):
        i = idx[c]
        j = supplier_row[i]
        rows[c] = j
        peer = _best_peer(peers, discount, supplier, i) if parity_pressure[i] > 0 else 0.0
        d = demand_level(
            savings_target[i],
            value_pressure[i],
            surplus_target[i],
            budget_pressure[i],
            financials_pressure[i],
            margin_norm[i],
            parity_pressure[i],
            max_discount[i],
            perceived_value[i],
            price[i],
            market_success[i],
            margin_reported[j],
            peer,
        )
        if not math.isnan(demand_override):
            d = demand_override
        demand[i] = d
        level = discount[i] + gift[i]
        current = cycle * (perceived_value[i] - price[i])
        best = -np.inf
        for o in range(alternatives.shape[0]):
            best = max(best, alternatives[o, c])
        reservation = min(level + max(best - current, 0.0) / cycle, d)
        serve = cost_to_serve[i] / volume[i] if volume[i] > 0 else 0.0
        margin = gross_margin[j] - serve + gift[i] * (1.0 - gift_unit[j])  # a premium is no room to concede
        terms[0, c] = level
        terms[1, c] = discount[i]
        terms[2, c] = gift[i]
        terms[3, c] = d
        terms[4, c] = reservation
        terms[5, c] = max(margin - firmness[j] * upkeep_per_unit[j] + favour[i], 0.0)
        terms[6, c] = engagement[i]
        terms[7, c] = visibility[i]
        terms[8, c] = perceived_value[i]
        terms[9, c] = value[i]
        terms[10, c] = concession_rate[j]
        terms[11, c] = explain_rate[j]
        terms[12, c] = concession_exponent[j]


# The rows ``renewal_terms_pass`` fills, named as the fields of a NegotiationContext.
TERMS = (
    "level",
    "discount",
    "gift",
    "demand",
    "reservation",
    "ceiling",
    "engagement",
    "visibility",
    "perceived",
    "value",
    "concession_rate",
    "explain_rate",
    "exponent",
)


@compiled_loop
def supplier_books_pass(
    s,
    volume,
    price,
    gift,
    service,
    engagement,
    reference,
    engagement_cost_saving,
    cost_to_serve_rate,
    gift_unit_cost,
    cost_to_serve,
    gift_cost,
    revenue,
    list_revenue,
    serve_total,
    gift_total,
):
    """Stage 2's per-account flows and their sums per supplier row (see ``ProcurementModel.run_suppliers``).

    An engaged customer is cheaper to serve, and one given less of the supplier's discretionary
    service (``service`` below 1) costs less to serve; added service costs ``gift_unit_cost`` of its
    supplier per unit of value given. ``revenue`` and ``list_revenue`` are the supplier's
    takings at the negotiated and at list price.
    """
    revenue[:] = 0.0
    list_revenue[:] = 0.0
    serve_total[:] = 0.0
    gift_total[:] = 0.0
    for i in range(s.size):
        j, v = s[i], volume[i]
        saving = 1.0 - engagement_cost_saving[j] * (engagement[i] - reference[i])
        cost_to_serve[i] = cost_to_serve_rate[j] * v * max(saving, 0.0) * service[i]
        gift_cost[i] = gift_unit_cost[j] * gift[i] * v
        revenue[j] += price[i] * v
        list_revenue[j] += v
        serve_total[j] += cost_to_serve[i]
        gift_total[j] += gift_cost[i]


@compiled_loop
def going_terms_pass(s, weight, discount, gift, premium, going_discount, going_gift, going_premium):
    """Each supplier row's going terms: the ``weight``-weighted mean discount, gift and premium of its
    customers (left at zero for a supplier without customers)."""
    n = going_discount.size
    book = np.zeros(n)
    discount_total = np.zeros(n)
    gift_total = np.zeros(n)
    premium_total = np.zeros(n)
    for i in range(s.size):
        j, w = s[i], weight[i]
        book[j] += w
        discount_total[j] += w * discount[i]
        gift_total[j] += w * gift[i]
        premium_total[j] += w * premium[i]
    for j in range(n):
        if book[j] > 0:
            going_discount[j] = discount_total[j] / book[j]
            going_gift[j] = gift_total[j] / book[j]
            going_premium[j] = premium_total[j] / book[j]


@compiled_loop
def best_option_pass(utility, temperature, negligible, scaled, choice, contender):
    """Per customer (a column of ``utility``): utilities over its temperature into ``scaled``, the best
    option into ``choice`` (the first best; option 0 when none is available) and whether another
    option comes within ``negligible`` temperatures of it (``contender``: a draw is needed)."""
    rows, n = utility.shape
    for c in range(n):
        best, arg = -np.inf, 0
        for o in range(rows):
            x = utility[o, c] / temperature[c]
            scaled[o, c] = x
            if x > best:
                best, arg = x, o
        close = 0
        for o in range(rows):
            close += scaled[o, c] >= best - negligible
        choice[c] = arg
        contender[c] = close > 1


@compiled_loop
def noisy_choice_pass(scaled, contender, members, counts, sizes, buffer, pos, choice):
    """The Gumbel-max draw for the contenders: the option with the largest ``scaled - log(E)``,
    ``E`` standard exponential (``-log(E)`` is Gumbel noise).

    Market ``r``'s ``counts[r]`` contenders read the logarithms of its standard exponential
    variates, ``buffer[r, pos[r]:]``, as an (its options x its contenders) block in row order, the
    shape its single run draws; a market with ``sizes[r]`` options fewer than the rows has
    padding rows between its suppliers and the last row (leaving the market), never chosen.
    """
    rows, n = scaled.shape
    seen = np.zeros(counts.size, dtype=np.int64)
    for c in range(n):
        if not contender[c]:
            continue
        r = members[c]
        k, m = counts[r], sizes[r]
        start = pos[r] + seen[r]
        seen[r] += 1
        best, arg = -np.inf, 0
        for o in range(rows):
            if o < m - 1:
                block = o
            elif o == rows - 1:
                block = m - 1
            else:
                continue
            x = scaled[o, c] - buffer[r, start + block * k]
            if x > best:
                best, arg = x, o
        choice[c] = arg


@compiled_loop
def links_pass(supplier, cust_table, cust_sup0, base_demand, served, on, supplier_row, cell, base):
    """Who buys from whom, in the forms the stages use (see :class:`sim.engine.market.Links`): served or not (also
    as 1.0 / 0.0), the supplier row (the market's first where there is none), the (segment, supplier)
    cell of the market's value table, and the base demand served in each cell."""
    base[:] = 0.0
    for i in range(supplier.size):
        j = supplier[i]
        served[i] = j >= 0
        on[i] = 1.0 if j >= 0 else 0.0
        local = j if j >= 0 else 0
        supplier_row[i] = cust_sup0[i] + local
        cell[i] = cust_table[i] + local
        if j >= 0:
            base[cell[i]] += base_demand[i]


@compiled_loop
def peer_table_pass(src, dst, table):
    """Each customer's peers side by side: ``table[d]`` gets the ``src`` of every entry with ``dst == d``,
    in the order of the entries (``table`` comes filled with the no-one sentinel)."""
    filled = np.zeros(table.shape[0], dtype=np.int64)
    for e in range(src.size):
        d = dst[e]
        table[d, filled[d]] = src[e]
        filled[d] += 1


@compiled_loop
def alternatives_pass(
    idx,
    current,
    member,
    sup_count,
    cust_sup0,
    cust_table,
    visibility,
    switching_cost,
    cocreation_gain,
    engagement_level,
    reference,
    coverage,
    active,
    value_table,
    cocreation_table,
    quote_discount,
    quote_gift,
    quote_premium,
    outside_option,
    cycle,
    options,
    best_offer,
    best_value,
):
    """Utility of each option for customers ``idx`` into ``options`` (S + 2, n), -inf where unavailable
    (see ``ProcurementModel._alternatives``): row 0 (staying) is left -inf, row 1 + k is the market's
    supplier k on the terms it quotes a new customer (valued with fresh co-creation), row S + 1 is
    leaving the market. Per customer also the best rival offer per unit, the perceived value of what a
    rival sells (without co-created value, which belongs to a relationship) less its price
    (``best_offer``), and the most value per unit a rival sells (``best_value``); -inf without a rival."""
    most = options.shape[0] - 2  # the most suppliers a market has
    for c in range(idx.size):
        i = idx[c]
        r = member[i]
        options[0, c] = -np.inf
        best = -np.inf
        most_value = -np.inf
        for k in range(most):
            j = cust_sup0[i] + k
            if k >= sup_count[r] or k == current[c] or not active[j]:
                options[1 + k, c] = -np.inf
                continue
            cell = cust_table[i] + k
            price = 1.0 - quote_discount[j] + quote_premium[j]
            sold = visibility[i] * (value_table[cell] + quote_gift[j])
            best = max(best, sold - price)
            most_value = max(most_value, sold)
            fresh = fresh_cocreation(cocreation_gain[i], engagement_level[i], coverage[j], reference[i])
            value = value_table[cell] + cocreation_table[cell] * fresh
            x = visibility[i] * (value + quote_gift[j])
            x -= price
            x *= cycle
            options[1 + k, c] = x - switching_cost[i]
        best_offer[c] = best
        best_value[c] = most_value
        options[most + 1, c] = cycle * outside_option[r] - switching_cost[i]
