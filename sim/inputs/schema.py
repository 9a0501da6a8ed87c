"""The scenario's sections as pydantic models: every field with its range, default and description."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from sim.engine.capabilities import CAPABILITIES
from sim.engine.strategies import PROCUREMENT_STYLES, SUPPLIER_STRATEGIES
from sim.errors import excerpt
from sim.inputs.values import Int, Lever, Number, _suggest, check_name

# Validation caps on a scenario's size (documented in docs/scenarios.md); what fits on this
# machine is checked separately, from an estimate, before a run starts (sim/runs/resources.py).
MAX_TOTAL_CUSTOMERS = 1_000_000


MAX_TOTAL_SUPPLIERS = 10_000


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
    margin_floor: Lever(-0.5, 0.9, pct=True) = Field(
        0.0,
        description="Lowest operating margin the supplier comes to accept as normal: its margin standard erodes "
        "toward what it achieves, but not below this (nor below its plan).",
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
        description="Give notice to an account that has not paid for its share of the upkeep this many periods "
        "(its price is corrected at that renewal), and drop it at the next if it still does not (null: never).",
    )
    service_response: Lever(0, 1) = Field(
        1.0,
        description="Share of its discretionary service (support, sales time) the supplier withdraws from an account "
        "that pays for none of its upkeep (in proportion for one that pays part of it).",
    )
    firmness: Lever(0, 1) = Field(
        0.5,
        description="Share of the account's upkeep its contribution must still fund at the deepest concession the "
        "supplier agrees to at a renewal (0: down to zero contribution).",
    )
    value_pricing: Lever(0, 1) = Field(
        0.5,
        description="Share of its value advantage over the best rival offer that the supplier asks as a price "
        "premium at a renewal (cheaper or better).",
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

        return _registered(name, PROCUREMENT_STYLES, "procurement style")

    def resolved(self) -> ProcurementSettings:
        """A copy with every blank field filled from the style's preset."""

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
    reciprocity: Lever(0, 2) = Field(
        0.5,
        description="Share of a favour's worth (a discount beyond what procurement asked) the customer returns as "
        "engagement.",
    )
    switching_cost: Lever(0, 5) = Field(
        0.5, description="One-off cost of switching supplier, per unit of one period's volume."
    )
    choice_temperature: Lever(0.001, 1) = Field(
        0.1, description="Spread of supplier choice (logit temperature, per unit value per contract)."
    )
    development_budget: Number(0, 10) = Field(
        1.0, description="Customer's development budget per period as a share of its spend with the supplier."
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
    months_to_renewal: Number(0, 120) = Field(
        0.0, description="Months until its contract next renews (at most 60, or below contract_months)."
    )
    contract_months: Number(1, 120, allow=(None,)) = Field(
        None,
        description="Length of its contracts in months, a whole number of the market's contracts "
        "(24: a two-year contract); blank or null: the market's (market.contract_cycle).",
    )
    peers: list[str] = Field(default_factory=list, description="Named accounts it compares prices with.")
    origin: str | None = Field(None, exclude=True, description="File and row the account was read from.")

    @field_validator("name", "segment")
    @classmethod
    def _text(cls, value: str) -> str:

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
        600,
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
    accounts_sheet: str | None = Field(
        None,
        description="Worksheet of an XLSX accounts_file to read (`--sheet`); default: a visible sheet named "
        "accounts, else the active sheet (hidden and chart sheets are skipped).",
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


GROUPED = ("suppliers", "customers")


def field_at(path: str) -> Any:
    """The pydantic field a dotted scenario path ends at, walking the scenario's sections (and ``groups.NAME`` /
    ``segments.NAME``); None for a path the schema does not have."""
    model: type[BaseModel] = Scenario
    parts = path.split(".")
    info = None
    i = 0
    while i < len(parts):
        part = parts[i]
        if part in ("groups", "segments"):  # groups.NAME / segments.NAME: one group's field
            model = CustomerGroup if part == "segments" else model
            i += 2
            continue
        info = model.model_fields.get(part)
        if info is None:
            return None
        nested = _section(info.annotation)
        if nested is not None and i + 1 < len(parts):
            model = nested
        elif i + 1 < len(parts):
            return None
        i += 1
    return info


def _section(annotation: Any) -> type[BaseModel] | None:
    """The section model of a field (unwrapping lists and optionals), if it is one."""
    args = [annotation]
    if typing.get_origin(annotation) in (list, typing.Union, types.UnionType):
        args = list(typing.get_args(annotation))
    for arg in args:
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None
