"""Scenarios: YAML files in business terms, validated, merged (``extends:``) and resolved.

A scenario names a market (suppliers and customers, in groups), their strategies and
their numbers as a strategy team knows them (margins, spend as % of revenue, annual
revenue per customer). ``load_scenario`` reads a file or a bundled name, applies
``extends:`` and ``--set`` overrides, validates every field and returns a
:class:`Scenario` whose groups are fully resolved (procurement-style presets filled in).
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from .capabilities import CAPABILITIES
from .errors import InputError, clean, excerpt
from .schedule import Schedule
from .yamlio import load_mapping, parse_value

REPO_SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
MINIMAL_SCENARIO = "'extends: baseline' and then only what differs, e.g. 'customers: {count: 200}'"
# Validation caps on a scenario's size (documented in docs/scenarios.md); what fits on this
# machine is checked separately, from an estimate, before a run starts (sim/resources.py).
MAX_TOTAL_CUSTOMERS = 1_000_000
MAX_TOTAL_SUPPLIERS = 10_000
MAX_EXTENDS = 16  # files in one extends: chain


# --------------------------------------------------------------------------- value types


def _number(value: Any) -> float:
    """A number, accepting percent strings such as ``"45%"`` (= 0.45)."""
    if isinstance(value, bool):
        raise ValueError("expected a number, got true/false")
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            return float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
        except ValueError:
            raise ValueError(f"expected a number or a percentage such as 8%, got {excerpt(value)}") from None
    if isinstance(value, int | float):
        return float(value)
    raise ValueError(f"expected a number, got {excerpt(value)}")


def _whole(value: Any) -> Any:
    """A whole number: true/false are refused (YAML would make them 1/0), 12.0 and "1_000" accepted."""
    if isinstance(value, bool):
        raise ValueError("expected a whole number (integer), got true/false")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip().replace("_", ""))
        except ValueError:
            raise ValueError(f"expected a whole number (integer), got {excerpt(value)}") from None
    return value


# An integer field that refuses booleans (pydantic's lax mode would read true as 1).
Int = Annotated[int, BeforeValidator(_whole)]


def _bounded(value: float, lo: float, hi: float, pct: bool) -> float:
    if value != value or not lo <= value <= hi:  # NaN fails too
        hint = " (write 45% or 0.45 for forty-five percent)" if pct and value > hi and value <= 100 * hi else ""
        raise ValueError(f"must be between {lo:g} and {hi:g}, got {value:g}{hint}")
    return value


def _parse_number(value: Any, lo: float, hi: float, pct: bool) -> float:
    return _bounded(_number(value), lo, hi, pct)


def _parse_lever(value: Any, lo: float, hi: float, pct: bool, allow: tuple[Any, ...] = ()) -> Any:
    if value in allow:
        return value
    if isinstance(value, Schedule):
        points = value.as_dict()
    elif isinstance(value, Mapping):
        points = value
    else:
        return _parse_number(value, lo, hi, pct)
    parsed: dict[int, float] = {}
    for period, v in points.items():
        try:
            if isinstance(period, bool | float):
                raise TypeError
            start = int(period)
        except (TypeError, ValueError):
            raise ValueError(f"schedule keys are periods (whole numbers), got {excerpt(period)}") from None
        if start < 0:
            raise ValueError(f"schedule periods start at 0, got {start}")
        try:
            parsed[start] = _parse_number(v, lo, hi, pct)
        except ValueError as exc:
            raise ValueError(f"at period {start}: {exc}") from None
    try:
        return Schedule.from_mapping(parsed)
    except ValueError as exc:
        raise ValueError(str(exc)) from None


def _dump_lever(value: Any) -> Any:
    return value.as_dict() if isinstance(value, Schedule) else value


@dataclass(frozen=True)
class Bounds:
    """Documented range of a numeric field (read by the schema reference and property tests)."""

    lo: float
    hi: float
    lever: bool
    pct: bool


def _parse_optional(value: Any, lo: float, hi: float, pct: bool, allow: tuple[Any, ...]) -> Any:
    return value if value in allow else _parse_number(value, lo, hi, pct)


def Number(lo: float, hi: float, *, pct: bool = False, allow: tuple[Any, ...] = ()) -> Any:  # noqa: N802
    """A plain number within ``[lo, hi]`` (percent strings accepted); ``allow`` passes extra values through."""
    if allow:
        return Annotated[
            Any,
            BeforeValidator(partial(_parse_optional, lo=lo, hi=hi, pct=pct, allow=allow)),
            Bounds(lo, hi, False, pct),
        ]
    return Annotated[float, BeforeValidator(partial(_parse_number, lo=lo, hi=hi, pct=pct)), Bounds(lo, hi, False, pct)]


def Lever(lo: float, hi: float, *, pct: bool = False, allow: tuple[Any, ...] = ()) -> Any:  # noqa: N802
    """A number within ``[lo, hi]``, or a schedule ``{period: value}`` of such numbers.

    ``allow`` lists extra values passed through unchanged (``None`` for "use the preset",
    ``"baseline"`` for a target taken from the cost structure).
    """
    return Annotated[
        Any,
        BeforeValidator(partial(_parse_lever, lo=lo, hi=hi, pct=pct, allow=allow)),
        PlainSerializer(_dump_lever),
        Bounds(lo, hi, True, pct),
    ]


class Strict(BaseModel):
    """Base for all scenario sections: unknown keys are errors, values are checked on set."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class CapabilityShares(Strict):
    """One number per capability (spend shares, lags, weights)."""

    quality: float
    innovation: float
    support: float
    sales_coverage: float

    def as_list(self) -> list[Any]:
        return [getattr(self, k) for k in CAPABILITIES]


