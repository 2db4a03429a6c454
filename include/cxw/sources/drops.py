"""Daily file drops: the contact center (calls.csv, tickets.jsonl) and survey exports.

A drop day's files hold that day's records plus late and re-sent ones; the writer puts lines in
time order, moves a few out of order, injects invalid lines at the `--defects` rate and applies
schema drift from its day on. It returns the defects it injected (with their locators).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cxw.sources import defects as dfx
from cxw.sources.util import Clock, py_rng, response_id

CALL_COLUMNS = [
    "call_id",
    "caller_phone",
    "queue",
    "agent_id",
    "offered_at",
    "answered_at",
    "ended_at",
    "hold_seconds",
    "wrap_seconds",
    "abandoned",
    "transferred",
    "ticket_id",
]
CALL_DRIFT_COLUMN = "recording_url"  # appended from the drift day on (when defects > 0)
QUEUES = ("orders", "billing", "returns", "technical", "sales")
SHOP_NAME = "Northwind Goods"

SURVEY_META = [
    ("StartDate", "Start Date", '{"ImportId":"startDate","timeZone":"UTC"}'),
    ("EndDate", "End Date", '{"ImportId":"endDate","timeZone":"UTC"}'),
    ("Status", "Response Type", '{"ImportId":"status"}'),
    ("Progress", "Progress", '{"ImportId":"progress"}'),
    ("Duration (in seconds)", "Duration (in seconds)", '{"ImportId":"duration"}'),
    ("Finished", "Finished", '{"ImportId":"finished"}'),
    ("RecordedDate", "Recorded Date", '{"ImportId":"recordedDate","timeZone":"UTC"}'),
    ("ResponseId", "Response ID", '{"ImportId":"_recordId"}'),
    ("RecipientLastName", "Recipient Last Name", '{"ImportId":"recipientLastName"}'),
    ("RecipientFirstName", "Recipient First Name", '{"ImportId":"recipientFirstName"}'),
    ("RecipientEmail", "Recipient Email", '{"ImportId":"recipientEmail"}'),
    ("DistributionChannel", "Distribution Channel", '{"ImportId":"distributionChannel"}'),
    ("UserLanguage", "User Language", '{"ImportId":"userLanguage"}'),
]
EMBEDDED = ["touchpoint", "email", "order_id", "ticket_id"]
RENAMED_EMBEDDED = {"order_id": "OrderID"}  # from the rename-drift day on (when defects > 0)


@dataclass(frozen=True)
class Question:
    qid: str
    column: str
    kind: str  # nps | csat | ces | text
    text: str
    low: int | None = None
    high: int | None = None


@dataclass(frozen=True)
class Survey:
    id: str
    name: str
    touchpoint: str
    questions: tuple[Question, ...]

    @property
    def score_column(self) -> str:
        return self.questions[0].column

    @property
    def scale(self) -> tuple[int, int]:
        q = self.questions[0]
        return int(q.low or 0), int(q.high or 0)


SURVEYS = (
    Survey(
        "SV_3KpR7nT2xQ9mWzA",
        "Relationship NPS",
        "relationship",
        (
            Question(
                "QID1",
                "QID1",
                "nps",
                f"How likely are you to recommend {SHOP_NAME} to a friend or colleague?",
                0,
                10,
            ),
            Question("QID2", "QID2_TEXT", "text", "What is the main reason for your score?"),
        ),
    ),
    Survey(
        "SV_8fLc2VbN6yHq4Ju",
        "Post-purchase CSAT",
        "post_purchase",
        (
            Question(
                "QID1", "QID1", "csat", "How satisfied were you with your recent order?", 1, 5
            ),
            Question("QID2", "QID2_TEXT", "text", "Tell us more about your order experience."),
        ),
    ),
    Survey(
        "SV_0aZx5EwD1gTs7Ro",
        "Post-support CSAT and CES",
        "post_support",
        (
            Question(
                "QID1",
                "QID1",
                "csat",
                "How satisfied were you with the support you received?",
                1,
                5,
            ),
            Question(
                "QID2", "QID2", "ces", f"{SHOP_NAME} made it easy for me to handle my issue.", 1, 7
            ),
            Question("QID3", "QID3_TEXT", "text", "How could we have served you better?"),
        ),
    ),
)
SURVEY_BY_TOUCHPOINT = {s.touchpoint: s for s in SURVEYS}


def survey_columns(survey: Survey, renamed: bool = False) -> list[str]:
    embedded = [RENAMED_EMBEDDED.get(c, c) if renamed else c for c in EMBEDDED]
    return [m[0] for m in SURVEY_META] + [q.column for q in survey.questions] + embedded


def survey_header_rows(survey: Survey, renamed: bool = False) -> list[list[str]]:
    """Qualtrics' three header rows: column ids, question text, ImportId JSON."""
    cols = survey_columns(survey, renamed)
    texts = [m[1] for m in SURVEY_META] + [q.text for q in survey.questions] + EMBEDDED
    imports = (
        [m[2] for m in SURVEY_META]
        + [
            json.dumps({"ImportId": q.column if q.kind == "text" else q.qid}, separators=(",", ":"))
            for q in survey.questions
        ]
        + [json.dumps({"ImportId": c}, separators=(",", ":")) for c in EMBEDDED]
    )
    return [cols, texts, imports]


