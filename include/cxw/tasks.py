"""Task bodies for the DAGs: each a transaction keyed on the run's data window.

DAG files call these inside `@task` functions, so heavy imports stay out of DAG parsing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from cxw.config import get_settings
from cxw.errors import DataQualityError
from cxw.orchestration import window_from_context


def _verdict(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """A failed quality check is a verdict, not a glitch: fail the task without retries."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return fn(*args, **kwargs)
        except DataQualityError as exc:
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(str(exc)) from exc

    return wrapper


@_verdict
def extract_load_source(source: str, context: dict[str, Any]) -> dict[str, Any]:
    """Extract one source for the run's window and COPY it into `raw_<source>`."""
    from cxw.extract.run import run_source

    return run_source(get_settings(), source, window_from_context(context))


@_verdict
def raw_quality_gate(
    source: str, summary: dict[str, Any], context: dict[str, Any]
) -> dict[str, Any]:
    """Run the source's raw GX checkpoint over the batches just loaded."""
    from cxw.quality.gates import run_raw_gate

    return run_raw_gate(get_settings(), source, summary, run_id=str(context.get("run_id")))


def enrich_text(context: dict[str, Any]) -> dict[str, Any]:
    from cxw.enrich.text import enrich_texts

    return enrich_texts(get_settings())


def resolve_identities(context: dict[str, Any]) -> dict[str, Any]:
    from cxw.enrich.identity import resolve_identities as run

    return run(get_settings())


def enrich_clv(context: dict[str, Any]) -> dict[str, Any]:
    from cxw.enrich.predict import predict_clv

    return predict_clv(get_settings(), as_of=window_from_context(context).end)


def mart_quality_gate(context: dict[str, Any]) -> dict[str, Any]:
    from cxw.quality.gates import run_mart_gate

    return run_mart_gate(get_settings(), run_id=str(context.get("run_id")))


@_verdict
def publish(gate: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    from cxw.publish import publish_candidate

    return publish_candidate(get_settings(), gate, build_id=str(context.get("run_id")))
