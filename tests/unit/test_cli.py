"""The CLI contract: every verb has --help; user errors are one line and a non-zero exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command

from cxw.cli import app

CXW = [str(Path(sys.executable).parent / "cxw")]


def _leaf_commands(cmd, path=()):
    subs = getattr(cmd, "commands", None)
    if not subs:
        yield path
        return
    for name, sub in subs.items():
        yield from _leaf_commands(sub, (*path, name))


ALL = sorted(_leaf_commands(get_command(app)))


def test_contract_verbs_exist():
    names = {p[0] for p in ALL}
    assert {"warehouse", "run"} <= names
    assert {("warehouse", v) for v in ("start", "stop", "status", "url", "psql")} <= set(ALL)


@pytest.mark.parametrize("path", ALL, ids=lambda p: " ".join(p))
def test_every_verb_has_help(path):
    out = subprocess.run([*CXW, *path, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Usage:" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--date", "yesterday"], "--date must be a date"),
        (
            ["run", "--date", "2026-01-01", "--start", "2026-01-01", "--end", "2026-01-02"],
            "either --date",
        ),
        (["run", "--start", "2026-01-05", "--end", "2026-01-01"], "--end is before --start"),
        (["run", "--start", "2026-01-05"], "go together"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(args, message, tmp_path):
    out = subprocess.run(
        [*CXW, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"CXW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], out.stderr
    assert "Traceback" not in out.stderr


def test_usage_errors_are_reported_without_a_traceback(tmp_path):
    out = subprocess.run(
        [*CXW, "sources", "generate", "--customers", "abc"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"CXW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 2
    assert "Invalid value for '--customers'" in out.stderr
    assert "Traceback" not in out.stderr