def survey_definition(survey: Survey, created_at: str) -> dict[str, Any]:
    return {
        "id": survey.id,
        "name": survey.name,
        "touchpoint": survey.touchpoint,
        "language": "EN",
        "created_at": created_at,
        "questions": [
            {
                "qid": q.qid,
                "export_column": q.column,
                "type": q.kind,
                "text": q.text,
                **({"scale": {"min": q.low, "max": q.high}} if q.low is not None else {}),
            }
            for q in survey.questions
        ],
        "embedded_data": EMBEDDED,
        "export": {"header_rows": 3, "timezone": "UTC", "values": "numeric"},
    }


class DropWriter:
    """Writes one drop day's files and reports the defects and drift it introduced."""

    def __init__(
        self,
        sources_dir: Path,
        clock: Clock,
        seed: int,
        defect_rate: float,
        out_of_order: float,
        drift_days: dict[str, int | None],
        counters: dict[str, int],
    ) -> None:
        self.cc_dir = sources_dir / "contact_center"
        self.sv_dir = sources_dir / "survey"
        self.clock = clock
        self.seed = seed
        self.defect_rate = defect_rate
        self.out_of_order = out_of_order
        self.drift = drift_days
        self.counters = counters

    def _next(self, name: str) -> int:
        self.counters[name] += 1
        return self.counters[name]

    def _order(self, day: int, stream: str, items: list[tuple[Any, Any]]) -> list[Any]:
        """Time order, then a few lines moved elsewhere (out-of-order mess)."""
        items.sort(key=lambda it: it[0])
        payloads = [p for _, p in items]
        rf = py_rng(self.seed, "flush-order", day, stream)
        for k in range(len(payloads)):
            if rf.random() < self.out_of_order and len(payloads) > 1:
                p = payloads.pop(k)
                payloads.insert(rf.randrange(len(payloads) + 1), p)
        return payloads

    def _inject(
        self, day: int, stream: str, lines: list[Any], corrupt: Any
    ) -> list[tuple[Any, Any]]:
        """Interleave invalid records (rate per valid line); returns (line, defect-or-None)."""
        out: list[tuple[Any, Any]] = [(line, None) for line in lines]
        if self.defect_rate <= 0:
            return out
        rd = py_rng(self.seed, "flush-defects", day, stream)
        bad: list[tuple[Any, Any]] = []
        for line in lines:
            if rd.random() < self.defect_rate:
                new_line, kind, detail = corrupt(line, rd)
                bad.append((new_line, (kind, detail)))
        for item in bad:
            out.insert(rd.randrange(len(out) + 1), item)
        return out

    def write_day(
        self, day: int, streams: dict[str, list[tuple[Any, Any]]]
    ) -> tuple[list[tuple[str, ...]], dict[str, int]]:
        """Write all files of one drop day; return (defect rows, valid lines per stream)."""
        date = self.clock.day_str(day)
        found: list[tuple[str, ...]] = []
        counts: dict[str, int] = {}
        cc = self.cc_dir / date
        cc.mkdir(parents=True, exist_ok=True)
        # calls.csv
        add = self.drift.get("calls_added")
        drifted = add is not None and day >= add
        cols = CALL_COLUMNS + ([CALL_DRIFT_COLUMN] if drifted else [])
        rows = [p[: len(cols)] for p in self._order(day, "calls", streams.get("calls", []))]
        counts["contact_center.calls"] = len(rows)

        def bad_call(row: list[str], rd: Any) -> tuple[list[str], str, str]:
            return dfx.call_row(cols, row, rd, self._next("call"))

        lines = self._inject(day, "calls", rows, bad_call)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for n, (row, defect) in enumerate(lines, start=2):
            w.writerow(row)
            if defect:
                found.append(
                    (
                        f"contact_center/{date}/calls.csv:line {n}",
                        "contact_center.calls",
                        defect[0],
                        "invalid_record",
                        defect[1],
                    )
                )
        (cc / "calls.csv").write_text(buf.getvalue(), encoding="utf-8")
        if drifted and day == add:
            found.append(
                (
                    f"contact_center/{date}/calls.csv:header",
                    "contact_center.calls",
                    "column_added",
                    "schema_drift",
                    CALL_DRIFT_COLUMN,
                )
            )
        # tickets.jsonl
        tickets = self._order(day, "tickets", streams.get("tickets", []))
        counts["contact_center.tickets"] = len(tickets)

        def bad_ticket(line: str, rd: Any) -> tuple[str, str, str]:
            return dfx.ticket_line(line, rd, self._next("ticket"))

        tlines = self._inject(day, "tickets", tickets, bad_ticket)
        with (cc / "tickets.jsonl").open("w", encoding="utf-8") as fh:
            for n, (line, defect) in enumerate(tlines, start=1):
                fh.write(line + "\n")
                if defect:
                    found.append(
                        (
                            f"contact_center/{date}/tickets.jsonl:line {n}",
                            "contact_center.tickets",
                            defect[0],
                            "invalid_record",
                            defect[1],
                        )
                    )
        # surveys
        sv = self.sv_dir / date
        sv.mkdir(parents=True, exist_ok=True)
        ren = self.drift.get("survey_renamed")
        renamed = ren is not None and day >= ren
        for survey in SURVEYS:
            stream = f"survey:{survey.id}"
            scols = survey_columns(survey, renamed)
            srows = self._order(day, stream, streams.get(stream, []))
            counts["survey.responses"] = counts.get("survey.responses", 0) + len(srows)

            def bad_resp(
                row: list[str], rd: Any, survey: Survey = survey, scols: list[str] = scols
            ) -> tuple[list[str], str, str]:
                return dfx.survey_row(
                    scols,
                    row,
                    survey.score_column,
                    survey.scale,
                    rd,
                    response_id(self._next("response")),
                )

            slines = self._inject(day, stream, srows, bad_resp)
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerows(survey_header_rows(survey, renamed))
            fname = f"responses_{survey.id}.csv"
            for n, (row, defect) in enumerate(slines, start=4):
                w.writerow(row)
                if defect:
                    found.append(
                        (
                            f"survey/{date}/{fname}:line {n}",
                            "survey.responses",
                            defect[0],
                            "invalid_record",
                            defect[1],
                        )
                    )
            (sv / fname).write_text(buf.getvalue(), encoding="utf-8")
            if renamed and day == ren:
                found.append(
                    (
                        f"survey/{date}/{fname}:header",
                        "survey.responses",
                        "column_renamed",
                        "schema_drift",
                        "order_id -> OrderID",
                    )
                )
        return found, counts