def _capability_model(
    name: str, lo: float, hi: float, defaults: tuple[float, ...], *, lever: bool, pct: bool, doc: str
) -> type[CapabilityShares]:
    kind = Lever(lo, hi, pct=pct) if lever else Number(lo, hi, pct=pct)
    fields = {k: (kind, Field(d)) for k, d in zip(CAPABILITIES, defaults, strict=True)}
    from pydantic import create_model

    return create_model(name, __base__=CapabilityShares, __doc__=doc, **fields)  # type: ignore[call-overload]


Spend = _capability_model(
    "Spend",
    0.0,
    0.6,
    (0.08, 0.10, 0.05, 0.05),
    lever=True,
    pct=True,
    doc="Investment budget per capability as a share of revenue at list price.",
)
CapabilityLag = _capability_model(
    "CapabilityLag",
    1.0,
    100.0,
    (4.0, 8.0, 2.0, 3.0),
    lever=False,
    pct=False,
    doc="Periods each capability takes to erode toward what a smaller budget sustains (people leave quickly).",
)
RebuildLag = _capability_model(
    "RebuildLag",
    1.0,
    400.0,
    (12.0, 24.0, 6.0, 9.0),
    lever=False,
    pct=False,
    doc="Periods each capability takes to be rebuilt toward what a larger budget sustains (hiring, training).",
)
CutWeights = _capability_model(
    "CutWeights",
    0.0,
    100.0,
    (1.0, 1.0, 1.0, 1.0),
    lever=False,
    pct=False,
    doc="Relative weight of each budget when a cut is shared (per unit of budget).",
)
ValueWeights = _capability_model(
    "ValueWeights",
    0.0,
    5.0,
    (0.5, 0.4, 0.3, 0.2),
    lever=False,
    pct=False,
    doc="Value per unit the customer gets from each capability at baseline (sum 1.4).",
)


# --------------------------------------------------------------------------- sections


class NetworkSettings(Strict):
    """The customers' peer network over which net prices become known."""

    kind: Literal["small_world", "none"] = Field("small_world", description="Graph family.")
    degree: Int = Field(6, ge=2, le=100, description="Peers per customer (even).")
    rewire: Number(0, 1) = Field(0.1, description="Small-world rewiring probability.")


class MarketSettings(Strict):
    """Rules of the market shared by every relationship."""

    contract_cycle: Int = Field(4, ge=1, le=100, description="Periods between renewals (negotiations).")
    stagger_contracts: bool = Field(
        True, description="Spread renewals over the cycle (random offsets) instead of all at once."
    )
    negotiation_rounds: Int = Field(
        6, ge=1, le=100, description="Alternating-offer rounds before the deadline of each renewal."
    )
    ratchet: Lever(0, 1) = Field(
        1.0, description="1: a granted discount is never taken back; 0: it follows the demand down freely."
    )
    fair_band: tuple[Number(0, 1), Number(0, 1)] = Field(
        (0.4, 0.6), description="Balance index band counted as fair (supplier's share of joint value)."
    )
    balance_smoothing: Number(0.01, 1) = Field(
        0.3, description="Weight of the newest period in the exponentially weighted balance."
    )
    imbalance_periods: Int = Field(
        4, ge=1, le=1000, description="Periods outside the fair band that make an imbalance persistent."
    )
    engagement_reference: Number(0, 1) = Field(
        0.5, description="Engagement at which co-creation neither adds nor removes value."
    )
    outside_option: Lever(-2, 2) = Field(
        0.0,
        description="Net value per unit of leaving this market (in-house, other channel); below it a relationship ends.",
    )
    network: NetworkSettings = Field(default_factory=NetworkSettings)

    @field_validator("fair_band")
    @classmethod
    def _band(cls, band: tuple[float, float]) -> tuple[float, float]:
        if band[0] >= band[1]:
            raise ValueError(f"the lower bound must be below the upper bound, got {list(band)}")
        return band


