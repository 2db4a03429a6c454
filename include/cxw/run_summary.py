"""The machine-readable summary of a `cxw run` (rows per source table, gates, publish, timings)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cxw.config import Settings


def summarize(
    settings: Settings, started: datetime, results: list, seconds: float
) -> dict[str, Any]:
    from cxw.warehouse import connect

    out: dict[str, Any] = {
        "started_at": started.isoformat(),
        "seconds": round(seconds, 1),
        "dag_runs": [
            {
                "dag_id": r.dag_id,
                "logical_date": r.logical_date,
                "data_day": r.data_day,
                "state": r.state,
                "seconds": round(r.seconds, 1),
                "failed_tasks": r.failed_tasks,
            }
            for r in results
        ],
        "tables": [],
        "quality": [],
        "published": False,
    }
    with connect(settings) as conn:
        rows = conn.execute(
            """select source, stream, count(*) as batches, sum(records_seen), sum(records_loaded),
                      sum(records_rejected), sum(records_unchanged)
               from cxw_meta.batches where started_at >= %s and status = 'committed'
               group by 1, 2 order by 1, 2""",
            (started,),
        ).fetchall()
        out["tables"] = [
            {
                "source": r[0],
                "table": f"raw_{r[0]}.{r[1]}",
                "batches": r[2],
                "extracted": int(r[3] or 0),
                "loaded": int(r[4] or 0),
                "rejected": int(r[5] or 0),
                "unchanged": int(r[6] or 0),
            }
            for r in rows
        ]
        failed = conn.execute(
            """select message from cxw_meta.batches where started_at >= %s and status = 'failed'
               order by started_at desc limit 1""",
            (started,),
        ).fetchone()
        if failed:
            out["failure_reason"] = failed[0]
        q = conn.execute(
            """select checkpoint, suite, count(*), count(*) filter (where success),
                      count(*) filter (where not success)
               from cxw_meta.quality_results where created_at >= %s group by 1, 2 order by 1, 2""",
            (started,),
        ).fetchall()
        out["quality"] = [
            {
                "checkpoint": r[0],
                "suite": r[1],
                "expectations": r[2],
                "passed": r[3],
                "failed": r[4],
            }
            for r in q
        ]
        pub = conn.execute(
            "select build_id, published_at, row_counts from cxw_meta.publish_log "
            "where published_at >= %s and status = 'published' order by published_at desc limit 1",
            (started,),
        ).fetchone()
        if pub:
            out["published"] = True
            out["publish"] = {
                "build_id": pub[0],
                "published_at": pub[1].isoformat(),
                "row_counts": pub[2],
            }
    return out
