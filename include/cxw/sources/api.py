"""generate / advance / simulated_now: the simulator's Python API (the CLI is a thin shell on it).

State lives under `$CXW_HOME/sources/`: `state.json` (parameters, counters, days simulated; it
is written last, so a failed run leaves no state to advance from), `state/population.npz`
(per-person traits and clocks) and `state/pending.pkl` (record versions not yet visible).
"""

from __future__ import annotations

import csv
import json
import resource
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cxw.config import SHOP_SOURCE_DB, Settings
from cxw.errors import ConfigError, CxwError
from cxw.sources import crm_store
from cxw.sources.catalog import build_catalog
from cxw.sources.config import (
    DEFAULT_START,
    MAX_CUSTOMERS,
    MAX_DAYS,
    MAX_DEFECT_RATE,
    PRE_DAYS,
    SEGMENTS,
    MessConfig,
    WorldParams,
)
from cxw.sources.drops import SURVEYS, DropWriter, survey_definition
from cxw.sources.output import Router, Truth, load_pending, save_pending
from cxw.sources.people import (
    Population,
    canonical_email,
    canonical_phone,
    create_population,
    first_name,
    last_name,
    person_id,
)
from cxw.sources.shop import ShopSink
from cxw.sources.util import DAY_MS, Clock, py_rng
from cxw.sources.world import COUNTERS, EXPORT_START, World

STATE_VERSION = 1
Progress = Callable[[int, int], None]


@dataclass
class GenerationSummary:
    """What a generate/advance run produced (row counts are totals in the stores afterwards)."""

    seed: int
    customers: int
    start_date: str
    end_date: str  # last simulated day (inclusive)
    now: str  # simulated now: the instant after the last day (ISO, UTC)
    days_total: int
    days_added: int
    replaced_previous: bool
    people_acquired: int
    shop_database: str | None
    shop_rows: dict[str, int] = field(default_factory=dict)
    crm_objects: dict[str, int] = field(default_factory=dict)
    drop_lines_added: dict[str, int] = field(default_factory=dict)
    defects_added: int = 0
    elapsed_seconds: float = 0.0
    peak_rss_mb: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def state_path(settings: Settings) -> Path:
    return settings.sources_dir / "state.json"


def read_state(settings: Settings) -> dict[str, Any] | None:
    """The simulator state (parameters, days, counters), or None before the first generate."""
    path = state_path(settings)
    if not path.exists():
        return None
    return json.loads(path.read_text())


def simulated_now(settings: Settings) -> datetime | None:
    """The simulated now (UTC): records up to, not including, this instant exist."""
    state = read_state(settings)
    return datetime.fromisoformat(state["now"]) if state else None


def current_end_date(settings: Settings) -> date | None:
    """The last simulated day (inclusive), or None before the first generate."""
    state = read_state(settings)
    return date.fromisoformat(state["end_date"]) if state else None


def _validate(customers: int, days: int, seed: int, start_date: str, defects: float) -> date:
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ConfigError(f"--customers must be between 1 and {MAX_CUSTOMERS:,}, got {customers}")
    if not 1 <= days <= MAX_DAYS:
        raise ConfigError(f"--days must be between 1 and {MAX_DAYS}, got {days}")
    if seed < 0:
        raise ConfigError(f"--seed must be >= 0, got {seed}")
    if not 0.0 <= defects <= MAX_DEFECT_RATE:
        raise ConfigError(
            f"--defects must be a rate between 0 and {MAX_DEFECT_RATE}, got {defects}"
        )
    try:
        start = date.fromisoformat(start_date)
    except (TypeError, ValueError):
        raise ConfigError(f"--start-date must be YYYY-MM-DD, got {start_date!r}") from None
    if not date(1990, 1, 1) <= start <= date(2100, 1, 1):
        raise ConfigError(
            f"--start-date must be between 1990-01-01 and 2100-01-01, got {start_date}"
        )
    return start


def _drift_days(params: WorldParams) -> dict[str, int | None]:
    """Schema drift (with defects only): a call-log column added, a survey column renamed."""
    if params.defects <= 0:
        return {"calls_added": None, "survey_renamed": None}
    rng = py_rng(params.seed, "drift")
    added = EXPORT_START + rng.randint(5, 20)
    renamed = EXPORT_START + rng.randint(10, 25)
    if renamed == added:
        renamed += 1
    return {"calls_added": added, "survey_renamed": renamed}


def _wipe(settings: Settings) -> bool:
    """Remove a previous generation (the CRM API key stays). Returns True if one existed."""
    src = settings.sources_dir
    existed = (src / "state.json").exists() or (src / "truth").exists()
    (src / "state.json").unlink(missing_ok=True)
    (src / "state.json.broken").unlink(missing_ok=True)
    for sub in ("contact_center", "survey", "truth", "state"):
        shutil.rmtree(src / sub, ignore_errors=True)
    crm = crm_store.crm_dir(settings)
    for name in ("crm.sqlite.tmp",):
        (crm / name).unlink(missing_ok=True)
    return existed