class SupplierGroup(Strict):
    """Suppliers that share a cost structure and a negotiation strategy."""

    name: str = Field("suppliers", description="Group name (used by --set suppliers.groups.NAME.field).")
    count: Int = Field(1, ge=0, le=10_000, description="Number of suppliers in the group.")
    share: Number(0.001, 1000) = Field(1.0, description="Relative initial market share of each supplier.")
    strategy: str = Field("concede", description="Negotiation strategy (see the table below).")
    concession_rate: Lever(0, 1) = Field(
        0.5, description="Share of the gap to the demand conceded per renewal (concede, reciprocal, value_trade)."
    )
    concession_exponent: Number(0.01, 100, allow=(None,)) = Field(
        None, description="Time-curve exponent beta for boulware/conceder (null: 0.2 / 5)."
    )
    margin_defense: Lever(0, 1) = Field(
        0.5, description="Share of a margin shortfall closed by cutting investment now (0 absorb, 1 cut one for one)."
    )
    gross_margin: Lever(0.01, 0.95, pct=True) = Field(0.45, description="Gross margin at list price.")
    spend: Spend = Field(
        default_factory=Spend, description="Investment in each capability as a share of revenue at list price."
    )
    overhead: Lever(0, 0.9, pct=True) = Field(
        0.08, description="Overhead per period as a share of revenue at list price; fixed in the short run."
    )
    overhead_lag: Number(1, 1000) = Field(
        8.0, description="Periods over which overhead is resized to the business (restructuring takes time)."
    )
    cost_to_serve: Lever(0, 0.5, pct=True) = Field(
        0.03, description="Variable cost to serve as a share of revenue at list price (lowered by engagement)."
    )
    engagement_cost_saving: Number(0, 1) = Field(
        0.5, description="Relative cost-to-serve saving per unit of engagement above the reference."
    )
    engagement_value: Lever(0, 2) = Field(
        0.35,
        description="Non-cash value to the supplier per unit of volume at full engagement (information, access, "
        "references, renewals).",
    )
    target_margin: Lever(-0.5, 0.9, pct=True, allow=("baseline",)) = Field(
        "baseline", description="Operating margin the supplier defends; 'baseline' = the margin it earns at list price."
    )
    cash_months: Number(0, 600) = Field(6.0, description="Initial cash in months of initial revenue.")
    cash_reserve_months: Lever(0, 600) = Field(
        2.0, description="Below this cash (months of revenue) margin defense is forced to 1."
    )
    capability_lag: CapabilityLag = Field(
        default_factory=CapabilityLag, description="Periods each capability takes to erode when its budget is cut."
    )
    rebuild_lag: RebuildLag = Field(
        default_factory=RebuildLag, description="Periods each capability takes to be rebuilt when its budget rises."
    )
    initial_capability: Number(0.05, 2) = Field(
        1.0, description="Capability stocks at the start (below 1: a supplier that has already run down)."
    )
    standard_lag: Number(1, 1000) = Field(
        12.0,
        description="Periods for the service standard (the budgets the supplier aims for) to erode toward what it spends.",
    )
    standard_recovery_lag: Number(1, 1000) = Field(
        16.0,
        description="Periods to restore the service standard toward what customers expect, while the margin allows it.",
    )
    budget_lag: Number(1, 100) = Field(
        4.0, description="Periods for budgets to follow a margin shortfall (budget rounds); a cash crisis cuts at once."
    )
    margin_standard_lag: Number(1, 1000) = Field(
        12.0, description="Periods for the target margin to drift toward the margin achieved (and back to the plan)."
    )
    max_cut: Lever(0, 1) = Field(
        1.0,
        description="Largest share of a budget that can be cut in a period (1: down to zero).",
    )
    cut_weights: CutWeights = Field(default_factory=CutWeights, description="How a cut is shared across budgets.")
    cut_order: list[Literal["quality", "innovation", "support", "sales_coverage"]] | None = Field(
        None, description="Cut budgets one after another in this order instead of sharing by weights."
    )
    walk_away_periods: Int | None = Field(
        8,
        ge=1,
        le=10_000,
        description="Drop an account whose value to the supplier stays negative this many periods (null: never).",
    )
    insolvency_periods: Int = Field(
        2, ge=1, le=10_000, description="Periods of negative cash before the supplier exits."
    )
    acquisition_discount: Lever(0, 0.9, pct=True) = Field(
        0.0, description="Least discount quoted to win a rival's customer (its going price if that is lower)."
    )
    gift_cost_ratio: Lever(0, 2) = Field(
        0.35,
        description="Cost of one unit of added service value (value_trade) at full support capability; "
        "divided by the support capability, so an eroded supplier cannot give cheap gifts.",
    )
    explain_rate: Lever(0, 1) = Field(
        0.3, description="How fast holding and explaining moves the buyer's value perception to the actual value."
    )

    @field_validator("cut_order")
    @classmethod
    def _unique(cls, order: list[str] | None) -> list[str] | None:
        if order is not None and len(set(order)) != len(order):
            raise ValueError("each capability may appear once")
        return order

    @field_validator("strategy")
    @classmethod
    def _strategy(cls, name: str) -> str:
        from .strategies import SUPPLIER_STRATEGIES

        return _registered(name, SUPPLIER_STRATEGIES, "supplier strategy")

    @model_validator(mode="after")
    def _weights(self) -> SupplierGroup:
        if sum(self.cut_weights.as_list()) <= 0:
            raise ValueError("cut_weights: at least one weight must be positive")
        return self


class ProcurementSettings(Strict):
    """How the customer's procurement forms its discount demand; a style fills the blanks."""

    style: str = Field(
        "value_based", description="Procurement style preset (cost_down, value_based, partnership, opportunist)."
    )
    savings_target: Lever(0, 0.9, pct=True, allow=(None,)) = Field(
        None, description="Discount off list demanded regardless of value (cost-down target)."
    )
    value_pressure: Lever(0, 5, allow=(None,)) = Field(
        None, description="Weight of the perceived value shortfall against the surplus target."
    )
    budget_pressure: Lever(0, 5, allow=(None,)) = Field(
        None, description="Weight of the customer's own market shortfall (1 - G)."
    )
    financials_pressure: Lever(0, 20, allow=(None,)) = Field(
        None, description="Weight of the supplier's margin above the norm ('I've seen your financials')."
    )
    parity_pressure: Lever(0, 5, allow=(None,)) = Field(
        None, description="Weight of the gap to the best discount peers are known to get."
    )
    surplus_target: Lever(-1, 5, allow=(None,)) = Field(
        None, description="Surplus per unit (value minus price) the customer expects to keep."
    )
    max_discount: Lever(0, 0.9, pct=True, allow=(None,)) = Field(None, description="Cap on any demand.")
    margin_norm: Lever(-0.5, 0.9, pct=True, allow=(None,)) = Field(
        None, description="Supplier operating margin procurement considers normal."
    )
    value_visibility: Lever(0, 1, allow=(None,)) = Field(
        None, description="Share of the delivered value procurement perceives (1: all of it)."
    )

    @field_validator("style")
    @classmethod
    def _style(cls, name: str) -> str:
        from .strategies import PROCUREMENT_STYLES

        return _registered(name, PROCUREMENT_STYLES, "procurement style")

    def resolved(self) -> ProcurementSettings:
        """A copy with every blank field filled from the style's preset."""
        from .strategies import PROCUREMENT_STYLES

        preset = PROCUREMENT_STYLES[self.style].defaults
        values = {k: (v if v is not None else preset[k]) for k, v in self.model_dump().items() if k != "style"}
        return ProcurementSettings(style=self.style, **values)


