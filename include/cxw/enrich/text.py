"""Voice-of-customer text in the warehouse: run the spaCy pipeline over new or changed texts.

Input is the dbt model `staging.stg_voc__texts` (text_id, text_source, body, created_at): survey
comments, ticket comments, chat and call transcripts. A text is (re)analysed when it is new,
when its content hash (sha256 of the text, computed in SQL) changed, or when the pipeline
version changed; everything else is left as it is, so a daily run costs what the new texts cost.
Only redacted text is stored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from cxw.config import Settings
from cxw.errors import CxwError

INPUT_RELATION = "staging.stg_voc__texts"
CHUNK = 2000


def _pending(conn, relation: str, version: str) -> Iterator[tuple[str, str, str, str, Any]]:
    """(text_id, source, body, hash, created_at) of texts to analyse, streamed."""
    with conn.cursor(name="cxw_pending_texts") as cur:
        cur.itersize = CHUNK
        cur.execute(
            f"""select s.text_id, s.text_source, s.body,
                       encode(sha256(convert_to(s.body, 'UTF8')), 'hex') as h, s.created_at
                from {relation} s
                left join enrich.text_insights e on e.text_id = s.text_id
                where s.body is not null and btrim(s.body) <> ''
                  and (e.text_id is null
                       or e.content_hash <> encode(sha256(convert_to(s.body, 'UTF8')), 'hex')
                       or e.pipeline_version <> %s)""",
            (version,),
        )
        yield from cur


def enrich_texts(
    settings: Settings, relation: str = INPUT_RELATION, batch_size: int = 256
) -> dict[str, Any]:
    """Analyse pending texts and upsert `enrich.text_insights`; returns counts and speed."""
    from cxw.enrich.nlp import analyze_records, pipeline_version
    from cxw.warehouse import connect

    started = time.monotonic()
    version = pipeline_version()
    cache = settings.home / "models"
    processed = 0
    with connect(settings) as read, connect(settings, autocommit=True) as write:
        if read.execute("select to_regclass(%s)", (relation,)).fetchone()[0] is None:
            raise CxwError(f"{relation} does not exist: run the dbt staging layer first")
        meta: dict[str, tuple[str, str, Any]] = {}

        def records() -> Iterator[tuple[str, str]]:
            for text_id, source, body, digest, created in _pending(read, relation, version):
                meta[text_id] = (source, digest, created)
                yield text_id, body

        rows: list[tuple] = []
        for text_id, result in analyze_records(records(), batch_size=batch_size, cache_dir=cache):
            source, digest, created = meta.pop(text_id)
            rows.append(
                (
                    text_id,
                    source,
                    digest,
                    result["sentiment"],
                    result["label"],
                    json.dumps(result["aspects"]),
                    result["redacted"],
                    version,
                    created,
                )
            )
            if len(rows) >= CHUNK:
                processed += _upsert(write, rows)
                rows = []
        if rows:
            processed += _upsert(write, rows)
        # texts that left the input (an erased person, a deleted ticket) leave the insights too
        removed = write.execute(
            f"delete from enrich.text_insights t where not exists "
            f"(select 1 from {relation} s where s.text_id = t.text_id)"
        ).rowcount
        total = write.execute("select count(*) from enrich.text_insights").fetchone()[0]
    seconds = time.monotonic() - started
    return {
        "processed": processed,
        "removed": removed,
        "total": total,
        "pipeline_version": version,
        "seconds": round(seconds, 2),
        "texts_per_second": round(processed / seconds, 1) if processed else None,
    }


def _upsert(conn, rows: list[tuple]) -> int:
    with conn.transaction():
        conn.execute(
            "create temp table if not exists _text_batch (like enrich.text_insights "
            "including defaults) on commit delete rows"
        )
        with conn.cursor().copy(
            "copy _text_batch (text_id, text_source, content_hash, sentiment, sentiment_label,"
            " aspects, redacted_text, pipeline_version, text_created_at) from stdin"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        conn.execute(
            """insert into enrich.text_insights (text_id, text_source, content_hash, sentiment,
                   sentiment_label, aspects, redacted_text, pipeline_version, text_created_at,
                   processed_at)
               select text_id, text_source, content_hash, sentiment, sentiment_label, aspects,
                      redacted_text, pipeline_version, text_created_at, now()
               from _text_batch
               on conflict (text_id) do update set
                   text_source = excluded.text_source, content_hash = excluded.content_hash,
                   sentiment = excluded.sentiment, sentiment_label = excluded.sentiment_label,
                   aspects = excluded.aspects, redacted_text = excluded.redacted_text,
                   pipeline_version = excluded.pipeline_version,
                   text_created_at = excluded.text_created_at, processed_at = now()"""
        )
    return len(rows)
