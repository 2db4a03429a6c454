"""End to end: simulated sources -> Airflow DAGs (dag.test) -> raw -> dbt -> enrichment -> GX
gate -> published `analytics` -> BI reads and the executive report.

Known answers come from outside the code under test: the simulator's truth files, a pandas
recomputation from raw rows, and pattern scans of what BI can read.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pandas as pd
import psycopg
import pytest

MARTS = {
    "dim_customer_360",
    "bridge_customer_identity",
    "fct_orders",
    "fct_tickets",
    "fct_calls",
    "fct_survey_responses",
    "fct_touchpoints",
    "mart_customer_journey",
    "mart_journey_funnel",
    "mart_retention_cohorts",
    "mart_customer_ltv",
    "mart_voc_daily",
    "mart_contact_center_daily",
    "mart_text_insights",
    "mart_cx_impact",
}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[a-z]{2,}", re.I)
# a phone number standing on its own (not digits inside a hash or an id)
PHONE = re.compile(r"(?<![\w+])(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?![\w])")


@pytest.fixture(scope="module")
def published(warehouse):
    """Initial sync of a 2,000-customer, 90-day world, then one incremental day."""
    from cxw.cli.demo import reset_warehouse
    from cxw.cli.pipeline import run_pipeline
    from cxw.sources import advance, current_end_date, generate

    reset_warehouse(warehouse)
    generate(warehouse, customers=2000, days=90, seed=21)
    end = current_end_date(warehouse)
    first = run_pipeline(end, end, quiet=True)
    assert first["succeeded"], first
    advance(warehouse, days=1)
    second = run_pipeline(end + timedelta(days=1), end + timedelta(days=1), quiet=True)
    assert second["succeeded"], second
    return {"settings": warehouse, "end": end + timedelta(days=1), "runs": [first, second]}


def bi_connect(settings):
    return psycopg.connect(settings.role_url("cxw_bi_reader").replace("+psycopg", ""))


def test_run_summary_is_machine_readable(published):
    first, second = published["runs"]
    assert first["published"] and second["published"]
    tables = {t["table"]: t for t in first["tables"]}
    assert tables["raw_shop.orders"]["loaded"] > 0
    for t in first["tables"] + second["tables"]:
        assert t["extracted"] == t["loaded"] + t["rejected"] + t["unchanged"]
    assert {q["checkpoint"] for q in first["quality"]} >= {"raw_crm", "analytics_candidate"}


def test_every_mart_is_published(published, conn):
    tables = {
        r[0]
        for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'analytics'"
        )
    }
    assert tables >= MARTS
    for mart in MARTS:
        n = conn.execute(f"select count(*) from analytics.{mart}").fetchone()[0]
        assert n > 0, f"analytics.{mart} is empty"
    logs = conn.execute("select count(*) from cxw_meta.publish_log where status = 'published'")
    assert logs.fetchone()[0] >= 2


def test_identity_resolution_against_truth(published, conn):
    settings = published["settings"]
    bridge = pd.DataFrame(
        conn.execute(
            "select source, source_record_id, customer_key from analytics.bridge_customer_identity"
        ).fetchall(),
        columns=["source", "source_record_id", "customer_key"],
    )
    assert not bridge.duplicated(["source", "source_record_id"]).any()
    truth = pd.read_csv(settings.truth_dir / "identity_links.csv", dtype=str)
    merged = truth.merge(bridge, on=["source", "source_record_id"], how="inner")
    assert len(merged) >= 0.99 * len(truth)

    def pairs(groups: pd.Series) -> int:
        n = groups.value_counts()
        return int((n * (n - 1) // 2).sum())

    together = pairs(merged["customer_key"] + "|" + merged["person_id"])
    predicted = pairs(merged["customer_key"])
    actual = pairs(merged["person_id"])
    precision, recall = together / predicted, together / actual
    print(f"\nidentity: precision {precision:.4f}, recall {recall:.4f} over {len(merged)} records")
    assert precision >= 0.995 and recall >= 0.98


def test_nps_recomputed_from_raw_rows_equals_the_mart(published, conn):
    """pandas over raw survey rows: the NPS survey's QID1, latest row per response, by UTC day."""
    raw = pd.DataFrame(
        conn.execute(
            "select response_id, survey_id, recorded_date, answers->>'QID1' as q1 "
            "from raw_survey.responses"
        ).fetchall(),
        columns=["response_id", "survey_id", "recorded_date", "q1"],
    ).drop_duplicates("response_id")
    nps = raw[(raw.survey_id == "SV_3KpR7nT2xQ9mWzA") & raw.q1.notna()].copy()
    nps["score"] = nps.q1.astype(float)
    nps["day"] = pd.to_datetime(nps.recorded_date, utc=True).dt.date
    expected = nps.groupby("day").agg(
        promoters=("score", lambda s: int((s >= 9).sum())),
        detractors=("score", lambda s: int((s <= 6).sum())),
        responses=("score", "size"),
    )
    mart = pd.DataFrame(
        conn.execute(
            "select response_date, sum(promoters), sum(detractors), sum(nps_responses) "
            "from analytics.mart_voc_daily group by 1 having sum(nps_responses) > 0"
        ).fetchall(),
        columns=["day", "promoters", "detractors", "responses"],
    ).set_index("day")
    assert len(expected) > 10
    assert expected.astype(int).sort_index().equals(mart.astype(int).sort_index())
    overall = (
        100 * (expected.promoters.sum() - expected.detractors.sum()) / expected.responses.sum()
    )
    assert -100 <= overall <= 100