class CustomerGroup(Strict):
    """Customers that share a segment: size, what they value, how they buy."""

    name: str = Field("customers", description="Group (segment) name.")
    count: Int = Field(100, ge=0, le=10_000_000, description="Number of customers in the group.")
    annual_revenue: Number(1e-6, 1e15) = Field(
        1_000_000.0,
        description="Annual spend of one customer with its supplier at list price, in the scenario currency.",
    )
    size_spread: Number(0, 3) = Field(0.3, description="Log-normal spread of customer size around annual_revenue.")
    value_weights: ValueWeights = Field(
        default_factory=ValueWeights, description="Value per unit from each capability at baseline."
    )
    engagement: Lever(0, 1, allow=(None,)) = Field(
        None,
        description="Engagement the customer offers at full trust (access, information, feedback); blank: the procurement style's.",
    )
    elasticity: Lever(0, 0.99) = Field(
        0.3, description="Elasticity of the customer's own market success to delivered value (below 1)."
    )
    market_lag: Number(1, 100) = Field(4.0, description="Periods for market success to follow delivered value.")
    perception_lag: Number(1, 100) = Field(
        4.0, description="Periods for procurement's perceived value to catch up with the delivered value."
    )
    trust_lag: Number(1, 100) = Field(8.0, description="Periods for trust to be rebuilt when the exchange is fair.")
    trust_loss_lag: Number(1, 100) = Field(
        2.0, description="Periods for trust to be lost when the exchange is unfair (trust is lost faster than won)."
    )
    engagement_lag: Number(1, 100) = Field(4.0, description="Periods for engagement to follow trust.")
    expectation_lag: Number(1, 1000) = Field(
        12.0, description="Periods for the value the buyer expects to drift toward the value it receives."
    )
    trust_tolerance: Number(0.01, 1) = Field(
        0.2, description="Distance outside the fair band at which trust reaches zero."
    )
    cocreation_gain: Lever(0, 5) = Field(
        1.0, description="Extra innovation and support value per unit of engagement above the reference."
    )
    cocreation_lag: Number(1, 100) = Field(8.0, description="Periods for co-created value to build up or erode.")
    switching_cost: Lever(0, 5) = Field(
        0.5, description="One-off cost of switching supplier, per unit of one period's volume."
    )
    choice_temperature: Lever(0.001, 1) = Field(
        0.1, description="Spread of supplier choice (logit temperature, per unit value per contract)."
    )
    development_budget: Number(0, 10) = Field(
        0.5, description="Customer's development budget per period as a share of its spend with the supplier."
    )
    redesign_share: Number(0, 1) = Field(
        0.30, description="Share of the development budget a forced redesign consumes."
    )
    redesign_periods: Int = Field(6, ge=1, le=1000, description="Periods over which a redesign is paid.")
    procurement: ProcurementSettings = Field(default_factory=ProcurementSettings)


class Account(Strict):
    """One named account of your company (the first supplier): it replaces a random customer of its segment."""

    name: str = Field(description="Account name, unique (shown in reports; used by --grant NAME=5%).")
    segment: str = Field(description="Customer group (segment) the account belongs to.")
    annual_revenue: Number(1e-6, 1e15) = Field(description="Annual spend with you at list price.")
    current_discount: Number(0, 0.9, pct=True) = Field(0.0, description="Discount off list it gets today.")
    months_to_renewal: Number(0, 1200) = Field(0.0, description="Months until its contract next renews.")
    peers: list[str] = Field(default_factory=list, description="Named accounts it compares prices with.")
    origin: str | None = Field(None, exclude=True, description="File and row the account was read from.")

    @field_validator("name", "segment")
    @classmethod
    def _text(cls, value: str) -> str:
        from .accounts import check_name

        return check_name(value)


class Intervention(Strict):
    """A discount you grant an account or a whole segment at its next renewal on or after a period."""

    grant: Number(0, 0.9, pct=True) = Field(description="Discount level granted (off list).")
    to: str = Field(description="Name of a named account or of a customer group (segment).")
    from_period: Int | str = Field(
        0, description="First period the grant may take effect (a number, or years such as 2y)."
    )


