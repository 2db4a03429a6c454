"""Daily file drops (`<root>/<source>/YYYY-MM-DD/`): the day is the incremental cursor.

A drop folder is processed once, in date order; a file whose content hash was already loaded
(a re-delivery) is skipped whole. Files are read line by line (never whole in memory); a line
that cannot be parsed is quarantined with its raw text, and loading goes on. The files a batch
covered are recorded in `cxw_meta.delivered_files` in the batch's own transaction.
"""

from __future__ import annotations

import csv
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import psycopg

from cxw.config import Settings
from cxw.errors import DataQualityError
from cxw.extract.spec import StreamSpec


class SchemaDriftError(DataQualityError):
    """A file lacks a column the pipeline requires: the batch fails, naming the column."""


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class DropExtractor(ABC):
    """Base for sources that deliver daily folders of files."""

    source = ""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.drops_root
        self.base = self.root / self.source
        self._files: dict[str, list[tuple[Path, str]]] = {}
        from cxw.warehouse import connect

        self.meta = connect(settings, autocommit=True)

    def close(self) -> None:
        self.meta.close()

    def days(self, since: datetime | None, until: datetime) -> list[tuple[date, Path]]:
        """Drop folders with since.date() <= day < until.date() (all up to until when since is None)."""
        if not self.base.is_dir():
            return []
        out = []
        for folder in self.base.iterdir():
            try:
                day = date.fromisoformat(folder.name)
            except ValueError:
                continue
            if day < until.date() and (since is None or day >= since.date()):
                out.append((day, folder))
        return sorted(out)

    @abstractmethod
    def pattern(self, spec: StreamSpec) -> str:
        """The glob of this stream's files inside a day folder."""

    def plan(
        self, spec: StreamSpec, since: datetime | None, until: datetime
    ) -> list[tuple[Path, str]]:
        """The files this batch will read: new content only (re-deliveries are skipped).

        Files recorded by an earlier run of this same interval do not count as delivered: that
        batch is about to be replaced, and its files are read again.
        """
        delivered = {
            r[0]
            for r in self.meta.execute(
                """select d.content_hash from cxw_meta.delivered_files d
                   join cxw_meta.batches b using (batch_id)
                   where d.source = %s and not (b.status = 'committed' and b.interval_end = %s)""",
                (f"{self.source}.{spec.stream}", until),
            )
        }
        files = []
        for _, folder in self.days(since, until):
            for path in sorted(folder.glob(self.pattern(spec))):
                digest = file_hash(path)
                if digest not in delivered:
                    files.append((path, digest))
                    delivered.add(digest)
        self._files[spec.stream] = files
        return files

    def content_hash(self, spec: StreamSpec, since: datetime | None, until: datetime) -> str | None:
        files = self.plan(spec, since, until)
        if not files:
            return None
        return hashlib.sha256("".join(h for _, h in files).encode()).hexdigest()

    def locator(self, path: Path, line: int) -> str:
        return f"{path.relative_to(self.root).as_posix()}:line {line}"

    def commit_hook(self, spec: StreamSpec) -> Callable[[psycopg.Connection, str], None]:
        files = list(self._files.get(spec.stream, []))

        def record(conn: psycopg.Connection, batch_id: str) -> None:
            for path, digest in files:
                conn.execute(
                    "insert into cxw_meta.delivered_files (source, content_hash, path, batch_id) "
                    "values (%s, %s, %s, %s) on conflict do nothing",
                    (
                        f"{self.source}.{spec.stream}",
                        digest,
                        str(path.relative_to(self.root)),
                        batch_id,
                    ),
                )

        return record

    def files(self, spec: StreamSpec) -> list[tuple[Path, str]]:
        return self._files.get(spec.stream, [])

    def csv_rows(
        self, spec: StreamSpec, path: Path, first_data_line: int = 2
    ) -> tuple[list[str], Iterator[tuple[str, list[str] | dict[str, str]]]]:
        """The header, and (locator, fields) per data line; a line that does not parse to the
        header's width comes as a reject record instead. A header without a required column
        fails the batch (SchemaDriftError), naming the column."""
        lines = read_lines(path)
        first = next(lines, None)
        if first is None:
            return [], iter(())
        header = next(csv.reader([first[1]]))
        missing = spec.missing_required(header)
        if missing:
            raise SchemaDriftError(
                f"{self.locator(path, 1)}: required column {missing[0]!r} is missing from the header"
            )
        width = len(header)

        def rows() -> Iterator[tuple[str, list[str] | dict[str, str]]]:
            for n, line in lines:
                if n < first_data_line or not line:
                    continue
                loc = self.locator(path, n)
                try:
                    row = next(csv.reader([line], strict=True))
                except csv.Error as exc:
                    yield loc, {"_reject": f"malformed line: {exc}", "_raw": line}
                    continue
                if len(row) != width:
                    reason = f"malformed line: {len(row)} fields, header has {width}"
                    yield loc, {"_reject": reason, "_raw": line}
                    continue
                yield loc, row

        return header, rows()


def read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based physical line number, line without its newline), streamed."""
    with path.open("r", encoding="utf-8", newline="") as fh:
        for n, line in enumerate(fh, start=1):
            yield n, line.rstrip("\r\n")
