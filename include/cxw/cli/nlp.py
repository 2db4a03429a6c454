"""`cxw nlp ...`: try the voice-of-customer text pipeline on any text.

spaCy and scikit-learn are imported inside the commands, so `cxw --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

app = typer.Typer(
    help="Voice-of-customer text: PII redaction, sentiment and aspect topics.",
    no_args_is_help=True,
)


@app.callback()
def _group() -> None:
    """Voice-of-customer text: PII redaction, sentiment and aspect topics."""


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _open_input(file: str) -> TextIO:
    """stdin for '-', else the file; undecodable bytes become U+FFFD instead of failing."""
    if file == "-":
        import click

        return click.get_text_stream("stdin", encoding="utf-8", errors="replace")
    path = Path(file)
    if not path.exists():
        raise _fail(f"no such file: {file}")
    if path.is_dir():
        raise _fail(f"is a directory, not a file: {file}")
    try:
        return open(path, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror or exc}") from None


def _lines(stream: TextIO) -> Iterator[str]:
    """One text per line, read lazily (the file is never loaded whole)."""
    for line in stream:
        yield line.rstrip("\r\n")


@app.command()
def analyze(
    file: Annotated[
        str, typer.Argument(help="Text file with one text per line; '-' (default) is stdin.")
    ] = "-",
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Texts per spaCy batch.")
    ] = 64,
    cache_dir: Annotated[
        Path | None,
        typer.Option("--cache-dir", help="Where the fitted sentiment model is cached."),
    ] = None,
) -> None:
    """Analyse each input line; print one JSON object per line, in input order.

    Keys: sentiment (-1..1), label (positive/neutral/negative), aspects
    ([{topic, sentiment, mentions}]) and redacted (the text with PII replaced).
    """
    stream = _open_input(file)
    try:
        from cxw.enrich.nlp import analyze_texts

        out = sys.stdout
        for result in analyze_texts(_lines(stream), batch_size=batch_size, cache_dir=cache_dir):
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    except BrokenPipeError:
        sys.stderr.close()  # e.g. `| head`: stop quietly
    except KeyboardInterrupt:
        raise _fail("interrupted", 130) from None
    except Exception as exc:  # one line for users, never a traceback
        raise _fail(f"{type(exc).__name__}: {exc}", 1) from None
    finally:
        if stream is not sys.stdin and file != "-":
            stream.close()


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2))


@app.command()
def evaluate(
    datasets_dir: Annotated[
        Path, typer.Argument(help="Folder with sentiment/{amazon,imdb,yelp} labelled files.")
    ],
) -> None:
    """Leave-one-domain-out accuracy and macro-F1 of the sentiment model, per domain."""
    if not datasets_dir.is_dir():
        raise _fail(f"no such directory: {datasets_dir}")
    from cxw.enrich.nlp import evaluate_domains

    try:
        _print_json(evaluate_domains(datasets_dir))
    except (FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from None


@app.command()
def bench(
    n_texts: Annotated[int, typer.Option("--n-texts", min=1, help="Comments to generate.")] = 10000,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 256,
) -> None:
    """Texts per second of the pipeline on generated customer comments."""
    from cxw.enrich.nlp import bench_nlp

    _print_json(bench_nlp(n_texts=n_texts, batch_size=batch_size))