class Scenario(Strict):
    """A fully resolved scenario: what ``procsim run`` simulates."""

    name: str = Field("scenario", description="Scenario name (defaults to the file name).")
    description: str = Field("", description="One line shown by `procsim list`.")
    seed: Int = Field(1, ge=0, le=2**32 - 1, description="Seed of the model's random number generator.")
    periods: Int = Field(40, ge=1, le=10_000, description="Horizon in periods.")
    periods_per_year: Int = Field(4, ge=1, le=365, description="Periods in a year (4: quarters).")
    currency: str = Field("EUR", description="Currency of all money figures.")
    outlook_periods: Int = Field(
        200,
        ge=0,
        le=2000,
        description="After the horizon, continue (without series) until the run settles or this many periods; 0: no outlook.",
    )
    market: MarketSettings = Field(default_factory=MarketSettings)
    suppliers: list[SupplierGroup] = Field(default_factory=lambda: [SupplierGroup()])
    customers: list[CustomerGroup] = Field(default_factory=lambda: [CustomerGroup()])
    accounts: list[Account] = Field(
        default_factory=list, description="Your named accounts (see accounts_file); the rest of the market is drawn."
    )
    accounts_file: str | None = Field(
        None,
        description="CSV or XLSX of named accounts (`procsim accounts template`), relative to the scenario file; "
        "the resolved scenario lists them under accounts.",
    )
    interventions: list[Intervention] = Field(
        default_factory=list, description="Discounts granted to an account or a segment (`--grant NAME=5%@0`)."
    )
    source: str | None = Field(None, exclude=True, description="File the scenario was read from.")
    overrides: dict[str, Any] = Field(
        default_factory=dict, exclude=True, description="The --set overrides applied on load."
    )

    @model_validator(mode="after")
    def _totals(self) -> Scenario:
        if sum(g.count for g in self.suppliers) < 1:
            raise ValueError("suppliers.count: the market needs at least one supplier")
        if sum(g.count for g in self.customers) < 1:
            raise ValueError("customers.count: the market needs at least one customer")
        if sum(g.count for g in self.customers) > MAX_TOTAL_CUSTOMERS:
            raise ValueError(
                f"customers.count: at most {MAX_TOTAL_CUSTOMERS:,} customers in all groups together, "
                f"got {sum(g.count for g in self.customers):,}"
            )
        if sum(g.count for g in self.suppliers) > MAX_TOTAL_SUPPLIERS:
            raise ValueError(
                f"suppliers.count: at most {MAX_TOTAL_SUPPLIERS:,} suppliers in all groups together, "
                f"got {sum(g.count for g in self.suppliers):,}"
            )
        for kind, groups in (("suppliers", self.suppliers), ("customers", self.customers)):
            names = [g.name for g in groups]
            if len(set(names)) != len(names):
                raise ValueError(f"{kind}.groups: group names must be unique, got {excerpt(names, 120)}")
        return self

    @property
    def n_suppliers(self) -> int:
        return sum(g.count for g in self.suppliers)

    @property
    def n_customers(self) -> int:
        return sum(g.count for g in self.customers)

    def to_yaml_dict(self) -> dict[str, Any]:
        """The resolved scenario as plain data that ``load_scenario`` reads back unchanged."""
        data = self.model_dump(mode="python")
        data["market"]["fair_band"] = list(data["market"]["fair_band"])
        data["suppliers"] = {"groups": data["suppliers"]}
        data["customers"] = {"groups": data["customers"]}
        return data

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_yaml_dict(), sort_keys=False, allow_unicode=True)


def _registered(name: str, registry: Mapping[str, Any], what: str) -> str:
    if name in registry:
        return name
    raise ValueError(
        f"unknown {what} {excerpt(name)}{_suggest(name, registry)}; choose from {', '.join(sorted(registry))}"
    )


def _suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(word)[:100], list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --------------------------------------------------------------------------- loading

GROUPED = ("suppliers", "customers")
GROUP_MODELS: dict[str, type[Strict]] = {"suppliers": SupplierGroup, "customers": CustomerGroup}


def scenario_search_path() -> list[Path]:
    """Folders searched for a scenario given by name, in order."""
    extra = [Path(p) for p in os.environ.get("PROCSIM_SCENARIOS", "").split(os.pathsep) if p]
    return [*extra, Path.cwd() / "scenarios", REPO_SCENARIOS]


def _known_names() -> list[str]:
    return sorted({p.stem for d in scenario_search_path() if d.is_dir() for p in d.glob("*.yaml")})


def _not_found(text: str, source: str | None = None, field: str | None = None) -> InputError:
    known = _known_names()
    return InputError(
        f"no scenario file or bundled scenario named {excerpt(text)}{_suggest(Path(text).stem, known)}"
        + (f"; bundled: {', '.join(known)}" if known else ""),
        source=source if source is not None else text,
        field=field,
    )


def find_scenario(name_or_path: str | os.PathLike[str]) -> Path:
    """Resolve a scenario name (``baseline``) or a path given on the command line to an existing file.

    A path is taken as written (relative to the current folder); a name is looked up in
    PROCSIM_SCENARIOS, ./scenarios and the bundled scenarios, in that order.
    """
    text = str(name_or_path)
    candidates = [Path(text)]
    suffix = "" if text.endswith((".yaml", ".yml")) else ".yaml"
    candidates += [d / f"{text}{suffix}" for d in scenario_search_path()]
    for path in candidates:
        if path.is_file():
            return path.resolve()
    raise _not_found(text)