def generate(
    settings: Settings,
    customers: int = 5000,
    days: int = 365,
    seed: int = 42,
    start_date: str = DEFAULT_START,
    defects: float = 0.0,
    mess: MessConfig | None = None,
    shop_database: str | None = SHOP_SOURCE_DB,
    progress: Progress | None = None,
) -> GenerationSummary:
    """Build the four source systems and the ground truth, replacing any previous generation.

    `shop_database=None` skips the shop database (tests of the file and CRM systems only).
    """
    start = _validate(customers, days, seed, start_date, defects)
    params = WorldParams(
        seed=seed,
        customers=customers,
        start_date=start.isoformat(),
        defects=float(defects),
        mess=mess or MessConfig(),
    )
    t0 = time.perf_counter()
    replaced = _wipe(settings)
    src = settings.sources_dir
    (src / "state").mkdir(parents=True, exist_ok=True)
    crm_store.api_key(settings)
    clock = Clock(start - timedelta(days=PRE_DAYS))
    surveys_dir = src / "survey" / "surveys"
    surveys_dir.mkdir(parents=True, exist_ok=True)
    for survey in SURVEYS:
        created = clock.iso_s(clock.origin_ms)
        (surveys_dir / f"{survey.id}.json").write_text(
            json.dumps(survey_definition(survey, created), indent=2) + "\n"
        )
    pop = create_population(params)
    counters = dict.fromkeys(COUNTERS, 0)
    state: dict[str, Any] = {
        "version": STATE_VERSION,
        "params": params.as_json(),
        "origin": clock.origin.isoformat(),
        "days": 0,
        "counters": counters,
        "drift_days": _drift_days(params),
        "shop_database": shop_database,
    }
    _write_clv_params(settings, params)
    return _run(
        settings,
        params,
        state,
        pop,
        [],
        days,
        fresh=True,
        replaced=replaced,
        t0=t0,
        progress=progress,
    )


def advance(
    settings: Settings, days: int = 1, progress: Progress | None = None
) -> GenerationSummary:
    """Move the simulated world forward `days` days from where it stands."""
    if not 1 <= days <= MAX_DAYS:
        raise ConfigError(f"--days must be between 1 and {MAX_DAYS}, got {days}")
    state = read_state(settings)
    if state is None:
        if (settings.sources_dir / "state.json.broken").exists():
            raise CxwError("the last advance failed part-way: run `cxw sources generate` again")
        raise CxwError("no generated sources to advance: run `cxw sources generate` first")
    if state.get("version") != STATE_VERSION:
        raise CxwError(
            "the generated sources come from another simulator version: run `cxw sources generate`"
        )
    t0 = time.perf_counter()
    params = WorldParams.from_json(state["params"])
    src = settings.sources_dir
    pop = Population.load(src / "state" / "population.npz")
    pending = load_pending(src / "state" / "pending.pkl")
    try:
        return _run(
            settings,
            params,
            state,
            pop,
            pending,
            days,
            fresh=False,
            replaced=False,
            t0=t0,
            progress=progress,
        )
    except CxwError:
        raise
    except BaseException as exc:
        if (src / "state.json.broken").exists():
            raise CxwError(
                f"advance failed part-way ({type(exc).__name__}: {exc}); the sources are inconsistent: "
                "run `cxw sources generate` again"
            ) from exc
        raise


