"""`cxw airflow standalone`: the real Airflow UI and scheduler on this project."""

from __future__ import annotations

import time

import typer

from cxw.config import get_settings
from cxw.log import console

app = typer.Typer(help="Real Airflow on this project's dags/ and plugins/.", no_args_is_help=True)


@app.command()
def standalone() -> None:
    """Start api-server, scheduler, dag-processor and triggerer; Ctrl-C stops them."""
    from cxw.airflow_stack import ADMIN_USER, AirflowStack, admin_password

    settings = get_settings()
    stack = AirflowStack(settings)
    with console.status("starting Airflow (api-server, scheduler, dag-processor, triggerer)..."):
        stack.start()
    console.print(
        f"[green]Airflow is up[/] at {stack.base_url}  login: {ADMIN_USER} / {admin_password(settings)}\n"
        f"logs: {settings.logs_dir}/airflow-*.log  (Ctrl-C to stop)"
    )
    try:
        while all(p.poll() is None for p in stack.procs.values()):
            time.sleep(1)
        console.print("[red]an Airflow component exited; stopping[/]")
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        console.print("Airflow stopped")