def allowed_roots(*files: Path) -> list[Path]:
    """Folders a file may refer into (``extends:``, ``base:``): the folders of ``files`` and their
    subfolders, PROCSIM_SCENARIOS, ./scenarios and the bundled scenarios."""
    return list(dict.fromkeys(Path(os.path.realpath(p)) for p in [*(f.parent for f in files), *scenario_search_path()]))


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def resolve_reference(text: str, naming: Path, roots: Sequence[Path], *, field: str) -> Path:
    """The scenario file that ``naming`` refers to in ``field`` (``extends:`` or a sweep's ``base:``).

    A relative path is relative to ``naming``'s folder (never the current folder, so the
    result does not depend on where procsim runs); a bare name is looked up beside
    ``naming`` and then as a bundled name. A target outside ``roots`` is refused without
    being opened, and its content never appears in a message.
    """
    source = str(_display_path(naming))
    if not text.strip():
        raise InputError("names no scenario", source=source, field=field)
    ref = Path(text)
    folders = [naming.parent, *scenario_search_path()]
    if ref.is_absolute():
        candidates = [ref]
    elif len(ref.parts) > 1:
        candidates = [naming.parent / ref]
    else:
        suffix = "" if text.endswith((".yaml", ".yml")) else ".yaml"
        candidates = [d / f"{text}{suffix}" for d in folders]
    for candidate in candidates:
        real = Path(os.path.realpath(candidate))
        if not _inside(real, roots):
            raise InputError(
                f"{excerpt(text)} is outside the folders a scenario may refer to (this file's folder and its "
                "subfolders, ./scenarios, the bundled scenarios and PROCSIM_SCENARIOS); copy it into one of them",
                source=source,
                field=field,
            )
        if real.is_file():
            return real
    raise _not_found(text, source, field)


def list_scenarios() -> list[tuple[str, str, Path]]:
    """Scenarios found by name as (name, one-line description, path), sorted by name.

    A file that cannot be read is listed with the reason instead of its description, and
    the listing goes on.
    """
    seen: dict[str, tuple[str, str, Path]] = {}
    for folder in scenario_search_path():
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            if path.stem in seen:
                continue
            try:
                raw = _read_yaml(path)
                text = raw.get("description", "")
                desc = text.strip().splitlines()[0] if isinstance(text, str) and text.strip() else ""
                desc = clean(desc, 120)
            except InputError as exc:
                desc = f"(invalid: {clean(exc.message, 160)})"
            seen[path.stem] = (path.stem, desc, path)
    return sorted(seen.values())


def _read_yaml(path: Path) -> dict[str, Any]:
    return load_mapping(path, what="scenario", minimal=MINIMAL_SCENARIO, source=str(_display_path(path)))


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict) and key != "groups":
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _load_raw(path: Path, chain: tuple[Path, ...] = (), roots: Sequence[Path] | None = None) -> dict[str, Any]:
    """Read a file and everything it extends, merged (child wins).

    ``roots`` are the folders ``extends:`` may point into (default: see :func:`allowed_roots`
    for this file); every file in the chain may also refer into its own folder.
    """
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise InputError(f"extends forms a cycle: {cycle}", source=str(_display_path(chain[0])), field="extends")
    if len(chain) >= MAX_EXTENDS:
        raise InputError(
            f"extends goes more than {MAX_EXTENDS} files deep", source=str(_display_path(chain[0])), field="extends"
        )
    roots = list(roots) if roots is not None else allowed_roots(path)
    raw = _read_yaml(path)
    parent = raw.pop("extends", None)
    raw.setdefault("name", path.stem)
    if isinstance(raw.get("accounts_file"), str) and raw["accounts_file"].strip():
        raw["accounts_file"] = str(_accounts_path(raw["accounts_file"], path, roots))
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise InputError(
            f"extends names one scenario (a name or a path), got {excerpt(parent)}",
            source=str(_display_path(path)),
            field="extends",
        )
    parent_path = resolve_reference(parent, path, [*roots, Path(os.path.realpath(path.parent))], field="extends")
    base = _load_raw(parent_path, (*chain, path), roots)
    base.pop("name", None)
    base.pop("description", None)
    return _deep_merge(base, raw)


def _accounts_path(text: str, naming: Path, roots: Sequence[Path]) -> Path:
    """An ``accounts_file:`` named in a scenario file: relative to that file, inside the allowed folders.

    Account names end up in reports, so a shared scenario must not be able to pull in a
    spreadsheet from elsewhere on the reader's disk; ``--accounts FILE`` on the command
    line may name any file.
    """
    path = naming.parent / Path(text).expanduser()
    if not _inside(Path(os.path.realpath(path)), [*roots, Path(os.path.realpath(naming.parent))]):
        raise InputError(
            f"{excerpt(text)} is outside the folders a scenario may refer to (this file's folder and its "
            "subfolders, ./scenarios, the bundled scenarios and PROCSIM_SCENARIOS); copy it beside the "
            "scenario or give it with --accounts",
            source=str(_display_path(naming)),
            field="accounts_file",
        )
    return path


def parse_override(text: str) -> tuple[str, Any]:
    """Split a ``path=value`` override; the value is read as YAML (numbers, 8%, {0: 0.1, 12: 0})."""
    if "=" not in text:
        raise InputError(f"expected path=value, got {excerpt(text)}", source="--set")
    path, _, value = text.partition("=")
    path = path.strip()
    if not path or any(not part for part in path.split(".")):
        raise InputError(f"expected a dotted path such as customers.count, got {excerpt(path)}", source="--set")
    if len(path) > 200 or len(path.split(".")) > 8:
        raise InputError(f"expected a dotted path such as customers.count, got {excerpt(path)}", source="--set")
    parsed = parse_value(value, source="--set", field=path) if value.strip() else None
    return path, parsed


