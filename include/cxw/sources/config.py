"""Parameters of the simulated world: the population model and the messiness of real data.

Everything here is plain data (no environment reads): `generate()` receives these objects and
records them in `$CXW_HOME/sources/state.json`, so `advance()` continues with the same values.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from cxw.errors import ConfigError

# The world starts PRE_DAYS before `start_date`: customers acquired then have a purchase and CRM
# history (visible in the shop DB and the CRM), while the daily contact-center and survey drops
# begin at `start_date`.
PRE_DAYS = 365
# New people are acquired during ACQUISITION_DAYS from `start_date` (PRE_SHARE of them before it).
# Fixed, not tied to --days, so that `generate D` + `advance K` equals `generate D+K`.
ACQUISITION_DAYS = 365
PRE_SHARE = 0.30
DEFAULT_START = "2025-11-01"
MAX_CUSTOMERS = 10_000_000
MAX_DAYS = 3650
MAX_DEFECT_RATE = 0.5

SEGMENTS = ("consumer", "small_business", "enterprise")
SEGMENT_WEIGHTS = (0.78, 0.16, 0.06)
CHANNELS = (
    "organic_search",
    "paid_search",
    "paid_social",
    "email",
    "referral",
    "direct",
    "affiliate",
)
CHANNEL_WEIGHTS = (0.26, 0.20, 0.14, 0.08, 0.10, 0.15, 0.07)
# Probability that an acquired lead ever buys, by channel (referral converts best).
CHANNEL_BUY_PROB = (0.62, 0.58, 0.50, 0.66, 0.75, 0.70, 0.52)
TOPICS = (
    "delivery",
    "price_billing",
    "product_quality",
    "support_agent",
    "wait_time",
    "website_app",
    "returns_refunds",
    "packaging",
    "stock_availability",
    "communication",
)
TOPIC_NAMES = {
    "delivery": "delivery",
    "price_billing": "price and billing",
    "product_quality": "product quality",
    "support_agent": "support agent",
    "wait_time": "wait time",
    "website_app": "website and app",
    "returns_refunds": "returns and refunds",
    "packaging": "packaging",
    "stock_availability": "stock availability",
    "communication": "communication",
}


@dataclass(frozen=True)
class ClvParams:
    """BG/NBD (time unit: weeks) and Gamma-Gamma parameters purchases are drawn from."""

    r: float = 0.25  # transaction-rate heterogeneity: lambda ~ Gamma(shape r, rate alpha)
    alpha: float = 4.0  # weeks
    a: float = 0.8  # dropout probability p ~ Beta(a, b)
    b: float = 2.5
    p: float = 6.0  # spend per transaction z ~ Gamma(shape p, rate nu)
    q: float = 4.0  # nu ~ Gamma(shape q, rate gamma)
    gamma: float = 60.0  # dollars: mean spend = p * gamma / (q - 1) = 120

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class CxParams:
    """How experience drives contacts, scores and churn (the causal link CX -> churn)."""

    support_rate_customer: float = 1.6  # base contacts per year for a customer (disposition 0)
    support_rate_lead: float = 0.4  # pre-sales contacts per year for a lead
    disposition_contact_slope: float = -0.5  # log-rate change per unit of disposition
    churn_after_bad_support: float = 0.25  # P(drop out) after a bad support experience
    churn_after_abandoned_call: float = 0.08
    churn_after_detractor: float = 0.15  # P(drop out) after an NPS 0-6 or CSAT 1-2 answer
    survey_response_rate: float = 0.22
    survey_partial_share: float = 0.12
    comment_share: float = 0.6  # completed responses with a free-text comment

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class MessConfig:
    """Rates of the mess of real data, each the probability per record (or per file line).

    Defaults are the levels the pipeline is expected to cope with; set a rate to 0 to turn that
    kind of mess off. None of them changes the world itself (who bought what, when): each is
    drawn from its own random stream.
    """

    email_case: float = 0.10  # email typed in another letter case (Jane.Doe@Gmail.com)
    email_whitespace: float = 0.04  # leading/trailing whitespace around an email
    email_plus: float = 0.05  # plus-addressing variant (jane.doe+shop@gmail.com)
    phone_format: float = 0.60  # phone not in E.164 (+1 (555) 123-4567, 555.123.4567, ...)
    name_typo: float = 0.03  # one-character typo in a first or last name
    crm_duplicate: float = 0.06  # person gets a second CRM contact
    crm_merge: float = 0.60  # share of those duplicate contacts merged later
    shop_duplicate: float = 0.03  # person opens a second shop account (another email)
    shared_email: float = 0.02  # record carries a shared mailbox or placeholder email
    placeholder_phone: float = 0.03  # record carries a placeholder phone (000-000-0000, ...)
    late_arrival: float = 0.03  # drop line or CRM version arrives 1-2 days late
    resend: float = 0.02  # drop line sent again in a later day's drop
    out_of_order: float = 0.05  # drop line moved out of time order within its file
    text_typo: float = 0.15  # free-text comment with typos
    text_pii: float = 0.05  # free-text comment containing an email address or phone number

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
                raise ConfigError(f"MessConfig.{f.name} must be a rate in [0, 1], got {value!r}")

    def as_json(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MessConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: float(v) for k, v in data.items() if k in names})

    @classmethod
    def none(cls) -> MessConfig:
        """No mess at all (clean identifiers, no late or re-sent records)."""
        return cls(**{f.name: 0.0 for f in dataclasses.fields(cls)})


@dataclass(frozen=True)
class WorldParams:
    """Everything that defines one simulated world (kept in state.json)."""

    seed: int
    customers: int
    start_date: str  # YYYY-MM-DD
    defects: float
    mess: MessConfig = field(default_factory=MessConfig)
    clv: ClvParams = field(default_factory=ClvParams)
    cx: CxParams = field(default_factory=CxParams)

    def as_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "customers": self.customers,
            "start_date": self.start_date,
            "defects": self.defects,
            "mess": self.mess.as_json(),
            "clv": self.clv.as_json(),
            "cx": self.cx.as_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorldParams:
        return cls(
            seed=int(data["seed"]),
            customers=int(data["customers"]),
            start_date=str(data["start_date"]),
            defects=float(data["defects"]),
            mess=MessConfig.from_json(data.get("mess", {})),
            clv=ClvParams(**data.get("clv", {})),
            cx=CxParams(**data.get("cx", {})),
        )