def test_bi_reader_reads_analytics_and_nothing_else(published):
    with bi_connect(published["settings"]) as bi:
        assert bi.execute("select count(*) from analytics.dim_customer_360").fetchone()[0] > 0
        for relation in (
            "raw_shop.orders",
            "staging.stg_shop__orders",
            "enrich.text_insights",
            "cxw_meta.batches",
            "analytics_candidate.dim_customer_360",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), bi.transaction():
                bi.execute(f"select 1 from {relation} limit 1")


def test_no_email_or_phone_pattern_in_any_text_column_of_analytics(published, conn):
    cols = conn.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'analytics' and data_type in ('text', 'character varying', 'jsonb')"
    ).fetchall()
    assert cols
    for table, column in cols:
        values = conn.execute(
            f'select "{column}"::text from analytics."{table}" where "{column}" is not null'
        ).fetchall()
        for (value,) in values:
            assert not EMAIL.search(value), f"e-mail in analytics.{table}.{column}: {value[:80]}"
            if column.endswith(("_masked", "_hash")) or column in ("customer_key",):
                continue
            assert not PHONE.search(value), f"phone in analytics.{table}.{column}: {value[:80]}"


def test_every_dashboard_chart_runs_against_analytics(published):
    from cxw.bi.spec import load_spec
    from cxw.report import OPTIONAL

    spec = load_spec()
    with bi_connect(published["settings"]) as bi:
        for dash in spec.dashboards:
            for chart in dash.charts:
                with bi.transaction():
                    cur = bi.execute(OPTIONAL.sub("", chart.sql))
                    names = {d.name for d in cur.description}
                    rows = cur.fetchall()
                wanted = set(chart.y if isinstance(chart.y, list) else [chart.y]) | (
                    {chart.x} if chart.x else set()
                )
                assert wanted - {None} <= names, f"{chart.id}: missing {wanted - names}"
                assert rows, f"{chart.id} returned no rows"


def test_report_draws_every_chart_in_a_real_browser(published, chromium):
    from cxw.bi.spec import load_spec
    from cxw.report import write_report

    settings = published["settings"]
    path = write_report(settings)
    charts = [c.id for d in load_spec().dashboards for c in d.charts]
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    fetched: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: fetched.append(r.url))
        page.goto(path.as_uri())
        page.wait_for_function(
            f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {len(charts)}",
            timeout=60_000,
        )
        drawn = page.evaluate(
            "Array.from(document.querySelectorAll('.card')).filter("
            "c => c.querySelector('.js-plotly-plot .main-svg')).map(c => c.dataset.chart)"
        )
        shot = settings.report_dir / "screenshot.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert sorted(drawn) == sorted(charts)
    assert errors == []
    # self-contained: the page fetched nothing but itself (works offline, no CDN)
    assert [u for u in fetched if not u.startswith(("file://", "data:"))] == []
    assert shot.stat().st_size > 50_000
    print(f"\nreport screenshot: {shot}")