def _segment_path(raw: dict[str, Any], path: str) -> str:
    """``segments.NAME.rest`` is ``customers.groups.NAME.rest`` (or ``customers.rest`` for a single group)."""
    parts = path.split(".")
    if len(parts) < 3:
        raise InputError("expected segments.NAME.field, e.g. segments.automotive.count", source="--set", field=path)
    section = raw.get("customers")
    groups = section.get("groups") if isinstance(section, dict) else None
    if groups is None:
        single = section.get("name", "customers") if isinstance(section, dict) else "customers"
        if parts[1] == single:
            return ".".join(["customers", *parts[2:]])
        raise InputError(
            f"no segment named {parts[1]!r}{_suggest(parts[1], [single])}; the scenario's one segment is {single!r}",
            source="--set",
            field=path,
        )
    return ".".join(["customers", "groups", *parts[1:]])


def _apply_override(raw: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path; on ``suppliers``/``customers`` it applies to every group."""
    if path.split(".", maxsplit=1)[0] == "segments":
        path = _segment_path(raw, path)
    parts = path.split(".")
    head = parts[0]
    if head in GROUPED and len(parts) >= 3 and parts[1] == "groups":
        section = raw.setdefault(head, {})
        groups = section.get("groups") if isinstance(section, dict) else None
        groups = groups if isinstance(groups, list) else []
        match = [g for g in groups if isinstance(g, dict) and g.get("name") == parts[2]]
        if not match:
            names = [str(g.get("name")) for g in groups if isinstance(g, dict)]
            raise InputError(
                f"no group named {excerpt(parts[2])} in {head}{_suggest(parts[2], names)}", source="--set", field=path
            )
        _set_path(match[0], parts[3:], value, path)
        return
    _set_path(raw, parts, value, path)
    if head in GROUPED and len(parts) >= 2 and isinstance(raw.get(head), dict):
        groups = raw[head].get("groups")
        for group in groups if isinstance(groups, list) else []:
            if isinstance(group, dict):
                _delete_path(group, parts[1:])


def _set_path(node: dict[str, Any], parts: list[str], value: Any, full: str) -> None:
    if not parts:
        raise InputError("the path names a group, not a field", source="--set", field=full)
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise InputError(f"{excerpt(part)} is a value, not a section", source="--set", field=full)
        node = child
    node[parts[-1]] = value


def _delete_path(node: dict[str, Any], parts: list[str]) -> None:
    for part in parts[:-1]:
        node = node.get(part)
        if not isinstance(node, dict):
            return
    node.pop(parts[-1], None)


def _field_names(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _model_at(loc: list[str], root: type[BaseModel]) -> type[BaseModel] | None:
    """The pydantic model a location points into (for 'did you mean' suggestions)."""
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None:
            return None
        field = model.model_fields.get(part)
        if field is None:
            return None
        ann = field.annotation
        nested = [a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)]
        model = nested[0] if nested else (ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None)
    return model


def _translate(exc: ValidationError, model: type[BaseModel], prefix: str) -> list[tuple[str, str]]:
    """Pydantic errors as (field path, plain message) pairs, with suggestions for typos."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
        loc = [
            p
            for p in loc
            if not (
                p.startswith(("function-", "literal[", "tuple[", "list[", "dict["))
                or p in {"float", "int", "str", "bool", "list", "dict"}
                or p in {"constrained-float", "constrained-int", "none"}
                or (p[:1].isupper() and p.isidentifier())  # a model's name inside a union (Range, ...)
            )
        ]
        path = ".".join([prefix, *loc]) if prefix else ".".join(loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            parent = _model_at(loc[:-1], model)
            known = _field_names(parent) if parent else []
            hint = _suggest(loc[-1], known)
            msg = (
                f"unknown field{hint}"
                if hint
                else "unknown field" + (f"; known fields: {', '.join(known)}" if known else "")
            )
        elif kind == "value_error":
            msg = str(err["ctx"]["error"]) if "ctx" in err else err["msg"]
        elif kind == "missing" and err["loc"] and isinstance(err["loc"][-1], int):
            msg = "too few values in the list"
        elif kind == "missing":
            msg = "required field is missing"
        elif kind == "literal_error":
            msg = f"{err['msg'].replace('Input should be', 'must be')}, got {excerpt(err['input'])}"
        else:
            msg = re.sub(r" or instance of \w+", "", err["msg"].replace("Input should be", "must be"))
            if "input" in err and not isinstance(err["input"], dict | list):
                msg += f", got {excerpt(err['input'])}"
        out.append((path, msg))
    # In a union (a list or a range) every branch reports; the type mismatch of the branch
    # the value did not mean is noise next to what is wrong inside the branch it did mean.
    specific = [p for p in out if not p[1].startswith("must be a valid")]
    return specific + [p for p in out if p not in specific] if specific else out


def _validate_section(model: type[Strict], data: Any, source: str, prefix: str) -> Strict:
    if not isinstance(data, dict):
        raise InputError("expected a mapping of fields", source=source, field=prefix)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = _translate(exc, model, prefix)
        field, msg = problems[0]
        more = (
            f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''}: "
            + "; ".join(f"{f}: {m}" for f, m in problems[1:4])
            + ")"
            if len(problems) > 1
            else ""
        )
        raise InputError(msg + more, source=source, field=field) from None


def _resolve_groups(kind: str, section: Any, source: str) -> list[Strict]:
    """Expand a ``suppliers:``/``customers:`` section into validated groups."""
    model = GROUP_MODELS[kind]
    if section is None:
        section = {}
    if not isinstance(section, dict):
        raise InputError("expected a mapping of fields (optionally with groups:)", source=source, field=kind)
    common = {k: v for k, v in section.items() if k != "groups"}
    groups = section.get("groups")
    _validate_section(model, common, source, kind)  # report shared fields once, at their own path
    if groups is None:
        common.setdefault("name", kind)
        group_data = [common]
        paths = [kind]
    else:
        if not isinstance(groups, list) or not groups:
            raise InputError("groups must be a non-empty list of group mappings", source=source, field=f"{kind}.groups")
        group_data, paths = [], []
        for i, group in enumerate(groups):
            if not isinstance(group, dict):
                raise InputError("each group must be a mapping of fields", source=source, field=f"{kind}.groups[{i}]")
            merged = _deep_merge(common, group)
            merged.setdefault("name", f"{kind}_{i + 1}" if len(groups) > 1 else kind)
            group_data.append(merged)
            paths.append(f"{kind}.groups.{merged['name']}")
    out = []
    for data, path in zip(group_data, paths, strict=True):
        group = _validate_section(model, data, source, path)
        if isinstance(group, CustomerGroup):
            group.procurement = group.procurement.resolved()
            if group.engagement is None:
                from .strategies import PROCUREMENT_STYLES

                group.engagement = PROCUREMENT_STYLES[group.procurement.style].engagement
        out.append(group)
    return out


def build_scenario(raw: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate merged raw data into a resolved :class:`Scenario`."""
    raw = copy.deepcopy(raw)
    if "extends" in raw:
        raise InputError("extends is only allowed in files", source=source, field="extends")
    top = {k: v for k, v in raw.items() if k not in GROUPED}
    for key in top:
        if key not in Scenario.model_fields or key in ("source", "overrides"):
            known = list(
                dict.fromkeys([k for k in Scenario.model_fields if k not in ("source", "overrides")] + list(GROUPED))
            )
            hint = _suggest(key, known)
            raise InputError(
                "unknown field" + (hint or f"; known fields: {', '.join(known)}"), source=source, field=key
            )
    groups = {kind: _resolve_groups(kind, raw.get(kind), source) for kind in GROUPED}
    from . import accounts as accounts_module
    from . import interventions as interventions_module

    named = accounts_module.parse_accounts(top.pop("accounts", None), source)
    accounts_file = top.pop("accounts_file", None)
    if accounts_file is not None:
        if not isinstance(accounts_file, str) or not accounts_file.strip():
            raise InputError("expected the path of a .csv or .xlsx file", source=source, field="accounts_file")
        named += accounts_module.read_accounts(accounts_file)
    plans = top.pop("interventions", None) or []
    if not isinstance(plans, list):
        raise InputError(
            "expected a list of interventions (grant, to, from_period)", source=source, field="interventions"
        )
    for i, plan in enumerate(plans):
        _validate_section(Intervention, plan, source, f"interventions[{i}]")
    try:
        scenario = Scenario.model_validate({**top, **{k: [g.model_dump() for g in v] for k, v in groups.items()}})
    except ValidationError as exc:
        field, msg = _translate(exc, Scenario, "")[0]
        if msg.startswith(("suppliers.count:", "customers.count:", "suppliers.groups:", "customers.groups:")):
            field, _, msg = msg.partition(": ")
        raise InputError(msg, source=source, field=field) from None
    scenario.source = source
    if named:
        accounts_module._unique(named, source)
        scenario.accounts = named
        accounts_module.resolve(scenario)
    if plans:
        scenario.interventions = [Intervention.model_validate(p) for p in plans]
        interventions_module.resolve(scenario)
    return scenario


def load_scenario(
    path_or_name: str | os.PathLike[str],
    overrides: Mapping[str, Any] | None = None,
    interventions: Sequence[Mapping[str, Any]] = (),
) -> Scenario:
    """Read, merge, override and validate a scenario.

    ``overrides`` maps dotted paths to values, e.g. ``{"customers.count": 2000}``; a value on
    ``suppliers.*`` or ``customers.*`` applies to every group, ``segments.NAME.*`` to one
    customer group. ``interventions`` are added to the file's (``--grant``). Raises
    :class:`InputError` naming the file and the field on any invalid input.
    """
    path = find_scenario(path_or_name)
    raw = _load_raw(path)
    for key, value in (overrides or {}).items():
        _apply_override(raw, key, value)
    if interventions:
        if not isinstance(raw.get("interventions") or [], list):
            raise InputError("expected a list of interventions", source=str(path), field="interventions")
        raw["interventions"] = [*(raw.get("interventions") or []), *map(dict, interventions)]
    source = str(_display_path(path))
    try:
        scenario = build_scenario(raw, source)
        scenario.overrides = json.loads(json.dumps(dict(overrides or {}), default=str))  # as recorded in JSON
        return scenario
    except InputError as exc:
        listed = raw.get("interventions")
        first = (len(listed) if isinstance(listed, list) else 0) - len(interventions)
        index = (
            exc.field[len("interventions[") :].split("]")[0]
            if exc.field and exc.field.startswith("interventions[")
            else ""
        )
        if index.isdigit() and int(index) >= first:
            exc.source, exc.field = "--grant", _grant_text(interventions[int(index) - first])
            raise
        if (
            overrides
            and exc.field
            and any(exc.field == k or exc.field.endswith("." + k.split(".", 1)[-1]) for k in overrides)
        ):
            exc.source = f"{source} (with --set)"
        raise


def _grant_text(item: Mapping[str, Any]) -> str:
    return f"{item.get('to')}={item.get('grant')}@{item.get('from_period', 0)}"


def _display_path(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
