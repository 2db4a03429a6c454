"""Contact-center drops: the telephony call log (CSV) and help-desk tickets (JSONL)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from cxw.extract.drops import DropExtractor, SchemaDriftError, read_lines
from cxw.extract.spec import StreamSpec
from cxw.extract.streams import CONTACT_CENTER


class ContactCenterExtractor(DropExtractor):
    source = "contact_center"

    def streams(self) -> tuple[StreamSpec, ...]:
        return CONTACT_CENTER

    def pattern(self, spec: StreamSpec) -> str:
        return "calls.csv" if spec.stream == "calls" else "tickets.jsonl"

    def records(
        self, spec: StreamSpec, since: datetime | None, until: datetime
    ) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for path, _ in self.files(spec):
            if spec.stream == "calls":
                yield from self._calls(spec, path)
            else:
                yield from self._tickets(path)

    def _calls(self, spec: StreamSpec, path) -> Iterator[tuple[str, Mapping[str, Any]]]:
        lines = read_lines(path)
        first = next(lines, None)
        if first is None:
            return
        header = next(csv.reader([first[1]]))
        missing = spec.missing_required(header)
        if missing:
            raise SchemaDriftError(
                f"{self.locator(path, 1)}: required column {missing[0]!r} is missing from the header"
            )
        width = len(header)
        for n, line in lines:
            if not line:
                continue
            try:
                row = next(csv.reader([line], strict=True))
            except csv.Error as exc:
                yield self.locator(path, n), {"_reject": f"malformed line: {exc}", "_raw": line}
                continue
            if len(row) != width:
                yield (
                    self.locator(path, n),
                    {
                        "_reject": f"malformed line: {len(row)} fields, header has {width}",
                        "_raw": line,
                    },
                )
                continue
            yield self.locator(path, n), dict(zip(header, row, strict=True))

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
