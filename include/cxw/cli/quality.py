"""`cxw quality [--open]`: build the GX data docs and print where they are."""

from __future__ import annotations

import typer

from cxw.config import get_settings
from cxw.log import console


def quality(
    open_: bool = typer.Option(False, "--open", help="open the data docs in a web browser"),
) -> None:
    """Build the GX data docs (suites and validation results) and print their path.

    Validation pages are written by every gate run (the checkpoints' UpdateDataDocsAction);
    this renders the suite pages and the index, so it stays fast however many runs exist.
    """
    from cxw.quality.context import DATA_DOCS_SITE, data_docs_dir, get_context

    settings = get_settings()
    with console.status("building the GX data docs..."):
        context = get_context(settings)
        suites = list(context.expectations_store.list_keys())
        context.build_data_docs(site_names=[DATA_DOCS_SITE], resource_identifiers=suites)
    index = data_docs_dir(settings) / "index.html"
    console.print(str(index))
    if open_:
        import webbrowser

        webbrowser.open(index.as_uri())


def register(app: typer.Typer) -> None:
    app.command("quality")(quality)
