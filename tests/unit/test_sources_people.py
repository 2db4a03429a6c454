"""Population traits and messy identity renderings of the source simulator."""

from __future__ import annotations

import math
import random

import numpy as np
import phonenumbers
import pytest

from cxw.errors import ConfigError
from cxw.sources import people as pp
from cxw.sources.config import MessConfig, WorldParams


def _params(n: int, seed: int = 7, mess: MessConfig | None = None) -> WorldParams:
    return WorldParams(
        seed=seed, customers=n, start_date="2025-11-01", defects=0.0, mess=mess or MessConfig()
    )


@pytest.fixture(scope="module")
def pop() -> pp.Population:
    return pp.create_population(_params(20_000))


def test_population_is_deterministic_in_seed() -> None:
    a = pp.create_population(_params(500, seed=3))
    b = pp.create_population(_params(500, seed=3))
    c = pp.create_population(_params(500, seed=4))
    assert np.array_equal(a.lam, b.lam) and np.array_equal(a.phone, b.phone)
    assert [pp.canonical_email(a, i) for i in range(500)] == [
        pp.canonical_email(b, i) for i in range(500)
    ]
    assert not np.array_equal(a.lam, c.lam)


def test_mess_rates_do_not_change_the_world() -> None:
    a = pp.create_population(_params(800, mess=MessConfig()))
    b = pp.create_population(_params(800, mess=MessConfig.none()))
    for name in ("acq_t", "lam", "p_drop", "nu", "fp_t", "disp", "next_sup"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert b.crm_dup.sum() == 0 and a.crm_dup.sum() > 0


def test_canonical_identifiers_are_unique(pop: pp.Population) -> None:
    emails = [pp.canonical_email(pop, i) for i in range(pop.n)]
    assert len(set(emails)) == pop.n
    assert len(set(pop.phone.tolist())) == pop.n
    seconds = {pp.second_email(pop, i) for i in range(pop.n)}
    assert len(seconds) == pop.n and not seconds & set(emails)
    for i in range(0, pop.n, 997):
        parsed = phonenumbers.parse(pp.canonical_phone(pop, i), None)
        assert phonenumbers.format_number(
            parsed, phonenumbers.PhoneNumberFormat.E164
        ) == pp.canonical_phone(pop, i)


def test_bgnbd_and_gamma_gamma_traits_follow_their_parameters(pop: pp.Population) -> None:
    clv = _params(1).clv
    weekly = pop.lam * 7
    # Gamma(r, rate alpha): mean r/alpha, variance r/alpha^2
    se = math.sqrt(clv.r / clv.alpha**2 / pop.n)
    assert abs(weekly.mean() - clv.r / clv.alpha) < 4 * se
    # Beta(a, b): mean a/(a+b)
    var = clv.a * clv.b / ((clv.a + clv.b) ** 2 * (clv.a + clv.b + 1))
    assert abs(pop.p_drop.mean() - clv.a / (clv.a + clv.b)) < 4 * math.sqrt(var / pop.n)
    # nu ~ Gamma(q, rate gamma): mean q/gamma
    assert abs(pop.nu.mean() - clv.q / clv.gamma) < 4 * math.sqrt(clv.q / clv.gamma**2 / pop.n)


def test_acquisition_windows_and_funnel_order(pop: pp.Population) -> None:
    pre = pop.acq_t < 365
    assert abs(pre.mean() - 0.30) < 0.02
    assert pop.acq_t.min() >= 0 and pop.acq_t.max() < 730
    buys = np.isfinite(pop.fp_t)
    assert 0.55 < buys.mean() < 0.8  # some leads never buy
    assert np.all(pop.fp_t[buys] >= pop.acq_t[buys])
    compared = np.isfinite(pop.cmp_t) & buys
    assert np.all(pop.cmp_t[compared] < pop.fp_t[compared])
    assert np.all(pop.has_crm[pop.segment > 0])


RATES = {
    "email_case": 0.3,
    "email_whitespace": 0.2,
    "email_plus": 0.25,
    "shared_email": 0.1,
    "phone_format": 0.6,
    "placeholder_phone": 0.1,
    "name_typo": 0.2,
}


def _within(observed: int, n: int, p: float) -> bool:
    return abs(observed - n * p) <= 4 * math.sqrt(n * p * (1 - p)) + 1


def test_email_variants_follow_their_rates() -> None:
    rm = random.Random(1)
    n = 5000
    canonical = "jane.doe42@gmail.com"
    out = [pp.email_variant(rm, canonical, RATES, "support@acmelogistics.com") for _ in range(n)]
    shared = sum(e == "support@acmelogistics.com" for e in out)
    own = [e for e in out if e != "support@acmelogistics.com"]
    assert _within(shared, n, RATES["shared_email"])
    assert _within(sum(e != e.strip() for e in own), len(own), RATES["email_whitespace"])
    assert _within(sum(any(c.isupper() for c in e) for e in own), len(own), RATES["email_case"])
    assert _within(sum("+" in e for e in own), len(own), RATES["email_plus"])
    # every own variant normalises back to the canonical address
    for e in own:
        local, _, domain = e.strip().lower().partition("@")
        assert f"{local.split('+')[0]}@{domain}" == canonical


def test_phone_variants_parse_to_the_same_number() -> None:
    rm = random.Random(2)
    n = 3000
    out = [pp.phone_variant(rm, 4155550123, RATES) for _ in range(n)]
    placeholders = [p for p in out if p in pp.PLACEHOLDER_PHONES]
    assert _within(len(placeholders), n, RATES["placeholder_phone"])
    real = [p for p in out if p not in pp.PLACEHOLDER_PHONES]
    assert _within(sum(p != "+14155550123" for p in real), len(real), RATES["phone_format"])
    assert len({p for p in real}) >= 5  # several formats in use
    for p in set(real):
        parsed = phonenumbers.parse(p, "US")
        assert (
            phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            == "+14155550123"
        )


def test_name_typos_are_one_visible_edit() -> None:
    rm = random.Random(3)
    names = [pp.name_variant(rm, "Jennifer", RATES) for _ in range(3000)]
    changed = [x for x in names if x != "Jennifer"]
    assert _within(len(changed), 3000, RATES["name_typo"])
    assert all(abs(len(x) - len("Jennifer")) <= 1 for x in changed)


def test_mess_config_rejects_rates_outside_unit_interval() -> None:
    with pytest.raises(ConfigError):
        MessConfig(email_case=1.5)
    with pytest.raises(ConfigError):
        MessConfig(resend=-0.1)
    assert MessConfig.from_json(MessConfig().as_json()) == MessConfig()