def test_erasure_removes_a_person_everywhere_and_they_stay_gone(published, conn):
    from cxw.cli.pipeline import run_pipeline
    from cxw.privacy.erase import find_person, rebuild_and_publish, suppress_and_delete
    from cxw.sources import advance

    settings = published["settings"]
    persons = pd.read_csv(settings.truth_dir / "persons.csv", dtype=str)
    links = pd.read_csv(settings.truth_dir / "identity_links.csv", dtype=str)
    buyers = persons[persons.first_purchase_date.notna() & persons.email.notna()]
    counts = links.groupby("person_id").size()
    person = buyers.assign(n=buyers.person_id.map(counts)).sort_values("n").iloc[-1]
    email, phone = person.email, person.phone
    found = find_person({"email": email}, settings)
    deleted = suppress_and_delete(found, settings)
    rebuild_and_publish(deleted, {"run_id": "test-erase"}, settings)

    def leftovers() -> list[str]:
        needles = {email.lower(), phone, phone[-10:]}
        hits = []
        cols = conn.execute(
            "select table_schema, table_name, column_name from information_schema.columns c "
            "join information_schema.tables t using (table_schema, table_name) "
            "where t.table_type = 'BASE TABLE' and table_schema not in "
            "('pg_catalog', 'information_schema') and data_type in ('text', 'jsonb')"
        ).fetchall()
        for schema, table, column in cols:
            n = conn.execute(
                f'select count(*) from "{schema}"."{table}" where lower("{column}"::text) like any(%s)',
                ([f"%{x}%" for x in needles],),
            ).fetchone()[0]
            if n:
                hits.append(f"{schema}.{table}.{column}: {n}")
        conn.commit()
        return hits

    assert leftovers() == []
    keys = found["customer_keys"]
    assert (
        conn.execute(
            "select count(*) from analytics.dim_customer_360 where customer_key = any(%s)", (keys,)
        ).fetchone()[0]
        == 0
    )
    log = conn.execute("select identifier_hash, completed_at from cxw_meta.erasure_log").fetchall()
    assert log and all(email not in json.dumps(str(r)) for r in log) and log[-1][1] is not None
    conn.commit()
    # the next daily run must not bring them back
    advance(settings, days=1)
    day = published["end"] + timedelta(days=1)
    assert run_pipeline(day, day, quiet=True)["succeeded"]
    assert leftovers() == []


def test_full_refresh_gives_the_same_marts_as_incremental_runs(published, conn):
    """Rebuild every layer from scratch into analytics_candidate and compare with what the
    incremental runs published, mart by mart (row checksums)."""
    from cxw.transform import build_layer

    settings = published["settings"]
    for layer in ("staging", "intermediate", "marts"):
        build_layer(settings, layer, full_refresh=True)

    def checksum(schema: str, table: str) -> tuple[int, str]:
        cols = [
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s "
                "and table_name = %s and column_name not in ('assignment_updated_at', '_cxw_loaded_at') "
                "order by column_name",
                (schema, table),
            )
        ]
        row_expr = "concat_ws('|', " + ", ".join(f'"{c}"::text' for c in cols) + ")"
        return conn.execute(
            f"select count(*), md5(coalesce(string_agg(r, ',' order by r), '')) "
            f'from (select {row_expr} as r from "{schema}"."{table}") t'
        ).fetchone()

    different = [
        m for m in sorted(MARTS) if checksum("analytics", m) != checksum("analytics_candidate", m)
    ]
    conn.commit()
    assert different == []


def test_planted_defects_fail_the_gate_and_leave_analytics_byte_for_byte(published, conn):
    """A duplicated customer_key and a negative revenue in the candidate: the real mart gate
    fails naming them, publish refuses, and every published mart keeps its exact checksum."""
    from cxw.errors import DataQualityError
    from cxw.publish import publish_candidate
    from cxw.quality.gates import run_mart_gate
    from cxw.transform import build_layer

    settings = published["settings"]
    build_layer(settings, "marts")

    def checksums() -> dict[str, str]:
        return {
            m: conn.execute(
                f"select md5(coalesce(string_agg(t::text, ',' order by t::text), '')) from analytics.{m} t"
            ).fetchone()[0]
            for m in sorted(MARTS)
        }

    before = checksums()
    conn.execute(
        "insert into analytics_candidate.dim_customer_360 "
        "select * from analytics_candidate.dim_customer_360 limit 1"
    )
    conn.execute(
        "update analytics_candidate.fct_orders set net_revenue = -50 "
        "where order_id = (select min(order_id) from analytics_candidate.fct_orders)"
    )
    conn.commit()
    gate = run_mart_gate(settings, run_id="test-planted-defects")
    assert not gate["success"]
    assert "dim_customer_360 expect_column_values_to_be_unique(customer_key)" in gate["message"]
    assert "fct_orders" in gate["message"]
    with pytest.raises(DataQualityError, match="rejected by the mart gate"):
        publish_candidate(settings, gate, build_id="test-planted-defects")
    assert checksums() == before
