"""The population: latent traits per person, their true identity, and messy renderings of it.

Traits are drawn once, vectorised, from streams keyed by (seed, purpose); they never depend on
the number of simulated days. Identifiers (email, phone, name) are stored as small integers and
rendered to text when a record needs them; each rendering may be a messy variant.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cxw.sources.config import (
    ACQUISITION_DAYS,
    CHANNEL_BUY_PROB,
    CHANNEL_WEIGHTS,
    PRE_DAYS,
    PRE_SHARE,
    SEGMENT_WEIGHTS,
    WorldParams,
)
from cxw.sources.util import np_rng

FIRST_NAMES = (  # noqa: SIM905 (a compact word list)
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William "
    "Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa "
    "Daniel Nancy Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly "
    "Andrew Emily Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa "
    "George Deborah Timothy Stephanie Ronald Rebecca Jason Sharon Edward Laura Jeffrey "
    "Cynthia Ryan Amy Jacob Kathleen Gary Angela Nicholas Shirley Eric Brenda Jonathan "
    "Emma Stephen Anna Larry Pamela Justin Nicole Scott Samantha Brandon Katherine "
    "Benjamin Christine Samuel Helen Gregory Debra Alexander Rachel Patrick Carolyn Frank "
    "Janet Raymond Maria Jack Olivia Dennis Heather Jerry Diane Tyler Julie Aaron Joyce "
    "Jose Victoria Adam Ruth Nathan Virginia Henry Lauren Zachary Kelly Douglas Christina "
    "Peter Joan Kyle Evelyn Noah Judith Ethan Andrea Jeremy Hannah Walter Megan Christian "
    "Cheryl Keith Jacqueline Roger Martha Terry Madison Austin Teresa Sean Gloria Gerald "
    "Sara Carl Janice Harold Ann Dylan Kathryn Arthur Abigail Lawrence Sophia Jordan "
    "Frances Jesse Jean Bryan Alice Priya Wei Mohammed Aisha Carlos Lucia Hiroshi Yuki "
    "Ahmed Fatima Diego Sofia Raj Mei Oluwaseun Chiara Mateo Ingrid Kwame Leila Dmitri "
    "Anya Tomasz Zofia Juan Camila"
).split()
LAST_NAMES = (  # noqa: SIM905 (a compact word list)
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright "
    "Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell "
    "Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins "
    "Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper "
    "Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez "
    "Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel "
    "Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman "
    "Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson "
    "Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant "
    "Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens "
    "Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman "
    "Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva "
    "Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd "
    "Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols "
    "Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kowalski Nakamura Okafor Rossi "
    "Novak Haddad Singh Ivanova Larsen OBrien"
).split()
PERSONAL_DOMAINS = (  # noqa: SIM905 (a compact word list)
    "gmail.com yahoo.com outlook.com hotmail.com icloud.com aol.com comcast.net proton.me "
    "att.net msn.com live.com me.com"
).split()
PERSONAL_DOMAIN_WEIGHTS = (0.38, 0.12, 0.08, 0.08, 0.10, 0.04, 0.04, 0.03, 0.03, 0.02, 0.03, 0.05)
# city, state, zip prefix
CITIES = (
    ("New York", "NY", "100"),
    ("Brooklyn", "NY", "112"),
    ("Los Angeles", "CA", "900"),
    ("San Diego", "CA", "921"),
    ("San Francisco", "CA", "941"),
    ("Sacramento", "CA", "958"),
    ("Chicago", "IL", "606"),
    ("Houston", "TX", "770"),
    ("Dallas", "TX", "752"),
    ("Austin", "TX", "787"),
    ("San Antonio", "TX", "782"),
    ("Phoenix", "AZ", "850"),
    ("Tucson", "AZ", "857"),
    ("Philadelphia", "PA", "191"),
    ("Pittsburgh", "PA", "152"),
    ("Jacksonville", "FL", "322"),
    ("Miami", "FL", "331"),
    ("Tampa", "FL", "336"),
    ("Orlando", "FL", "328"),
    ("Columbus", "OH", "432"),
    ("Cleveland", "OH", "441"),
    ("Indianapolis", "IN", "462"),
    ("Charlotte", "NC", "282"),
    ("Raleigh", "NC", "276"),
    ("Seattle", "WA", "981"),
    ("Spokane", "WA", "992"),
    ("Denver", "CO", "802"),
    ("Boston", "MA", "021"),
    ("Nashville", "TN", "372"),
    ("Memphis", "TN", "381"),
    ("Detroit", "MI", "482"),
    ("Portland", "OR", "972"),
    ("Las Vegas", "NV", "891"),
    ("Baltimore", "MD", "212"),
    ("Milwaukee", "WI", "532"),
    ("Minneapolis", "MN", "554"),
    ("Atlanta", "GA", "303"),
    ("Kansas City", "MO", "641"),
    ("St. Louis", "MO", "631"),
    ("Salt Lake City", "UT", "841"),
    ("New Orleans", "LA", "701"),
    ("Omaha", "NE", "681"),
)
AREA_CODES = (
    212,
    646,
    718,
    917,
    213,
    310,
    323,
    415,
    510,
    619,
    650,
    714,
    818,
    916,
    312,
    773,
    847,
    713,
    832,
    214,
    469,
    512,
    210,
    602,
    480,
    520,
    215,
    267,
    412,
    904,
    305,
    786,
    813,
    407,
    614,
    216,
    317,
    704,
    919,
    206,
    425,
    509,
    303,
    720,
    617,
    857,
    615,
    901,
    313,
    503,
    702,
    410,
    414,
    612,
    404,
    678,
    816,
    314,
    801,
    504,
    402,
)
COMPANY_WORDS = (  # noqa: SIM905 (a compact word list)
    "Acme Summit Harbor Pioneer Blue Ridge Cedar Granite Silver Oak Northwind Bright "
    "Evergreen Atlas Keystone Maple Riverbend Sterling Horizon Lakeside Redwood Copper "
    "Meridian Beacon Prairie Falcon Orchard Crescent Ironwood Juniper Bayside Canyon "
    "Frontier Liberty Vertex"
).split()
COMPANY_KINDS = (  # noqa: SIM905 (a compact word list)
    "Logistics|Dental Group|Bakery|Consulting|Outfitters|Design Studio|Realty|Fitness|Cafe|"
    "Law Office|Builders|Veterinary Clinic|Print Shop|Salon|Marketing|Landscaping|Software|"
    "Hotel|Brewing Co|Architects|Pharmacy|Auto Repair|Florist|Academy"
).split("|")
COMPANY_SUFFIXES = ("", " LLC", " Inc.", " Co.", " Group")
INDUSTRIES = (
    "RETAIL",
    "HOSPITALITY",
    "HEALTH_WELLNESS_AND_FITNESS",
    "CONSTRUCTION",
    "MARKETING_AND_ADVERTISING",
    "COMPUTER_SOFTWARE",
    "REAL_ESTATE",
    "FOOD_BEVERAGES",
    "LEGAL_SERVICES",
    "EDUCATION_MANAGEMENT",
)
SHARED_MAILBOXES = ("support", "info", "orders", "accounts", "purchasing", "office")
PLACEHOLDER_EMAILS = (
    "noemail@noemail.com",
    "none@none.com",
    "na@na.com",
    "test@test.com",
    "customer@example.com",
    "no-reply@example.com",
)
PLACEHOLDER_PHONES = ("000-000-0000", "+10000000000", "555-555-5555", "1234567890", "999-999-9999")


@dataclass
class Population:
    """Per-person arrays (index i is person P{i+1:07d}) plus company arrays."""

    # static traits
    acq_t: np.ndarray  # acquisition time (days since origin)
    segment: np.ndarray
    channel: np.ndarray
    disp: np.ndarray  # cx disposition (z-score; negative = harder experiences)
    lam: np.ndarray  # BG/NBD transaction rate per day while alive
    p_drop: np.ndarray  # BG/NBD dropout probability after each repeat purchase
    nu: np.ndarray  # Gamma-Gamma rate of the spend distribution
    has_crm: np.ndarray
    cmp_t: np.ndarray  # comparison-stage time (inf: never)
    fp_t: np.ndarray  # first purchase time (inf: never buys)
    registered: np.ndarray  # shop account (else guest checkouts)
    company: np.ndarray  # company index or -1
    fn: np.ndarray
    ln: np.ndarray
    email_pat: np.ndarray
    email_dom: np.ndarray  # index in PERSONAL_DOMAINS, -1 = company domain
    email_num: np.ndarray  # -1 = no number in the local part
    phone: np.ndarray  # 10-digit NANP number
    city: np.ndarray
    crm_dup: np.ndarray
    shop_dup: np.ndarray
    company_size: np.ndarray  # per company
    company_name: np.ndarray  # per company: (word, kind, suffix, number) packed as int64
    # dynamic state
    next_buy: np.ndarray
    n_orders: np.ndarray
    churn_t: np.ndarray
    next_sup: np.ndarray
    issue_t: np.ndarray
    issue_order: np.ndarray
    issue_topic: np.ndarray
    next_rel: np.ndarray
    next_chk: np.ndarray
    last_bad: np.ndarray
    shop_cust: np.ndarray
    shop_cust2: np.ndarray
    shop_email_kind: np.ndarray  # per person: email variant seed used by the main account
    crm_id: np.ndarray
    company_crm: np.ndarray  # per company: CRM id (0 = not created yet)

    @property
    def n(self) -> int:
        return int(self.acq_t.shape[0])

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)})
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Population:
        with np.load(path) as data:
            return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls)})


def create_population(params: WorldParams) -> Population:
    """Draw the traits of all people (vectorised); deterministic in (seed, customers)."""
    n = params.customers
    clv, cx = params.clv, params.cx
    rng = np_rng(params.seed, "population")
    pre = rng.random(n) < PRE_SHARE
    acq_t = np.where(
        pre, rng.uniform(0, PRE_DAYS, n), PRE_DAYS + rng.uniform(0, ACQUISITION_DAYS, n)
    )
    segment = rng.choice(3, size=n, p=SEGMENT_WEIGHTS).astype(np.int8)
    channel = rng.choice(len(CHANNEL_WEIGHTS), size=n, p=CHANNEL_WEIGHTS).astype(np.int8)
    disp = rng.normal(0.0, 1.0, n)
    lam = rng.gamma(clv.r, 1.0 / clv.alpha, n) / 7.0
    p_drop = rng.beta(clv.a, clv.b, n)
    nu = rng.gamma(clv.q, 1.0 / clv.gamma, n)
    b2b = segment > 0
    has_crm = b2b | (rng.random(n) < 0.85)
    buy_prob = np.asarray(CHANNEL_BUY_PROB)[channel] + np.where(b2b, 0.05, 0.0)
    will_buy = ~has_crm | (rng.random(n) < buy_prob)
    lag = rng.gamma(1.5, 10.0, n) + 0.05
    fp_t = np.where(will_buy, acq_t + np.where(has_crm, lag, 0.0), np.inf)
    cmp_frac = rng.uniform(0.3, 0.9, n)
    cmp_nobuy = acq_t + rng.gamma(1.5, 8.0, n) + 0.05
    reach_nobuy = rng.random(n) < 0.45
    cmp_t = np.where(
        has_crm & will_buy,
        acq_t + lag * cmp_frac,
        np.where(has_crm & reach_nobuy, cmp_nobuy, np.inf),
    )
    registered = rng.random(n) < 0.7
    # identity
    fn = rng.integers(0, len(FIRST_NAMES), n).astype(np.int16)
    ln = rng.integers(0, len(LAST_NAMES), n).astype(np.int16)
    email_pat = rng.integers(0, 5, n).astype(np.int8)
    email_dom = rng.choice(len(PERSONAL_DOMAINS), size=n, p=PERSONAL_DOMAIN_WEIGHTS).astype(
        np.int16
    )
    work = b2b & (rng.random(n) < 0.85)
    email_dom = np.where(work, -1, email_dom).astype(np.int16)
    has_num = rng.random(n) < 0.4
    email_num = np.where(has_num, rng.integers(1, 100, n), -1).astype(np.int32)
    phone = (
        np.asarray(AREA_CODES)[rng.integers(0, len(AREA_CODES), n)].astype(np.int64) * 10_000_000
        + rng.integers(201, 990, n).astype(np.int64) * 10_000
        + rng.integers(0, 10_000, n).astype(np.int64)
    )
    city = rng.integers(0, len(CITIES), n).astype(np.int16)
    company, company_size, company_name = _companies(rng, segment)
    # mess-driven traits come from their own stream: changing a mess rate leaves the world alone
    mrng = np_rng(params.seed, "population-mess")
    crm_dup = has_crm & (mrng.random(n) < params.mess.crm_duplicate)
    shop_dup = mrng.random(n) < params.mess.shop_duplicate
    # initial event clocks
    erng = np_rng(params.seed, "population-clocks")
    start_rate = np.where(has_crm, cx.support_rate_lead, cx.support_rate_customer) / 365.0
    next_sup = acq_t + erng.exponential(1.0, n) / start_rate
    next_rel = fp_t + erng.uniform(30.0, 120.0, n)
    chk = (cmp_t < np.inf) & (erng.random(n) < 0.45)
    next_chk = np.where(chk, cmp_t + erng.uniform(0.0, 0.5, n), np.inf)
    pop = Population(
        acq_t=acq_t,
        segment=segment,
        channel=channel,
        disp=disp,
        lam=lam,
        p_drop=p_drop,
        nu=nu,
        has_crm=has_crm,
        cmp_t=cmp_t,
        fp_t=fp_t,
        registered=registered,
        company=company,
        fn=fn,
        ln=ln,
        email_pat=email_pat,
        email_dom=email_dom,
        email_num=email_num,
        phone=phone,
        city=city,
        crm_dup=crm_dup,
        shop_dup=shop_dup,
        company_size=company_size,
        company_name=company_name,
        next_buy=fp_t.copy(),
        n_orders=np.zeros(n, np.int32),
        churn_t=np.full(n, np.inf),
        next_sup=next_sup,
        issue_t=np.full(n, np.inf),
        issue_order=np.zeros(n, np.int64),
        issue_topic=np.full(n, -1, np.int8),
        next_rel=next_rel,
        next_chk=next_chk,
        last_bad=np.full(n, -np.inf),
        shop_cust=np.zeros(n, np.int64),
        shop_cust2=np.zeros(n, np.int64),
        shop_email_kind=np.zeros(n, np.int8),
        crm_id=np.zeros(n, np.int64),
        company_crm=np.zeros(len(company_size), np.int64),
    )
    _make_unique(pop)
    return pop


def _companies(rng: np.random.Generator, segment: np.ndarray) -> tuple[np.ndarray, ...]:
    """Group business customers into companies (enterprise ~4 people, small business 1-2)."""
    n = segment.shape[0]
    company = np.full(n, -1, np.int32)
    sizes: list[int] = []
    for seg, mean_extra in ((1, 0.3), (2, 3.0)):
        members = np.flatnonzero(segment == seg)
        pos = 0
        while pos < members.size:
            size = 1 + int(rng.poisson(mean_extra))
            company[members[pos : pos + size]] = len(sizes)
            sizes.append(min(size, members.size - pos))
            pos += size
    m = len(sizes)
    names = (
        rng.integers(0, len(COMPANY_WORDS), m).astype(np.int64) * 1_000_000
        + rng.integers(0, len(COMPANY_KINDS), m).astype(np.int64) * 10_000
        + rng.integers(0, len(COMPANY_SUFFIXES), m).astype(np.int64) * 1_000
    )
    return company, np.asarray(sizes, np.int32), names


def _make_unique(pop: Population) -> None:
    """Give every person a distinct canonical email and phone (shared ones are mess, not truth)."""
    seen: set[str] = set()
    for i in range(pop.n):
        email = canonical_email(pop, i)
        orig, k = int(pop.email_num[i]), 1
        while email in seen:
            k += 1
            pop.email_num[i] = k if orig < 0 else orig * 100 + k
            email = canonical_email(pop, i)
        seen.add(email)
    seen.clear()
    phones: set[int] = set()
    for i in range(pop.n):
        ph = int(pop.phone[i])
        while ph in phones:
            ph = ph - ph % 10_000 + (ph % 10_000 + 1) % 10_000
        phones.add(ph)
        pop.phone[i] = ph
    # company names and domains unique too (the number slot disambiguates)
    keys: set[int] = set()
    for c in range(pop.company_name.shape[0]):
        v = int(pop.company_name[c])
        suffix = (v % 10_000) // 1_000 * 1_000
        key = v - suffix
        while key in keys:
            key += 1
        keys.add(key)
        pop.company_name[c] = key + suffix


# ---- canonical identity ---------------------------------------------------------------------
def person_id(i: int) -> str:
    return f"P{i + 1:07d}"


def first_name(pop: Population, i: int) -> str:
    return FIRST_NAMES[pop.fn[i]]


def last_name(pop: Population, i: int) -> str:
    return LAST_NAMES[pop.ln[i]]


def company_name(pop: Population, c: int) -> str:
    v = int(pop.company_name[c])
    word, rest = divmod(v, 1_000_000)
    kind, rest = divmod(rest, 10_000)
    suffix, num = divmod(rest, 1_000)
    extra = f" {num + 1}" if num else ""
    return f"{COMPANY_WORDS[word]} {COMPANY_KINDS[kind]}{extra}{COMPANY_SUFFIXES[suffix]}"


def company_domain(pop: Population, c: int) -> str:
    v = int(pop.company_name[c])
    word, rest = divmod(v, 1_000_000)
    kind, rest = divmod(rest, 10_000)
    num = rest % 1_000
    slug = (COMPANY_WORDS[word] + COMPANY_KINDS[kind].split()[0]).lower()
    return f"{slug}{num + 1 if num else ''}.com"


def canonical_email(pop: Population, i: int) -> str:
    f, last = first_name(pop, i).lower(), last_name(pop, i).lower()
    pat = pop.email_pat[i]
    local = (f"{f}.{last}", f"{f}{last}", f"{f[0]}{last}", f"{f}_{last}", f"{f}{last[0]}")[pat]
    num = int(pop.email_num[i])
    if num >= 0:
        local += str(num)
    dom = int(pop.email_dom[i])
    domain = company_domain(pop, int(pop.company[i])) if dom < 0 else PERSONAL_DOMAINS[dom]
    return f"{local}@{domain}"


def second_email(pop: Population, i: int) -> str:
    """Another address of the same person (a second account, a personal vs work address)."""
    f, last = first_name(pop, i).lower(), last_name(pop, i).lower()
    dom = PERSONAL_DOMAINS[(int(pop.email_dom[i]) + 3) % len(PERSONAL_DOMAINS)]
    return f"{f}.{last[0]}.{i + 1}@{dom}"


def canonical_phone(pop: Population, i: int) -> str:
    """E.164 (+1NPANXXXXXX)."""
    return f"+1{int(pop.phone[i])}"


def city(pop: Population, i: int) -> tuple[str, str, str]:
    name, state, zip3 = CITIES[pop.city[i]]
    return name, state, f"{zip3}{(i * 37) % 100:02d}"


# ---- messy renderings -----------------------------------------------------------------------
def email_variant(rm: random.Random, email: str, rate: dict[str, float], shared: str | None) -> str:
    """The address as typed into one system: case, whitespace, plus-tags, shared or placeholder."""
    if rm.random() < rate["shared_email"]:
        return shared if shared is not None else rm.choice(PLACEHOLDER_EMAILS)
    out = email
    if rm.random() < rate["email_plus"]:
        local, _, domain = out.partition("@")
        out = f"{local}+{rm.choice(('shop', 'orders', 'news', 'promo', 'x1'))}@{domain}"
    if rm.random() < rate["email_case"]:
        local, _, domain = out.partition("@")
        style = rm.randrange(3)
        if style == 0:
            out = out.upper()
        elif style == 1:
            out = ".".join(p.capitalize() for p in local.split(".")) + "@" + domain.capitalize()
        else:
            out = local.capitalize() + "@" + domain
        if out == email:  # a visible change is the definition of this mess
            out = out.upper()
    if rm.random() < rate["email_whitespace"]:
        out = rm.choice((" ", "  ", "\t", "")) + out + rm.choice((" ", "  ", ""))
        if out == out.strip():
            out += " "
    return out


PHONE_FORMATS = ("paren_intl", "dots", "paren", "dashes", "digits", "one_dashes")


def phone_variant(rm: random.Random, digits10: int, rate: dict[str, float]) -> str:
    """The number as one system stores it: E.164, one of several national formats, or a dummy."""
    if rm.random() < rate["placeholder_phone"]:
        return rm.choice(PLACEHOLDER_PHONES)
    s = f"{digits10:010d}"
    a, b, c = s[:3], s[3:6], s[6:]
    if rm.random() >= rate["phone_format"]:
        return f"+1{s}"
    style = rm.choice(PHONE_FORMATS)
    return {
        "paren_intl": f"+1 ({a}) {b}-{c}",
        "dots": f"{a}.{b}.{c}",
        "paren": f"({a}) {b}-{c}",
        "dashes": f"{a}-{b}-{c}",
        "digits": s,
        "one_dashes": f"1-{a}-{b}-{c}",
    }[style]


def name_variant(rm: random.Random, name: str, rate: dict[str, float]) -> str:
    """A name, sometimes with one typo (swap, drop, double or replace one letter)."""
    if rm.random() >= rate["name_typo"] or len(name) < 3:
        return name
    return typo(rm, name)


def typo(rm: random.Random, word: str) -> str:
    """One visible character-level typo inside a word."""
    for _ in range(8):
        k = rm.randrange(1, len(word) - 1) if len(word) > 2 else 0
        kind = rm.randrange(4)
        if kind == 0:
            out = word[:k] + word[k + 1] + word[k] + word[k + 2 :]
        elif kind == 1:
            out = word[:k] + word[k + 1 :]
        elif kind == 2:
            out = word[:k] + word[k] + word[k:]
        else:
            out = word[:k] + rm.choice("aeiounrst") + word[k + 1 :]
        if out != word:
            return out
    return word + word[-1]