def _run(
    settings: Settings,
    params: WorldParams,
    state: dict[str, Any],
    pop: Population,
    pending: list[tuple[Any, ...]],
    add_days: int,
    fresh: bool,
    replaced: bool,
    t0: float,
    progress: Progress | None,
) -> GenerationSummary:
    src = settings.sources_dir
    clock = Clock(date.fromisoformat(state["origin"]))
    counters: dict[str, int] = state["counters"]
    done = int(state["days"])
    day_from = 0 if fresh else EXPORT_START + done
    day_to = EXPORT_START + done + add_days
    shop_db = state["shop_database"]
    shop = ShopSink(settings, shop_db, fresh=fresh) if shop_db else None
    crm = crm_store.CrmSink(settings, fresh=fresh)
    drift = {k: v for k, v in state["drift_days"].items()}
    drops = DropWriter(
        src, clock, params.seed, params.defects, params.mess.out_of_order, drift, counters
    )
    truth = Truth(settings.truth_dir, fresh=fresh)
    router = Router(clock, day_to, EXPORT_START, shop, crm, drops, truth)
    router.current_day = day_from
    if not fresh:  # from here on the files change: a failure must not leave advanceable state
        state_path(settings).replace(src / "state.json.broken")
    try:
        router.load_pending(pending)
        world = World(params, pop, build_catalog(params.seed), counters, router, clock)
        total = day_to - day_from
        for k, day in enumerate(range(day_from, day_to)):
            world.run_day(day)
            router.flush_day(day)
            if progress is not None:
                progress(k + 1, total)
        shop_rows = shop.close() if shop else {}
        crm_objects = crm.close(clock.origin_ms + day_to * DAY_MS)
    except BaseException:
        if shop:
            shop.abort()
        crm.abort()
        raise
    finally:
        truth.close()
    save_pending(src / "state" / "pending.pkl", router.pending)
    pop.save(src / "state" / "population.npz")
    people = _write_persons(settings, pop, clock, day_to)
    now = datetime(clock.origin.year, clock.origin.month, clock.origin.day, tzinfo=UTC) + timedelta(
        days=day_to
    )
    state["days"] = done + add_days
    state["now"] = now.isoformat()
    state["end_date"] = (now - timedelta(days=1)).date().isoformat()
    state["counters"] = counters
    tmp = state_path(settings).with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(state_path(settings))
    (src / "state.json.broken").unlink(missing_ok=True)
    drop_lines = {
        k: v for k, v in router.counts.items() if k.startswith(("contact_center.", "survey."))
    }
    return GenerationSummary(
        seed=params.seed,
        customers=params.customers,
        start_date=params.start_date,
        end_date=state["end_date"],
        now=state["now"],
        days_total=state["days"],
        days_added=add_days,
        replaced_previous=replaced,
        people_acquired=people,
        shop_database=shop_db,
        shop_rows=shop_rows,
        crm_objects=crm_objects,
        drop_lines_added=drop_lines,
        defects_added=router.counts.get("truth.defects", 0),
        elapsed_seconds=round(time.perf_counter() - t0, 2),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )


def _write_persons(settings: Settings, pop: Population, clock: Clock, day_to: int) -> int:
    """Rewrite truth/persons.csv for everyone acquired before the simulated now."""
    from cxw.sources.config import CHANNELS

    path = settings.truth_dir / "persons.csv"
    tmp = path.with_suffix(".tmp")
    n = 0

    def day(t: float) -> str:
        return clock.day_str(clock.day_of(t)) if t < day_to else ""

    with tmp.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            [
                "person_id",
                "first_name",
                "last_name",
                "email",
                "phone",
                "segment",
                "acquisition_channel",
                "acquisition_date",
                "comparison_date",
                "first_purchase_date",
                "churn_date",
                "cx_disposition",
                "cx_label",
            ]
        )
        for i in range(pop.n):
            if pop.acq_t[i] >= day_to:
                continue
            n += 1
            disp = float(pop.disp[i])
            churn = float(pop.churn_t[i])
            w.writerow(
                [
                    person_id(i),
                    first_name(pop, i),
                    last_name(pop, i),
                    canonical_email(pop, i),
                    canonical_phone(pop, i),
                    SEGMENTS[pop.segment[i]],
                    CHANNELS[pop.channel[i]],
                    day(float(pop.acq_t[i])),
                    day(float(pop.cmp_t[i])),
                    day(float(pop.fp_t[i])),
                    day(churn) if pop.n_orders[i] > 0 else "",
                    f"{disp:.3f}",
                    "negative" if disp < -0.5 else "positive" if disp > 0.5 else "neutral",
                ]
            )
    tmp.replace(path)
    return n


def _write_clv_params(settings: Settings, params: WorldParams) -> None:
    settings.truth_dir.mkdir(parents=True, exist_ok=True)
    doc = {
        "model": "BG/NBD purchase process with Gamma-Gamma spend",
        "time_unit": "week",
        "bgnbd": {
            "r": params.clv.r,
            "alpha": params.clv.alpha,
            "a": params.clv.a,
            "b": params.clv.b,
        },
        "gamma_gamma": {"p": params.clv.p, "q": params.clv.q, "v": params.clv.gamma},
        "mean_spend_per_order": params.clv.p * params.clv.gamma / (params.clv.q - 1),
        "monetary_value_column": "shop.orders.subtotal_price",
        "transaction_definition": (
            "one shop order (cancelled ones included); the first order is the trial, repeat orders "
            "follow a Poisson process with rate lambda per week while alive"
        ),
        "cx_churn": params.cx.as_json(),
        "notes": [
            "lambda ~ Gamma(shape=r, rate=alpha) per week; p ~ Beta(a, b); after each repeat order the "
            "customer drops out with probability p (BG/NBD).",
            "Spend per order z ~ Gamma(shape=p, rate=nu), nu ~ Gamma(shape=q, rate=v) (Gamma-Gamma); "
            "z is the order subtotal in dollars (minimum 3.00).",
            "Besides BG/NBD dropout, customers also drop out after bad support experiences and "
            "detractor answers (cx_churn): fitted dropout rates come out higher than a, b imply.",
        ],
        "seed": params.seed,
        "customers": params.customers,
    }
    (settings.truth_dir / "clv_params.json").write_text(json.dumps(doc, indent=2) + "\n")
