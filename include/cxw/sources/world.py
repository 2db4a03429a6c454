"""The day-by-day simulation: people act, and each act becomes records in the four systems.

Day d uses random streams keyed by (seed, purpose, d) and the person state left by day d-1,
so simulating days [0, D+K) at once or [0, D) then [D, D+K) gives the same records. Each record
is created with all its future versions (an order's fulfilment, refund, deletion...); the
router decides what is visible now and what waits for a later `advance`.
"""

from __future__ import annotations

import heapq
import json
import math
import random
from datetime import UTC, datetime
from typing import Any

import numpy as np

from cxw.sources import defects as dfx
from cxw.sources import people as pp
from cxw.sources import text as tx
from cxw.sources.catalog import Product
from cxw.sources.config import CHANNELS, PRE_DAYS, TOPICS, WorldParams
from cxw.sources.drops import QUEUES, SURVEY_BY_TOUCHPOINT, Survey
from cxw.sources.output import Router
from cxw.sources.people import Population
from cxw.sources.util import CALL_CENTER_TZ, DAY_MS, Clock, money, py_rng, response_id

INF = float("inf")
HUBSPOT_SOURCE = {
    "organic_search": "ORGANIC_SEARCH",
    "paid_search": "PAID_SEARCH",
    "paid_social": "PAID_SOCIAL",
    "email": "EMAIL_MARKETING",
    "referral": "REFERRALS",
    "direct": "DIRECT_TRAFFIC",
    "affiliate": "OTHER_CAMPAIGNS",
}
UTM = {
    "organic_search": ("google", "organic"),
    "paid_search": ("google", "cpc"),
    "paid_social": ("instagram", "paid_social"),
    "email": ("newsletter", "email"),
    "referral": ("friend", "referral"),
    "direct": (None, None),
    "affiliate": ("partnerize", "affiliate"),
}
TAX = {
    "NY": 8.875,
    "CA": 7.25,
    "IL": 6.25,
    "TX": 6.25,
    "AZ": 5.6,
    "PA": 6.0,
    "FL": 6.0,
    "OH": 5.75,
    "IN": 7.0,
    "NC": 4.75,
    "WA": 6.5,
    "CO": 2.9,
    "MA": 6.25,
    "TN": 7.0,
    "MI": 6.0,
    "OR": 0.0,
    "NV": 6.85,
    "MD": 6.0,
    "WI": 5.0,
    "MN": 6.875,
    "GA": 4.0,
    "MO": 4.225,
    "UT": 4.85,
    "LA": 4.45,
    "NE": 5.5,
}
AGENTS = tuple(
    (f"AG{k:03d}", name)
    for k, name in enumerate(
        (  # noqa: SIM905 (a compact word list)
            "Maria James Aisha Tom Priya Kevin Sofia Daniel Grace Omar Lena Marcus Chloe Victor "
            "Nina Sam Olivia Raj Emma Luis Hannah Ben Zoe Carlos Mia Eli Ruth Ivan Julia Noah"
        ).split(),
        start=1,
    )
)
OWNERS = ("101", "102", "103", "104", "105", "106")
EMAIL_SUBJECTS = (
    "Welcome to Northwind Goods",
    "Your guide to choosing the right gear",
    "Still thinking it over?",
    "Customers like you also bought",
    "A quick question about your needs",
    "Your quote is ready",
    "10% off your first order",
    "Let's find the right fit for your team",
)
ISSUE_TOPIC = {
    "late_delivery": "delivery",
    "damaged": "product_quality",
    "wrong_item": "returns_refunds",
}
DEAL_STAGES = ("qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin", "contractsent")
CUSTOMER_TOPICS = (
    ("delivery", 5),
    ("price_billing", 4),
    ("product_quality", 3),
    ("website_app", 3),
    ("returns_refunds", 4),
    ("packaging", 1),
    ("stock_availability", 2),
    ("communication", 2),
)
LEAD_TOPICS = (
    ("stock_availability", 3),
    ("price_billing", 3),
    ("website_app", 2),
    ("delivery", 2),
    ("communication", 1),
)
QUEUE_OF = {
    "delivery": "orders",
    "packaging": "orders",
    "stock_availability": "sales",
    "price_billing": "billing",
    "returns_refunds": "returns",
    "product_quality": "returns",
    "website_app": "technical",
    "communication": "orders",
    "support_agent": "orders",
    "wait_time": "orders",
}
TOPIC_INDEX = {t: k for k, t in enumerate(TOPICS)}


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _poisson(rng: random.Random, mean: float) -> int:
    k, p, limit = 0, 1.0, math.exp(-mean)
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class World:
    """Runs days of the simulation against a router (stores, pending, drops, truth)."""

    def __init__(
        self,
        params: WorldParams,
        pop: Population,
        catalog: list[Product],
        counters: dict[str, int],
        router: Router,
        clock: Clock,
    ) -> None:
        self.params = params
        self.pop = pop
        self.catalog = catalog
        self.counters = counters
        self.out = router
        self.clock = clock
        self.seed = params.seed
        self.rates = params.mess.as_json()
        self.defect_rate = params.defects
        self.acq_order = np.argsort(pop.acq_t, kind="stable")
        self.acq_sorted = pop.acq_t[self.acq_order]
        self.day = 0
        self.day_start = 0.0

    # ---- helpers ------------------------------------------------------------------------
    def next_id(self, name: str) -> int:
        self.counters[name] += 1
        return self.counters[name]

    def ms(self, t: float) -> int:
        return self.clock.ms(t)

    def vis(self, ms_list: list[int]) -> list[int]:
        """Visible times of versions: a few arrive late (CRM indexing lag), order preserved."""
        out, prev = [], 0
        for ms in ms_list:
            v = ms
            if self.rm.random() < self.rates["late_arrival"]:
                v = ms + int(self.rm.uniform(0.05, 1.2) * DAY_MS)
            prev = max(prev, v)
            out.append(prev)
        return out

    def drop_days(self, ms: int) -> list[int]:
        """Drop days of one line: its own day, maybe late, maybe re-sent later."""
        day = self.out.day_of_ms(ms)
        if self.rm.random() < self.rates["late_arrival"]:
            day += self.rm.randint(1, 2)
        days = [day]
        if self.rm.random() < self.rates["resend"]:
            days.append(day + self.rm.randint(1, 3))
        return days

    def email(self, i: int, canonical: str | None = None) -> str:
        c = int(self.pop.company[i])
        shared = (
            f"{self.rm.choice(pp.SHARED_MAILBOXES)}@{pp.company_domain(self.pop, c)}"
            if c >= 0
            else None
        )
        return pp.email_variant(
            self.rm, canonical or pp.canonical_email(self.pop, i), self.rates, shared
        )

    def phone(self, i: int) -> str:
        return pp.phone_variant(self.rm, int(self.pop.phone[i]), self.rates)

    def names(self, i: int) -> tuple[str, str]:
        return (
            pp.name_variant(self.rm, pp.first_name(self.pop, i), self.rates),
            pp.name_variant(self.rm, pp.last_name(self.pop, i), self.rates),
        )

    def defect_hit(self) -> bool:
        return self.defect_rate > 0 and self.rd.random() < self.defect_rate

    # ---- the day loop -------------------------------------------------------------------
    def run_day(self, day: int) -> None:
        """Simulate one UTC day: every event due before its end, in time order."""
        self.day = day
        self.day_start = float(day)
        end = day + 1.0
        seed = self.seed
        self.rw = py_rng(seed, "world", day)
        self.rm = py_rng(seed, "mess", day)
        self.rt = py_rng(seed, "text", day)
        self.rd = py_rng(seed, "defects", day)
        self.load = self.rw.uniform(0.6, 1.8)  # contact-center load of the day
        self.active = [p for p in self.catalog if p.launch_t < end and p.end_t > end]
        pop = self.pop
        if day == 0:
            self.emit_catalog()
        slots = (pop.next_buy, pop.issue_t, pop.next_sup, pop.next_rel, pop.next_chk)
        heap: list[tuple[float, int, int]] = []
        queued: set[tuple[float, int, int]] = set()
        lo, hi = np.searchsorted(self.acq_sorted, [day, end], side="left")
        for i in self.acq_order[lo:hi]:
            heap.append((float(pop.acq_t[i]), 0, int(i)))
        for kind, arr in enumerate(slots, start=1):
            for i in np.flatnonzero(arr < end):
                heap.append((float(arr[i]), kind, int(i)))
        queued.update(heap)
        heapq.heapify(heap)
        handlers = (
            self.acquire,
            self.purchase,
            self.issue_contact,
            self.base_contact,
            self.relationship_survey,
            self.checkout,
        )
        while heap:
            item = heapq.heappop(heap)
            queued.discard(item)
            t, kind, i = item
            if kind and slots[kind - 1][i] != t:
                continue  # rescheduled since it was queued
            handlers[kind](i, t)
            # a handler may (re)schedule any of this person's clocks within today
            for k, arr in enumerate(slots, start=1):
                v = float(arr[i])
                if v < end:
                    if v < t:
                        v = t
                        arr[i] = t
                    entry = (v, k, i)
                    if entry not in queued:
                        queued.add(entry)
                        heapq.heappush(heap, entry)

    # ---- catalog ------------------------------------------------------------------------
    def emit_catalog(self) -> None:
        self.counters["product"] = max(p.id for p in self.catalog)  # invalid copies get later ids
        for p in self.catalog:
            times = [t for t in p.price_times if t < p.end_t]
            events: list[tuple[float, dict[str, Any]]] = []
            status = "active" if p.launch_t <= p.created_t else "draft"
            for k, t in enumerate(times[1:], start=1):
                events.append((t, {"price": money(p.prices[k] / 100)}))
            if status == "draft":
                events.append((p.launch_t, {"status": "active"}))
            if p.end_t < INF:
                events.append(
                    (p.end_t, {"status": "archived", "deleted_at": self.clock.pg(self.ms(p.end_t))})
                )
            events.sort(key=lambda e: e[0])
            created = self.clock.pg(self.ms(p.created_t))
            row = {
                "id": p.id,
                "title": p.title,
                "product_type": p.product_type,
                "vendor": p.vendor,
                "sku": p.sku,
                "price": money(p.prices[0] / 100),
                "status": status,
                "created_at": created,
                "updated_at": created,
                "deleted_at": None,
            }
            versions = []
            for t, change in events:
                row = {**row, **change, "updated_at": self.clock.pg(self.ms(t))}
                versions.append((self.ms(t), row))
            self.shop_record("products", p.id, versions)

    def shop_record(
        self,
        table: str,
        key: int,
        versions: list[tuple[int, dict[str, Any]]],
        person: int | None = None,
        source: str | None = None,
    ) -> None:
        """Emit a shop row's versions (+ identity link), and an invalid copy at the defect rate."""
        link = (
            (pp.person_id(person), source, str(key))
            if source is not None and person is not None
            else None
        )
        self.out.record("shop", table, key, versions, link=link)
        if self.defect_hit():
            new_id = self.next_id(table_counter(table))
            bad, kind, detail = dfx.shop_row(table, versions[0][1], self.rd, new_id)
            self.out.record(
                "shop",
                table,
                new_id,
                [(versions[0][0], bad)],
                defect=(f"shop.{table}:id={new_id}", f"shop.{table}", kind, detail),
            )

    def crm_record(
        self,
        otype: str,
        key: int,
        versions: list[tuple[int, dict[str, Any]]],
        created_ms: int,
        person: int | None = None,
    ) -> None:
        """Emit a CRM object's versions (payload: object, createdAt ms, updatedAt ms)."""
        vis = self.vis([ms for ms, _ in versions])
        payloads = [(v, (obj, created_ms, ms)) for v, (ms, obj) in zip(vis, versions, strict=True)]
        link = (pp.person_id(person), "crm_contact", str(key)) if person is not None else None
        self.out.record("crm", otype, key, payloads, link=link)
        if self.defect_hit():
            new_id = self.next_id(f"crm_{otype}")
            bad, kind, detail = dfx.crm_object(otype, versions[0][1], self.rd, new_id)
            self.out.record(
                "crm",
                otype,
                new_id,
                [(vis[0], (bad, created_ms, versions[0][0]))],
                defect=(f"crm.{otype}:id={new_id}", f"crm.{otype}", kind, detail),
            )

    # ---- acquisition: the CRM side of a lead --------------------------------------------
    def acquire(self, i: int, t: float) -> float | None:
        pop = self.pop
        if not pop.has_crm[i]:
            return None  # a direct buyer: the first purchase (same time) is the first record
        c = int(pop.company[i])
        if c >= 0 and pop.company_crm[c] == 0:
            self.crm_company(c, t)
        cid = self.next_id("crm_contacts")
        pop.crm_id[i] = cid
        dup_id = self.next_id("crm_contacts") if pop.crm_dup[i] else 0
        t_dup = t + self.rw.expovariate(1 / 40.0) + 0.2
        merge_t = (
            t_dup + self.rw.expovariate(1 / 15.0) + 0.5
            if dup_id and self.rm.random() < self.rates["crm_merge"]
            else INF
        )
        deal_t = INF
        b2b = pop.segment[i] > 0
        cmp_t, fp_t = float(pop.cmp_t[i]), float(pop.fp_t[i])
        if b2b and cmp_t < INF:
            deal_t = cmp_t + ((fp_t - cmp_t) * 0.2 if fp_t < INF else self.rw.uniform(0.01, 0.2))
        self.crm_contact(i, cid, t, cmp_t, fp_t, deal_t, merge_t, dup_id)
        if dup_id:
            self.crm_duplicate(i, dup_id, cid, t_dup, merge_t)
        if deal_t < INF:
            self.crm_deal(i, cid, deal_t, fp_t)
        self.crm_emails(i, cid, t, fp_t)
        return None

    def crm_company(self, c: int, t: float) -> None:
        pop = self.pop
        coid = self.next_id("crm_companies")
        pop.company_crm[c] = coid
        cname = pp.company_name(pop, c)
        members = int(pop.company_size[c])
        city, state, _ = pp.CITIES[self.rw.randrange(len(pp.CITIES))]
        created = self.ms(t)
        iso = self.clock.iso_ms(created)
        props = {
            "hs_object_id": str(coid),
            "name": cname,
            "domain": pp.company_domain(pop, c),
            "industry": self.rw.choice(pp.INDUSTRIES),
            "numberofemployees": str(max(members, 1) * self.rw.choice((3, 8, 15, 40, 120))),
            "city": city,
            "state": state,
            "country": "United States",
            "lifecyclestage": "lead",
            "createdate": iso,
            "hs_lastmodifieddate": iso,
        }
        obj = {
            "id": str(coid),
            "properties": props,
            "createdAt": iso,
            "updatedAt": iso,
            "archived": False,
        }
        versions = [(created, obj)]
        if self.rw.random() < 0.3:
            t2 = t + self.rw.expovariate(1 / 200.0) + 0.1
            ms2 = self.ms(t2)
            iso2 = self.clock.iso_ms(ms2)
            props2 = {
                **props,
                "numberofemployees": str(int(props["numberofemployees"]) + self.rw.randint(1, 30)),
                "hs_lastmodifieddate": iso2,
            }
            versions.append((ms2, {**obj, "properties": props2, "updatedAt": iso2}))
        self.crm_record("companies", coid, versions, created)

    def _versions(
        self,
        oid: int,
        created: int,
        props: dict[str, Any],
        events: list[tuple[float, dict[str, Any]]],
        assoc: dict[str, Any] | None = None,
    ) -> list[tuple[int, dict[str, Any]]]:
        """Versions of a CRM object from its property changes over time."""
        iso = self.clock.iso_ms(created)
        props = {**props, "createdate": iso, "hs_lastmodifieddate": iso}
        base: dict[str, Any] = {
            "id": str(oid),
            "properties": props,
            "createdAt": iso,
            "updatedAt": iso,
            "archived": False,
        }
        if assoc:
            base["associations"] = assoc
        versions = [(created, base)]
        for t, change in sorted(events, key=lambda e: e[0]):
            ms = max(self.ms(t), versions[-1][0] + 1)
            iso2 = self.clock.iso_ms(ms)
            prev = versions[-1][1]
            archived = bool(change.pop("__archived", False))
            new_props = {**prev["properties"], **change, "hs_lastmodifieddate": iso2}
            obj = {**prev, "properties": new_props, "updatedAt": iso2}
            if archived:
                obj["archived"] = True
                obj["archivedAt"] = iso2
            versions.append((ms, obj))
        return versions

    def crm_contact(
        self,
        i: int,
        cid: int,
        t: float,
        cmp_t: float,
        fp_t: float,
        deal_t: float,
        merge_t: float,
        dup_id: int,
    ) -> None:
        pop = self.pop
        b2b = pop.segment[i] > 0
        c = int(pop.company[i])
        first, last = self.names(i)
        city, state, zipc = pp.city(pop, i)
        created = self.ms(t)
        iso = self.clock.iso_ms(created)
        props: dict[str, Any] = {
            "hs_object_id": str(cid),
            "email": self.email(i),
            "firstname": first,
            "lastname": last,
            "phone": self.phone(i) if self.rw.random() < 0.6 else None,
            "company": pp.company_name(pop, c) if c >= 0 else None,
            "city": city,
            "state": state,
            "zip": zipc,
            "country": "United States",
            "lifecyclestage": "lead",
            "hs_lead_status": "NEW",
            "hs_analytics_source": HUBSPOT_SOURCE[CHANNELS[pop.channel[i]]],
            "associatedcompanyid": str(pop.company_crm[c]) if c >= 0 else None,
            "hs_lifecyclestage_lead_date": iso,
            "hs_lifecyclestage_marketingqualifiedlead_date": None,
            "hs_lifecyclestage_salesqualifiedlead_date": None,
            "hs_lifecyclestage_opportunity_date": None,
            "hs_lifecyclestage_customer_date": None,
            "hs_email_optout": "false",
            "hs_merged_object_ids": None,
            "hs_merged_into_object_id": None,
            "hubspot_owner_id": self.rw.choice(OWNERS),
        }
        events: list[tuple[float, dict[str, Any]]] = []
        if cmp_t < INF:
            stage = "salesqualifiedlead" if b2b else "marketingqualifiedlead"
            events.append(
                (
                    cmp_t,
                    {
                        "lifecyclestage": stage,
                        "hs_lead_status": "OPEN",
                        f"hs_lifecyclestage_{stage}_date": self.clock.iso_ms(self.ms(cmp_t)),
                    },
                )
            )
        if deal_t < INF:
            events.append(
                (
                    deal_t + 0.001,
                    {
                        "lifecyclestage": "opportunity",
                        "hs_lead_status": "IN_PROGRESS",
                        "hs_lifecyclestage_opportunity_date": self.clock.iso_ms(
                            self.ms(deal_t + 0.001)
                        ),
                    },
                )
            )
        if fp_t < INF:
            events.append(
                (
                    fp_t + 0.002,
                    {
                        "lifecyclestage": "customer",
                        "hs_lead_status": "CONNECTED",
                        "hs_lifecyclestage_customer_date": self.clock.iso_ms(self.ms(fp_t + 0.002)),
                    },
                )
            )
        if self.rw.random() < 0.3:
            events.append((t + self.rw.expovariate(1 / 90.0) + 0.05, {"phone": self.phone(i)}))
        if self.rw.random() < 0.06:
            events.append((t + self.rw.expovariate(1 / 120.0) + 0.05, {"hs_email_optout": "true"}))
        if merge_t < INF:
            events.append((merge_t, {"hs_merged_object_ids": str(dup_id)}))
        assoc = (
            {
                "companies": {
                    "results": [{"id": str(pop.company_crm[c]), "type": "contact_to_company"}]
                }
            }
            if c >= 0
            else None
        )
        self.crm_record(
            "contacts", cid, self._versions(cid, created, props, events, assoc), created, person=i
        )

    def crm_duplicate(
        self, i: int, dup_id: int, primary: int, t_dup: float, merge_t: float
    ) -> None:
        """A second contact for the same person (another address, a typo), maybe merged later."""
        pop = self.pop
        canonical = (
            pp.second_email(pop, i) if self.rm.random() < 0.5 else pp.canonical_email(pop, i)
        )
        first, last = self.names(i)
        if self.rm.random() < 0.5:
            last = pp.typo(self.rm, last)
        city, state, zipc = pp.city(pop, i)
        created = self.ms(t_dup)
        props: dict[str, Any] = {
            "hs_object_id": str(dup_id),
            "email": self.email(i, canonical),
            "firstname": first,
            "lastname": last,
            "phone": self.phone(i) if self.rm.random() < 0.5 else None,
            "company": None,
            "city": city,
            "state": state,
            "zip": zipc,
            "country": "United States",
            "lifecyclestage": "lead",
            "hs_lead_status": "NEW",
            "hs_analytics_source": HUBSPOT_SOURCE[self.rm.choice(CHANNELS)],
            "associatedcompanyid": None,
            "hs_lifecyclestage_lead_date": self.clock.iso_ms(created),
            "hs_lifecyclestage_marketingqualifiedlead_date": None,
            "hs_lifecyclestage_salesqualifiedlead_date": None,
            "hs_lifecyclestage_opportunity_date": None,
            "hs_lifecyclestage_customer_date": None,
            "hs_email_optout": "false",
            "hs_merged_object_ids": None,
            "hs_merged_into_object_id": None,
            "hubspot_owner_id": self.rm.choice(OWNERS),
        }
        events: list[tuple[float, dict[str, Any]]] = []
        if merge_t < INF:
            events.append((merge_t, {"hs_merged_into_object_id": str(primary), "__archived": True}))
        self.crm_record(
            "contacts", dup_id, self._versions(dup_id, created, props, events), created, person=i
        )

    def crm_deal(self, i: int, cid: int, t0: float, fp_t: float) -> None:
        pop = self.pop
        did = self.next_id("crm_deals")
        c = int(pop.company[i])
        won = fp_t < INF
        close_t = fp_t if won else t0 + self.rw.uniform(20.0, 60.0)
        reached = len(DEAL_STAGES) if won else self.rw.randint(0, 3)
        stage_times = sorted(self.rw.uniform(t0, close_t) for _ in range(reached))
        expected = self.params.clv.p / float(pop.nu[i]) * self.rw.uniform(1.5, 4.0)
        created = self.ms(t0)
        name = (
            pp.company_name(pop, c) if c >= 0 else f"{pp.first_name(pop, i)} {pp.last_name(pop, i)}"
        )
        props: dict[str, Any] = {
            "hs_object_id": str(did),
            "dealname": f"{name} - {self.rw.choice(('Bulk order', 'Team order', 'Annual supply', 'Office refresh'))}",
            "amount": money(expected),
            "dealstage": "appointmentscheduled",
            "pipeline": "default",
            "closedate": self.clock.iso_ms(self.ms(t0 + 30.0)),
            "hs_is_closed": "false",
            "hs_is_closed_won": "false",
            "hubspot_owner_id": self.rw.choice(OWNERS),
        }
        assoc: dict[str, Any] = {
            "contacts": {"results": [{"id": str(cid), "type": "deal_to_contact"}]}
        }
        if c >= 0:
            assoc["companies"] = {
                "results": [{"id": str(pop.company_crm[c]), "type": "deal_to_company"}]
            }
        events: list[tuple[float, dict[str, Any]]] = [
            (st, {"dealstage": s}) for st, s in zip(stage_times, DEAL_STAGES, strict=False)
        ]
        close_iso = self.clock.iso_ms(self.ms(close_t + 0.003))
        events.append(
            (
                close_t + 0.003,
                {
                    "dealstage": "closedwon" if won else "closedlost",
                    "hs_is_closed": "true",
                    "hs_is_closed_won": "true" if won else "false",
                    "closedate": close_iso,
                },
            )
        )
        versions = self._versions(did, created, props, events, assoc)
        history: list[dict[str, str]] = []
        for _, obj in versions:  # stage history as of each version, newest first (HubSpot order)
            stage = obj["properties"]["dealstage"]
            if not history or history[0]["value"] != stage:
                history = [
                    {"value": stage, "timestamp": obj["updatedAt"], "sourceType": "CRM_UI"},
                    *history,
                ]
            obj["propertiesWithHistory"] = {"dealstage": list(history)}
        self.crm_record("deals", did, versions, created)
        # sales calls and meetings along the deal
        for _ in range(self.rw.randint(1, 3)):
            self.crm_call(i, cid, did, self.rw.uniform(t0, close_t))
        for _ in range(self.rw.randint(0, 2)):
            self.crm_meeting(i, cid, did, self.rw.uniform(t0, close_t))

    def _assoc(self, cid: int, did: int | None) -> dict[str, Any]:
        assoc: dict[str, Any] = {
            "contacts": {"results": [{"id": str(cid), "type": "engagement_to_contact"}]}
        }
        if did:
            assoc["deals"] = {"results": [{"id": str(did), "type": "engagement_to_deal"}]}
        return assoc

    def crm_emails(self, i: int, cid: int, t: float, fp_t: float) -> None:
        """One-to-one sales emails while the person is a lead (sent, opened, clicked)."""
        n = 1 + _poisson(self.rw, 2.0)
        end = min(fp_t, t + 45.0)
        open_p = min(0.8, max(0.05, 0.4 + 0.08 * float(self.pop.disp[i])))
        for ts in sorted(self.rw.uniform(t + 0.01, max(end, t + 0.02)) for _ in range(n)):
            eid = self.next_id("crm_engagements")
            created = self.ms(ts)
            bounced = self.rw.random() < 0.02
            props: dict[str, Any] = {
                "hs_object_id": str(eid),
                "hs_engagement_type": "EMAIL",
                "hs_timestamp": self.clock.iso_ms(created),
                "hs_email_direction": "EMAIL",
                "hs_email_subject": self.rw.choice(EMAIL_SUBJECTS),
                "hs_email_status": "BOUNCED" if bounced else "SENT",
                "hs_email_open_count": "0",
                "hs_email_click_count": "0",
                "hs_email_first_open_date": None,
                "hs_email_first_click_date": None,
                "hubspot_owner_id": self.rw.choice(OWNERS),
            }
            events: list[tuple[float, dict[str, Any]]] = []
            if not bounced and self.rw.random() < open_p:
                t_open = ts + self.rw.expovariate(1 / 0.3) + 0.0005
                events.append(
                    (
                        t_open,
                        {
                            "hs_email_open_count": str(self.rw.randint(1, 3)),
                            "hs_email_first_open_date": self.clock.iso_ms(self.ms(t_open)),
                        },
                    )
                )
                if self.rw.random() < 0.3:
                    t_click = t_open + self.rw.expovariate(1 / 0.05) + 0.0005
                    events.append(
                        (
                            t_click,
                            {
                                "hs_email_click_count": "1",
                                "hs_email_first_click_date": self.clock.iso_ms(self.ms(t_click)),
                            },
                        )
                    )
            self.crm_record(
                "engagements",
                eid,
                self._versions(eid, created, props, events, self._assoc(cid, None)),
                created,
            )

    def crm_call(self, i: int, cid: int, did: int, ts: float) -> None:
        eid = self.next_id("crm_engagements")
        created = self.ms(ts)
        connected = self.rw.random() < 0.6
        props: dict[str, Any] = {
            "hs_object_id": str(eid),
            "hs_engagement_type": "CALL",
            "hs_timestamp": self.clock.iso_ms(created),
            "hs_call_direction": "OUTBOUND",
            "hs_call_disposition": "connected"
            if connected
            else self.rw.choice(("no_answer", "left_voicemail", "busy")),
            "hs_call_duration": str(int(self.rw.uniform(120, 1500) * 1000) if connected else 0),
            "hs_call_title": "Discovery call" if self.rw.random() < 0.5 else "Follow-up call",
            "hubspot_owner_id": self.rw.choice(OWNERS),
        }
        self.crm_record(
            "engagements",
            eid,
            self._versions(eid, created, props, [], self._assoc(cid, did)),
            created,
        )

    def crm_meeting(self, i: int, cid: int, did: int, ts: float) -> None:
        eid = self.next_id("crm_engagements")
        created = self.ms(ts)
        start = ts + self.rw.uniform(1.0, 7.0)
        end = start + self.rw.choice((0.5, 1.0)) / 24
        props: dict[str, Any] = {
            "hs_object_id": str(eid),
            "hs_engagement_type": "MEETING",
            "hs_timestamp": self.clock.iso_ms(self.ms(start)),
            "hs_meeting_title": self.rw.choice(
                ("Product demo", "Pricing review", "Onboarding call")
            ),
            "hs_meeting_start_time": self.clock.iso_ms(self.ms(start)),
            "hs_meeting_end_time": self.clock.iso_ms(self.ms(end)),
            "hs_meeting_outcome": "SCHEDULED",
            "hubspot_owner_id": self.rw.choice(OWNERS),
        }
        outcome = "COMPLETED" if self.rw.random() < 0.8 else self.rw.choice(("NO_SHOW", "CANCELED"))
        events = [(end, {"hs_meeting_outcome": outcome})]
        self.crm_record(
            "engagements",
            eid,
            self._versions(eid, created, props, events, self._assoc(cid, did)),
            created,
        )

    # ---- the shop -----------------------------------------------------------------------
    def account_email(self, i: int, account_id: int, second: bool) -> str:
        """The email of a shop account, as typed at sign-up (re-renderable from the account id)."""
        rm = py_rng(self.seed, "account-email", account_id)
        canonical = pp.second_email(self.pop, i) if second else pp.canonical_email(self.pop, i)
        c = int(self.pop.company[i])
        shared = (
            f"{rm.choice(pp.SHARED_MAILBOXES)}@{pp.company_domain(self.pop, c)}" if c >= 0 else None
        )
        return pp.email_variant(rm, canonical, self.rates, shared)

    def shop_account(
        self, i: int, t: float, state: str, second: bool, email: str | None = None
    ) -> int:
        pop = self.pop
        aid = self.next_id("shop_customer")
        t0 = max(self.day_start, t - self.rw.uniform(0.001, 0.02))
        created = self.ms(t0)
        first, last = self.names(i)
        city, st, zipc = pp.city(pop, i)
        ts = self.clock.pg(created)
        row: dict[str, Any] = {
            "id": aid,
            "email": email if email is not None else self.account_email(i, aid, second),
            "first_name": first,
            "last_name": last,
            "phone": self.phone(i) if self.rw.random() < 0.5 else None,
            "state": state,
            "accepts_marketing": self.rw.random() < 0.45,
            "tags": "wholesale" if pop.segment[i] > 0 else "",
            "city": city,
            "province": st,
            "country": "US",
            "zip": zipc,
            "created_at": ts,
            "updated_at": ts,
            "deleted_at": None,
        }
        events: list[tuple[float, dict[str, Any]]] = []
        if state == "disabled" and self.rw.random() < 0.15:
            events.append((t0 + self.rw.expovariate(1 / 100.0) + 0.01, {"state": "enabled"}))
        if self.rw.random() < 0.2:
            events.append((t0 + self.rw.expovariate(1 / 120.0) + 0.01, {"phone": self.phone(i)}))
        if self.rw.random() < 0.1:
            events.append(
                (
                    t0 + self.rw.expovariate(1 / 90.0) + 0.01,
                    {"accepts_marketing": not row["accepts_marketing"]},
                )
            )
        if self.rw.random() < 0.01:
            tdel = t0 + self.rw.expovariate(1 / 200.0) + 1.0
            events.append((tdel, {"deleted_at": self.clock.pg(self.ms(tdel))}))
        versions = [(created, row)]
        for te, change in sorted(events, key=lambda e: e[0]):
            ms = max(self.ms(te), versions[-1][0] + 1)
            row = {**row, **change, "updated_at": self.clock.pg(ms)}
            versions.append((ms, row))
        self.shop_record("customers", aid, versions, person=i, source="shop_customer")
        return aid

    def purchase(self, i: int, t: float) -> float | None:
        pop, rw = self.pop, self.rw
        if t >= pop.churn_t[i]:
            pop.next_buy[i] = INF
            return None
        first = pop.n_orders[i] == 0
        # which account (or guest checkout) this order uses
        email: str | None = None
        if pop.shop_dup[i] and not first and (pop.shop_cust2[i] == 0 or rw.random() < 0.5):
            if pop.shop_cust2[i] == 0:
                pop.shop_cust2[i] = self.shop_account(i, t, "enabled", second=True)
            cust = int(pop.shop_cust2[i])
            email = self.account_email(i, cust, True)
        elif pop.registered[i]:
            if pop.shop_cust[i] == 0:
                pop.shop_cust[i] = self.shop_account(i, t, "enabled", second=False)
            cust = int(pop.shop_cust[i])
            email = self.account_email(i, cust, False)
        else:
            email = self.email(i)
            if pop.shop_cust[i] == 0:
                pop.shop_cust[i] = self.shop_account(i, t, "disabled", second=False, email=email)
            cust = int(pop.shop_cust[i])
        self.order(i, t, cust, email, first)
        pop.n_orders[i] += 1
        if not first and rw.random() < pop.p_drop[i]:  # BG/NBD dropout after a repeat purchase
            pop.churn_t[i] = min(pop.churn_t[i], t)
            pop.next_buy[i] = INF
            return None
        nxt = t + rw.expovariate(float(pop.lam[i])) if pop.lam[i] > 0 else INF
        pop.next_buy[i] = nxt
        return nxt

    def pick_lines(self, t: float, subtotal: int) -> list[tuple[Product, int, int]]:
        """Catalog lines whose list value covers the Gamma-Gamma spend (the gap is a discount)."""
        rw = self.rw
        active = self.active  # on sale today (until the end of the day)
        k = 1 + min(_poisson(rw, 0.7), 5)
        shares = [rw.random() + 0.2 for _ in range(k)]
        total = sum(shares)
        lines: list[list[Any]] = []
        for s in shares:
            target = subtotal * s / total
            cands = [rw.choice(active) for _ in range(6)]
            cands = [c for c in cands if c.launch_t <= t] or cands
            p = min(cands, key=lambda c: abs(c.price_at(t) - target))
            price = p.price_at(t)
            qty = max(1, min(5, round(target / price)))
            lines.append([p, qty, price])
        guard = 0
        while sum(q * pr for _, q, pr in lines) < subtotal and guard < 500:
            max(lines, key=lambda line: line[2])[1] += 1
            guard += 1
        merged: dict[int, list[Any]] = {}
        for p, q, pr in lines:
            if p.id in merged:
                merged[p.id][1] += q
            else:
                merged[p.id] = [p, q, pr]
        return [(p, q, pr) for p, q, pr in merged.values()]

    def order(self, i: int, t: float, cust: int, email: str, first: bool) -> int:
        pop, rw, clock = self.pop, self.rw, self.clock
        oid = self.next_id("order")
        created = self.ms(t)
        ts = clock.pg(created)
        subtotal = max(300, round(rw.gammavariate(self.params.clv.p, 1.0 / float(pop.nu[i])) * 100))
        lines = self.pick_lines(t, subtotal)
        line_total = sum(q * pr for _, q, pr in lines)
        discount = max(0, line_total - subtotal)
        subtotal = line_total - discount
        city, state, zipc = pp.city(pop, i)
        shipping = 0 if subtotal >= 7500 else 695
        tax = round(subtotal * TAX.get(state, 5.0) / 100)
        total = subtotal + shipping + tax
        channel = CHANNELS[pop.channel[i]]
        src, med = UTM[channel]
        landing = (
            f"/?utm_source={src}&utm_medium={med}"
            if first and src
            else ("/" if rw.random() < 0.5 else None)
        )
        fn, ln = self.names(i)
        row: dict[str, Any] = {
            "id": oid,
            "name": f"#{1000 + oid}",
            "customer_id": cust,
            "email": email,
            "phone": self.phone(i) if rw.random() < 0.5 else None,
            "currency": "USD",
            "total_line_items_price": money(line_total / 100),
            "total_discounts": money(discount / 100),
            "subtotal_price": money(subtotal / 100),
            "total_shipping": money(shipping / 100),
            "total_tax": money(tax / 100),
            "total_price": money(total / 100),
            "financial_status": "authorized",
            "fulfillment_status": None,
            "shipment_status": None,
            "cancel_reason": None,
            "source_name": rw.choices(
                ("web", "shopify_mobile", "shopify_draft_order"), (80, 15, 5)
            )[0],
            "landing_site": landing,
            "shipping_name": f"{fn} {ln}",
            "shipping_city": city,
            "shipping_province": state,
            "shipping_zip": zipc,
            "shipping_country": "US",
            "processed_at": ts,
            "fulfilled_at": None,
            "delivered_at": None,
            "cancelled_at": None,
            "closed_at": None,
            "created_at": ts,
            "updated_at": ts,
            "deleted_at": None,
        }
        # the order's life, drawn now
        events: list[tuple[float, dict[str, Any]]] = []
        gateway = rw.choices(("shopify_payments", "paypal", "gift_card"), (75, 20, 5))[0]
        txs: list[tuple[float, dict[str, Any]]] = []
        if rw.random() < 0.04:
            txs.append(
                (
                    t,
                    {
                        "kind": "authorization",
                        "status": "failure",
                        "amount": total,
                        "error_code": "card_declined",
                        "parent": None,
                    },
                )
            )
        txs.append(
            (
                t + 0.0001,
                {
                    "kind": "authorization",
                    "status": "success",
                    "amount": total,
                    "error_code": None,
                    "parent": None,
                },
            )
        )
        issue = None
        survey_t = INF
        if rw.random() < 0.03:  # cancelled before fulfilment
            tc = t + rw.uniform(0.01, 0.4)
            events.append(
                (
                    tc,
                    {
                        "financial_status": "voided",
                        "cancelled_at": clock.pg(self.ms(tc)),
                        "cancel_reason": rw.choice(("customer", "inventory", "fraud", "declined")),
                    },
                )
            )
            txs.append(
                (
                    tc,
                    {
                        "kind": "void",
                        "status": "success",
                        "amount": total,
                        "error_code": None,
                        "parent": 0,
                    },
                )
            )
            if rw.random() < 0.3:
                td = tc + rw.uniform(1.0, 10.0)
                events.append((td, {"deleted_at": clock.pg(self.ms(td))}))
        else:
            tf = t + rw.uniform(0.15, 2.5)
            eta = tf + rw.uniform(1.5, 5.0)
            u = rw.random()
            issue = (
                "late_delivery"
                if u < 0.07
                else "damaged"
                if u < 0.10
                else "wrong_item"
                if u < 0.12
                else None
            )
            tdel = eta + (rw.uniform(3.0, 9.0) if issue == "late_delivery" else 0.0)
            events.append(
                (
                    tf,
                    {
                        "financial_status": "paid",
                        "fulfillment_status": "fulfilled",
                        "shipment_status": "in_transit",
                        "fulfilled_at": clock.pg(self.ms(tf)),
                    },
                )
            )
            txs.append(
                (
                    tf,
                    {
                        "kind": "capture",
                        "status": "success",
                        "amount": total,
                        "error_code": None,
                        "parent": 0,
                    },
                )
            )
            events.append(
                (
                    tdel,
                    {
                        "shipment_status": "delivered",
                        "delivered_at": clock.pg(self.ms(tdel)),
                        "closed_at": clock.pg(self.ms(tdel)),
                    },
                )
            )
            refund_p = 0.04 + (0.55 if issue in ("damaged", "wrong_item") else 0.0)
            if rw.random() < refund_p:
                tr = tdel + rw.uniform(2.0, 20.0)
                full = rw.random() < 0.6 or len(lines) == 1
                amount = (
                    total
                    if full
                    else min(total, lines[0][2] + round(lines[0][2] * TAX.get(state, 5.0) / 100))
                )
                events.append(
                    (tr, {"financial_status": "refunded" if full else "partially_refunded"})
                )
                self.refund(oid, tr, amount, full, issue)
                txs.append(
                    (
                        tr + 0.0001,
                        {
                            "kind": "refund",
                            "status": "success",
                            "amount": amount,
                            "error_code": None,
                            "parent": 0,
                        },
                    )
                )
            if issue and rw.random() < 0.75:
                t_contact = (
                    (eta + rw.uniform(0.3, 2.0))
                    if issue == "late_delivery"
                    else tdel + rw.uniform(0.05, 2.0)
                )
                if t_contact < pop.issue_t[i]:
                    pop.issue_t[i] = t_contact
                    pop.issue_order[i] = oid
                    pop.issue_topic[i] = TOPIC_INDEX[ISSUE_TOPIC[issue]]
            survey_t = tdel + 1.0
        versions = [(created, row)]
        for te, change in sorted(events, key=lambda e: e[0]):
            ms = max(self.ms(te), versions[-1][0] + 1)
            row = {**row, **change, "updated_at": clock.pg(ms)}
            versions.append((ms, row))
        self.shop_record("orders", oid, versions, person=i, source="shop_order")
        for p, qty, price in lines:
            lid = self.next_id("order_line")
            self.shop_record(
                "order_lines",
                lid,
                [
                    (
                        created,
                        {
                            "id": lid,
                            "order_id": oid,
                            "product_id": p.id,
                            "sku": p.sku,
                            "title": p.title,
                            "quantity": qty,
                            "price": money(price / 100),
                            "created_at": ts,
                            "updated_at": ts,
                        },
                    )
                ],
            )
        parent = None
        for tt, tx_ in txs:
            xid = self.next_id("transaction")
            ms = max(self.ms(tt), created)
            tts = clock.pg(ms)
            if tx_["kind"] == "authorization" and tx_["status"] == "success":
                parent = xid
            self.shop_record(
                "transactions",
                xid,
                [
                    (
                        ms,
                        {
                            "id": xid,
                            "order_id": oid,
                            "parent_id": parent if tx_["parent"] is not None else None,
                            "kind": tx_["kind"],
                            "status": tx_["status"],
                            "gateway": gateway,
                            "amount": money(tx_["amount"] / 100),
                            "currency": "USD",
                            "error_code": tx_["error_code"],
                            "processed_at": tts,
                            "created_at": tts,
                            "updated_at": tts,
                        },
                    )
                ],
            )
        if survey_t < INF:
            self.post_purchase_survey(i, survey_t, oid, email, issue)
        return oid

    def refund(self, oid: int, t: float, amount: int, full: bool, issue: str | None) -> None:
        rid = self.next_id("refund")
        ms = self.ms(t)
        ts = self.clock.pg(ms)
        note = {"damaged": "Item arrived damaged", "wrong_item": "Wrong item shipped"}.get(
            issue or ""
        )
        if note is None:
            note = self.rw.choice(("Customer return", "Changed mind", "Did not fit", None))
        self.shop_record(
            "refunds",
            rid,
            [
                (
                    ms,
                    {
                        "id": rid,
                        "order_id": oid,
                        "amount": money(amount / 100),
                        "note": note,
                        "restock": issue is None,
                        "processed_at": ts,
                        "created_at": ts,
                        "updated_at": ts,
                    },
                )
            ],
        )

    def checkout(self, i: int, t: float) -> float | None:
        """An abandoned checkout (comparison stage, or a customer's dropped cart)."""
        pop, rw = self.pop, self.rw
        if t >= pop.churn_t[i]:
            pop.next_chk[i] = INF
            return None
        kid = self.next_id("checkout")
        created = self.ms(t)
        ts = self.clock.pg(created)
        fp = float(pop.fp_t[i])
        recovered = pop.n_orders[i] == 0 and t < fp < t + 5.0
        value = max(300, round(rw.gammavariate(self.params.clv.p, 1.0 / float(pop.nu[i])) * 100))
        row: dict[str, Any] = {
            "id": kid,
            "token": f"{py_rng(self.seed, 'token', kid).getrandbits(128):032x}",
            "customer_id": int(pop.shop_cust[i]) or None,
            "email": self.email(i),
            "phone": self.phone(i) if rw.random() < 0.3 else None,
            "currency": "USD",
            "total_price": money(value / 100),
            "line_items_count": 1 + _poisson(rw, 0.8),
            "completed_at": None,
            "created_at": ts,
            "updated_at": ts,
            "deleted_at": None,
        }
        versions = [(created, row)]
        if recovered:
            ms = max(self.ms(fp), created + 1)
            row = {**row, "completed_at": self.clock.pg(ms), "updated_at": self.clock.pg(ms)}
            versions.append((ms, row))
        elif rw.random() < 0.2:  # stale carts are purged (soft delete) after a while
            ms = self.ms(t + rw.uniform(30.0, 90.0))
            row = {**row, "deleted_at": self.clock.pg(ms), "updated_at": self.clock.pg(ms)}
            versions.append((ms, row))
        self.shop_record("abandoned_checkouts", kid, versions, person=i, source="shop_checkout")
        nxt = t + rw.expovariate(0.8 / 365.0) if pop.fp_t[i] < INF else INF
        pop.next_chk[i] = nxt
        return nxt

    # ---- the contact center -------------------------------------------------------------
    def base_contact(self, i: int, t: float) -> float | None:
        pop, cx = self.pop, self.params.cx
        customer = pop.n_orders[i] > 0
        if (customer and t >= pop.churn_t[i]) or (
            not customer and pop.fp_t[i] == INF and t > pop.acq_t[i] + 120
        ):
            pop.next_sup[i] = INF
            return None
        pool = CUSTOMER_TOPICS if customer else LEAD_TOPICS
        topic = self.rw.choices([p[0] for p in pool], [p[1] for p in pool])[0]
        self.contact(i, t, topic, issue=False, order_id=None)
        rate = (cx.support_rate_customer if pop.n_orders[i] > 0 else cx.support_rate_lead) / 365.0
        rate *= math.exp(cx.disposition_contact_slope * float(pop.disp[i]))
        nxt = t + self.rw.expovariate(rate)
        pop.next_sup[i] = nxt
        return nxt

    def issue_contact(self, i: int, t: float) -> float | None:
        pop = self.pop
        topic = TOPICS[int(pop.issue_topic[i])]
        order_id = int(pop.issue_order[i]) or None
        pop.issue_t[i] = INF
        if pop.n_orders[i] > 0 and t >= pop.churn_t[i]:
            return None
        self.contact(i, t, topic, issue=True, order_id=order_id)
        nxt = float(pop.issue_t[i])  # a callback may have been scheduled
        return nxt if nxt < INF else None

    def call_time(self, t: float) -> float | None:
        """A time in call-center hours (08:00-20:00 Chicago) within t's UTC day, else None."""
        for _ in range(6):
            cand = self.day_start + self.rw.random()
            secs = self.clock.ms(cand) // 1000
            if 8 <= datetime.fromtimestamp(secs, UTC).astimezone(CALL_CENTER_TZ).hour < 20:
                return cand
        return None

    def contact(self, i: int, t: float, topic: str, issue: bool, order_id: int | None) -> None:
        pop, rw, cx = self.pop, self.rw, self.params.cx
        customer = pop.n_orders[i] > 0
        disp = float(pop.disp[i])
        channel = rw.choices(("phone", "chat", "email"), (45, 30, 25))[0]
        bad_x = -1.3 - 0.8 * disp + (0.9 if issue else 0.0)
        call_id = None
        phone_str = None
        if channel == "phone":
            tc = self.call_time(t)
            if tc is None:
                channel = "email"
            else:
                t = tc
                wait = rw.expovariate(1 / (60.0 * self.load + 30.0 * self.load**2))
                patience = rw.expovariate(1 / 240.0)
                phone_str = self.phone(i)
                call_id = self.next_id("call")
                queue = QUEUE_OF[topic] if rw.random() < 0.9 else rw.choice(QUEUES)
                offered = self.ms(t)
                if wait > patience:
                    ended = offered + int(patience * 1000)
                    self.emit_call(
                        i,
                        call_id,
                        phone_str,
                        queue,
                        None,
                        offered,
                        None,
                        ended,
                        0,
                        0,
                        False,
                        False,
                        None,
                    )
                    if customer and rw.random() < cx.churn_after_abandoned_call:
                        pop.churn_t[i] = min(pop.churn_t[i], t)
                    if rw.random() < 0.6:  # call back later
                        tb = t + rw.uniform(0.02, 1.0)
                        if tb < pop.issue_t[i]:
                            pop.issue_t[i] = tb
                            pop.issue_order[i] = order_id or 0
                            pop.issue_topic[i] = TOPIC_INDEX[topic]
                    return
                bad_x += 0.8 if wait > 300 else 0.0
                agent = rw.choice(AGENTS)
                answered = offered + int(wait * 1000)
                talk = rw.lognormvariate(math.log(300), 0.6)
                hold = rw.expovariate(1 / 90.0) if rw.random() < 0.35 else 0.0
                wrap = 15 + rw.expovariate(1 / 45.0)
                transferred = rw.random() < 0.08
                ended = answered + int((talk + hold) * 1000)
                bad = rw.random() < _sigmoid(bad_x)
                ticket_id = self.next_id("ticket") if rw.random() < 0.85 else None
                self.emit_call(
                    i,
                    call_id,
                    phone_str,
                    queue,
                    agent[0],
                    offered,
                    answered,
                    ended,
                    int(hold),
                    int(wrap),
                    False,
                    transferred,
                    ticket_id,
                )
                end_t = (ended - self.clock.origin_ms) / DAY_MS
                if ticket_id is not None:
                    self.ticket(
                        i,
                        ticket_id,
                        end_t,
                        "phone",
                        topic,
                        bad,
                        issue,
                        order_id,
                        agent,
                        phone_str,
                        call_id,
                    )
                elif bad:
                    self.bad_experience(i, end_t)
                return
        bad = rw.random() < _sigmoid(bad_x)
        self.ticket(
            i,
            self.next_id("ticket"),
            t,
            channel,
            topic,
            bad,
            issue,
            order_id,
            rw.choice(AGENTS),
            None,
            None,
        )

    def emit_call(
        self,
        i: int,
        call_id: int,
        phone: str,
        queue: str,
        agent: str | None,
        offered: int,
        answered: int | None,
        ended: int,
        hold: int,
        wrap: int,
        abandoned: bool,
        transferred: bool,
        ticket_id: int | None,
    ) -> None:
        c = self.clock
        abandoned = answered is None
        row = [
            str(call_id),
            phone,
            queue,
            agent or "",
            c.local_s(offered),
            c.local_s(answered) if answered else "",
            c.local_s(ended),
            str(hold),
            str(wrap),
            "true" if abandoned else "false",
            "true" if transferred else "false",
            str(ticket_id) if ticket_id else "",
            "" if abandoned else f"https://recordings.northwind.example/calls/{call_id}.wav",
        ]
        items = [(d, (offered, call_id, k), row) for k, d in enumerate(self.drop_days(offered))]
        self.out.drop("calls", items, link=(pp.person_id(i), "contact_center_call", str(call_id)))

    def bad_experience(self, i: int, t: float) -> None:
        """A bad support experience: remembered, and for customers a chance to drop out then."""
        pop = self.pop
        pop.last_bad[i] = max(pop.last_bad[i], t)
        if pop.n_orders[i] > 0 and self.rw.random() < self.params.cx.churn_after_bad_support:
            pop.churn_t[i] = min(pop.churn_t[i], t)

    def ticket(
        self,
        i: int,
        tid: int,
        t: float,
        channel: str,
        topic: str,
        bad: bool,
        issue: bool,
        order_id: int | None,
        agent: tuple[str, str],
        phone: str | None,
        call_id: int | None,
    ) -> None:
        """A help-desk ticket with its whole life: status changes, comments, satisfaction."""
        rw, rt, c = self.rw, self.rt, self.clock
        first, last = self.names(i)
        name = f"{first} {last}"
        email = self.email(i) if channel != "phone" or rw.random() < 0.4 else None
        order_ref = f"#{1000 + order_id}" if order_id else None
        typo_rate = self.rates["text_typo"]
        statuses: list[tuple[float, str]] = []
        comments: list[tuple[float, str, str | None, bool, str]] = []
        opening = tx.customer_message(rt, topic, order_ref, typo_rate)
        reply = tx.agent_reply(rt, not bad, first)
        followup = tx.customer_followup(rt, not bad)
        if channel == "phone":
            statuses.append((t, "open"))
            comments.append(
                (t, "agent", agent[0], True, tx.call_summary(rt, topic, not bad, order_ref))
            )
            t_first = t
        elif channel == "chat":
            statuses.append((t, "open"))
            t_first = t + rw.uniform(0.005, 0.03)
            comments.append(
                (
                    t_first,
                    "requester",
                    None,
                    True,
                    tx.chat_transcript(rt, opening, reply, followup, first, agent[1]),
                )
            )
        else:
            statuses.append((t, "new"))
            comments.append((t, "requester", None, True, opening))
            t_first = t + rw.uniform(0.05, 1.5) * (2.0 if bad else 1.0)
            statuses.append((t_first, "open"))
            comments.append((t_first, "agent", agent[0], True, reply))
        if rw.random() < 0.5:
            comments.append((t_first + 0.002, "agent", agent[0], False, tx.internal_note(rt)))
        if not bad and channel != "email" and rw.random() < 0.6:
            t_solved = t_first + 0.003
        else:
            t_pend = t_first + rw.uniform(0.01, 0.5)
            statuses.append((t_pend, "pending"))
            t_back = t_pend + rw.expovariate(1.0) + 0.01
            statuses.append((t_back, "open"))
            comments.append((t_back, "requester", None, True, followup))
            t_solved = t_back + (rw.uniform(2.0, 6.0) if bad else rw.uniform(0.05, 1.5))
        statuses.append((t_solved, "solved"))
        comments.append((t_solved, "agent", agent[0], True, tx.agent_reply(rt, not bad, first)))
        if bad and rw.random() < 0.5:  # reopened by the customer, solved again
            t_re = t_solved + rw.uniform(0.3, 3.0)
            statuses.append((t_re, "open"))
            comments.append((t_re, "requester", None, True, tx.customer_followup(rt, False)))
            t_solved = t_re + rw.uniform(0.5, 3.0)
            statuses.append((t_solved, "solved"))
            comments.append((t_solved, "agent", agent[0], True, tx.agent_reply(rt, False, first)))
        statuses.append((t_solved + 4.0, "closed"))
        rating: tuple[float, str, str | None] | None = None
        if rw.random() < 0.35:
            score = "bad" if (rw.random() < 0.8 if bad else rw.random() < 0.08) else "good"
            r_comment = (
                tx.comment(
                    rt, ["support_agent"], -1 if score == "bad" else 1, typo_rate, 0.0, None, None
                )[0]
                if rw.random() < 0.4
                else None
            )
            rating = (t_solved + rw.uniform(0.05, 2.0), score, r_comment)
        if bad:
            self.bad_experience(i, t_solved)
        priority = (
            "high"
            if issue and bad
            else rw.choices(("low", "normal", "high", "urgent"), (25, 55, 15, 5))[0]
        )
        tags = [topic] + (["issue"] if issue else [])
        base = {
            "id": tid,
            "channel": channel,
            "subject": tx.ticket_subject(rt, topic),
            "priority": priority,
            "type": "incident" if issue else "question",
            "requester": {
                "name": name,
                "email": email,
                "phone": phone or (self.phone(i) if channel == "phone" else None),
            },
            "assignee_id": agent[0],
            "group": QUEUE_OF[topic],
            "tags": tags,
            "custom_fields": {"order_id": order_id, "call_id": call_id},
        }
        cids = [self.next_id("ticket_comment") for _ in comments]
        # one version per day with activity: the state at the end of that day
        times = (
            [s[0] for s in statuses] + [cm[0] for cm in comments] + ([rating[0]] if rating else [])
        )
        days = sorted({c.day_of(x) for x in times})
        created_ms = self.ms(t)
        items = []
        for k, day in enumerate(days):
            end_ms = c.origin_ms + (day + 1) * DAY_MS
            st = [(self.ms(x), s) for x, s in statuses if self.ms(x) < end_ms]
            cm = [
                (self.ms(x), cid, a, ag, pub, body)
                for (x, a, ag, pub, body), cid in zip(comments, cids, strict=True)
                if self.ms(x) < end_ms
            ]
            sat: dict[str, Any] = {"score": "unoffered", "comment": None, "updated_at": None}
            if any(s == "solved" for _, s in st):
                sat = {
                    "score": "offered",
                    "comment": None,
                    "updated_at": c.iso_s(min(ms for ms, s in st if s == "solved")),
                }
            if rating and self.ms(rating[0]) < end_ms:
                sat = {
                    "score": rating[1],
                    "comment": rating[2],
                    "updated_at": c.iso_s(self.ms(rating[0])),
                }
            updated = max(
                [ms for ms, _ in st]
                + [x[0] for x in cm]
                + ([self.ms(rating[0])] if rating and self.ms(rating[0]) < end_ms else [])
            )
            obj = {
                **base,
                "created_at": c.iso_s(created_ms),
                "updated_at": c.iso_s(updated),
                "status": st[-1][1],
                "status_events": [
                    {"at": c.iso_s(ms), "from": (st[j - 1][1] if j else None), "to": s}
                    for j, (ms, s) in enumerate(st)
                ],
                "comments": [
                    {
                        "id": cid,
                        "at": c.iso_s(ms),
                        "author": a,
                        "agent_id": ag,
                        "public": pub,
                        "body": body,
                    }
                    for ms, cid, a, ag, pub, body in cm
                ],
                "satisfaction_rating": sat,
            }
            line = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
            for j, d in enumerate(self.drop_days(updated)):
                items.append((d, (updated, tid, k, j), line))
        self.out.drop("tickets", items, link=(pp.person_id(i), "contact_center_ticket", str(tid)))
        self.post_support_survey(i, t_solved + 0.5, tid, email, bad)

    # ---- surveys ------------------------------------------------------------------------
    def recent_bad(self, i: int, t: float) -> float:
        lb = float(self.pop.last_bad[i])
        return 1.0 if lb <= t and t - lb < 60 else 0.0

    def relationship_survey(self, i: int, t: float) -> float | None:
        pop, rw = self.pop, self.rw
        if pop.n_orders[i] == 0 or t >= pop.churn_t[i]:
            pop.next_rel[i] = INF
            return None
        if rw.random() < self.params.cx.survey_response_rate:
            nps = round(
                7.6 + 1.6 * float(pop.disp[i]) - 3.0 * self.recent_bad(i, t) + rw.gauss(0, 1.6)
            )
            self.response(
                i,
                SURVEY_BY_TOUCHPOINT["relationship"],
                t,
                {"QID1": min(10, max(0, nps))},
                None,
                None,
                None,
            )
        nxt = t + rw.uniform(80.0, 100.0)
        pop.next_rel[i] = nxt
        return nxt

    def post_purchase_survey(
        self, i: int, t: float, oid: int, email: str, issue: str | None
    ) -> None:
        rw = self.rw
        if rw.random() >= self.params.cx.survey_response_rate:
            return
        csat = round(
            4.1 + 0.55 * float(self.pop.disp[i]) - (1.6 if issue else 0.0) + rw.gauss(0, 0.8)
        )
        self.response(
            i,
            SURVEY_BY_TOUCHPOINT["post_purchase"],
            t,
            {"QID1": min(5, max(1, csat))},
            email,
            oid,
            None,
            issue,
        )

    def post_support_survey(self, i: int, t: float, tid: int, email: str | None, bad: bool) -> None:
        rw = self.rw
        if rw.random() >= self.params.cx.survey_response_rate:
            return
        d = float(self.pop.disp[i])
        csat = round(3.9 + 0.6 * d - (1.8 if bad else 0.0) + rw.gauss(0, 0.8))
        ces = round(5.3 + 0.7 * d - (2.0 if bad else 0.0) + rw.gauss(0, 1.0))
        scores = {"QID1": min(5, max(1, csat)), "QID2": min(7, max(1, ces))}
        self.response(i, SURVEY_BY_TOUCHPOINT["post_support"], t, scores, email, None, tid)

    def response(
        self,
        i: int,
        survey: Survey,
        t_invite: float,
        scores: dict[str, int],
        email: str | None,
        order_id: int | None,
        ticket_id: int | None,
        issue: str | None = None,
    ) -> None:
        """One survey response (maybe partial, maybe with a comment); detractors may churn."""
        pop, rw, rt, c, cx = self.pop, self.rw, self.rt, self.clock, self.params.cx
        counter = self.next_id("response")
        rid = response_id(counter)
        start = t_invite + rw.expovariate(1 / 1.5) + 0.001
        duration = rw.uniform(25.0, 400.0)
        partial = rw.random() < cx.survey_partial_share
        first_q = survey.questions[0]
        score = scores[first_q.column]
        low = score <= (6 if first_q.kind == "nps" else 2)
        high = score >= (9 if first_q.kind == "nps" else 4)
        sentiment = 1 if high else -1 if low else 0
        answers: dict[str, str] = {q.column: "" for q in survey.questions}
        comment_truth = None
        if partial:
            progress = rw.choice((25, 33, 50, 67))
            answers[first_q.column] = str(score) if rw.random() < 0.7 else ""
            recorded = start + 1.0  # an unfinished session is closed and recorded a day later
        else:
            progress = 100
            for q in survey.questions:
                if q.kind != "text":
                    answers[q.column] = str(scores[q.column])
            recorded = start + duration / 86400
            if rw.random() < cx.comment_share:
                context = survey.touchpoint
                must = ISSUE_TOPIC.get(issue or "")
                topics = tx.pick_topics(rt, context, must)
                pii_email = pp.canonical_email(pop, i) if rt.random() < 0.5 else self.email(i)
                text, has_pii = tx.comment(
                    rt,
                    topics,
                    sentiment,
                    self.rates["text_typo"],
                    self.rates["text_pii"],
                    pii_email,
                    self.phone(i),
                )
                answers[survey.questions[-1].column] = text
                comment_truth = (
                    "survey_response",
                    rid,
                    pp.person_id(i),
                    sentiment,
                    ";".join(topics),
                    "true" if has_pii else "false",
                )
        if low and pop.n_orders[i] > 0 and rw.random() < cx.churn_after_detractor:
            pop.churn_t[i] = min(pop.churn_t[i], recorded)
        first, last = self.names(i)
        start_ms, rec_ms = self.ms(start), self.ms(recorded)
        dist_email = email if email is not None else self.email(i)
        row = [
            c.naive_s(start_ms),
            c.naive_s(max(start_ms, rec_ms if not partial else start_ms + int(duration * 1000))),
            "0",
            str(progress),
            str(int(duration)),
            "0" if partial else "1",
            c.naive_s(rec_ms),
            rid,
            last,
            first,
            dist_email,
            "email",
            "EN",
            *[answers[q.column] for q in survey.questions],
            survey.touchpoint,
            dist_email,
            str(order_id) if order_id else "",
            str(ticket_id) if ticket_id else "",
        ]
        items = [(d, (rec_ms, counter, k), row) for k, d in enumerate(self.drop_days(rec_ms))]
        self.out.drop(
            f"survey:{survey.id}",
            items,
            link=(pp.person_id(i), "survey_response", rid),
            comment=comment_truth,
        )


def table_counter(table: str) -> str:
    return {
        "customers": "shop_customer",
        "products": "product",
        "orders": "order",
        "order_lines": "order_line",
        "refunds": "refund",
        "transactions": "transaction",
        "abandoned_checkouts": "checkout",
    }[table]


COUNTERS = (
    "shop_customer",
    "product",
    "order",
    "order_line",
    "refund",
    "transaction",
    "checkout",
    "crm_contacts",
    "crm_companies",
    "crm_deals",
    "crm_engagements",
    "call",
    "ticket",
    "ticket_comment",
    "response",
)
EXPORT_START = PRE_DAYS
