"""Contact-center drops: the telephony call log (CSV) and help-desk tickets (JSONL)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from cxw.extract.drops import DropExtractor, read_lines
from cxw.extract.spec import StreamSpec
from cxw.extract.streams import CONTACT_CENTER
from cxw.load.copy import CsvFile


class ContactCenterExtractor(DropExtractor):
    source = "contact_center"

    def streams(self) -> tuple[StreamSpec, ...]:
        return CONTACT_CENTER

    def pattern(self, spec: StreamSpec) -> str:
        return "calls.csv" if spec.stream == "calls" else "tickets.jsonl"

    def csv_files(self, spec: StreamSpec) -> list[CsvFile] | None:
        """The call logs as files the loader may COPY as they are (None for tickets)."""
        if spec.stream != "calls":
            return None
        return [
            CsvFile(path, path.relative_to(self.root).as_posix()) for path, _ in self.files(spec)
        ]

    def records(
        self, spec: StreamSpec, since: datetime | None, until: datetime
    ) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for path, _ in self.files(spec):
            if spec.stream == "calls":
                yield from self._calls(spec, path)
            else:
                yield from self._tickets(path)

    def _calls(self, spec: StreamSpec, path) -> Iterator[tuple[str, Mapping[str, Any]]]:
        header, rows = self.csv_rows(spec, path, first_data_line=2)
        for loc, row in rows:
            yield loc, row if isinstance(row, dict) else dict(zip(header, row, strict=True))

    def _tickets(self, path) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for n, line in read_lines(path):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                yield (
                    self.locator(path, n),
                    {"_reject": f"malformed line: not JSON ({exc.msg})", "_raw": line},
                )
                continue
            if not isinstance(obj, dict):
                yield (
                    self.locator(path, n),
                    {"_reject": "malformed line: not a JSON object", "_raw": line},
                )
                continue
            requester = obj.get("requester") or {}
            if isinstance(requester, dict):
                obj["requester_email"] = requester.get("email")
                obj["requester_phone"] = requester.get("phone")
            yield self.locator(path, n), obj


def extractor(settings) -> ContactCenterExtractor:
    return ContactCenterExtractor(settings)
