"""Builders for the project's DAGs, so each file in dags/ is a thin, readable declaration.

Imported by Airflow's DAG processor: keep it cheap (task code is imported inside tasks).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from cxw.orchestration import DEFAULT_ARGS, START_DATE, TAGS, raw_asset_uri

EXTRACT_DOC = """
### {dag_id}

Daily extract of {title} into `raw_{source}`.

1. **extract_load**: the first run is the initial sync (all history up to the interval's end);
   later runs take what changed since the watermark. Rows are COPY-streamed in one batch
   transaction per stream; bad records go to `cxw_meta.rejected_rows` with their reason.
2. **raw_quality_gate**: the GX checkpoint for this source's raw suites; on failure the run
   fails naming the expectation, and `cx_transform` does not run on this data.

Emits the Asset `raw_{source}`. Re-running an interval replaces its batch (idempotent).
"""


def raw_asset(source: str) -> Asset:
    return Asset(name=f"raw_{source}", uri=raw_asset_uri(source))


def build_extract_dag(source: str, title: str):
    """`cx_extract_<source>`: extract -> load -> raw quality gate, emitting `raw_<source>`."""
    dag_id = f"cx_extract_{source}"

    @dag(
        dag_id=dag_id,
        # a run at midnight covers the day that just ended: data interval [D, D+1), run at D+1
        # (manual runs and `cxw run --date D` get the same interval)
        schedule=CronTriggerTimetable("0 0 * * *", timezone="UTC", interval=timedelta(days=1)),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=[*TAGS, "extract", source],
        doc_md=EXTRACT_DOC.format(dag_id=dag_id, title=title, source=source),
    )
    def extract_dag():
        @task
        def extract_load(**context) -> dict:
            from cxw.tasks import extract_load_source

            return extract_load_source(source, context)

        @task(outlets=[raw_asset(source)])
        def raw_quality_gate(summary: dict, **context) -> dict:
            from cxw.tasks import raw_quality_gate as gate

            return gate(source, summary, context)

        raw_quality_gate(extract_load())

    return extract_dag()


def dbt_layer(task_id: str, layer: str):
    """A Cosmos task that runs `dbt build` for one layer of the project (one dbt invocation
    per layer, not per model: see DECISIONLOG.md)."""
    from cosmos import settings as cosmos_settings
    from cosmos.config import ProfileConfig
    from cosmos.operators.local import DbtBuildLocalOperator

    from cxw.config import PROJECT_ROOT
    from cxw.transform import LAYERS

    class CxwDbtBuild(DbtBuildLocalOperator):
        """dbt reads the warehouse from CXW_DBT_* variables, set from cxw.config at run time
        (not at parse time: that would read secrets while Airflow parses DAG files)."""

        def execute(self, context, **kwargs):
            import os

            from cxw.config import get_settings

            settings = get_settings()
            os.environ.update(settings.dbt_env())
            # Cosmos runs dbt in a fresh copy of the project; given a cache dir it carries
            # dbt's partial-parse file from one invocation to the next (the three layers share
            # one per warehouse home), which saves a full parse (about 6 s) per layer. dbt
            # re-parses in full whenever the project, its variables or the profile changed.
            if cosmos_settings.enable_cache:
                self.cache_dir = settings.home / "cosmos_dbt"
                (self.cache_dir / "target").mkdir(parents=True, exist_ok=True)
            return super().execute(context, **kwargs)

        def calculate_openlineage_events_completes(self, *args, **kwargs) -> bool:
            """No OpenLineage backend here: skip parsing dbt artifacts into lineage events (it
            only costs time and logs a warning per snapshot test)."""
            return False

    project = PROJECT_ROOT / "dbt_project"
    return CxwDbtBuild(
        task_id=task_id,
        project_dir=str(project),
        profile_config=ProfileConfig(
            profile_name="cxw", target_name="dev", profiles_yml_filepath=project / "profiles.yml"
        ),
        select=LAYERS[layer],
        indirect_selection="buildable",
        dbt_executable_path=str(_dbt_executable()),
        install_deps=False,
        partial_parse=True,
        append_env=True,
        emit_datasets=False,
        retries=0,
    )


def _dbt_executable():
    import shutil
    import sys
    from pathlib import Path

    beside = Path(sys.executable).parent / "dbt"
    return beside if beside.exists() else Path(shutil.which("dbt") or "dbt")
