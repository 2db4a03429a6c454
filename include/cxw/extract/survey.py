"""Survey exports (Qualtrics-like): daily response CSVs with three header lines per survey.

Question columns (`QID*`) are kept together as `answers` (JSON); the first score question's
value is also kept as `first_score` so it can be checked against its survey's scale, read from
the survey definitions (`survey/surveys/*.json`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from cxw.extract.drops import DropExtractor
from cxw.extract.spec import StreamSpec
from cxw.extract.streams import survey_spec

HEADER_LINES = 3  # column ids, question texts, ImportId JSON


class SurveyExtractor(DropExtractor):
    source = "survey"

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.definitions = self._definitions()
        scales = {}
        for sid, d in self.definitions.items():
            score = d.get("first_score")
            if score:
                scales[sid] = (score["min"], score["max"])
        self.spec = survey_spec(scales)

    def _definitions(self) -> dict[str, dict[str, Any]]:
        out = {}
        folder = self.base / "surveys"
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            d = json.loads(path.read_text())
            questions = d.get("questions", [])
            scored = [q for q in questions if q.get("scale")]
            d["first_score"] = (
                {"column": scored[0]["export_column"], **scored[0]["scale"]} if scored else None
            )
            d["question_columns"] = [q["export_column"] for q in questions]
            out[d["id"]] = d
        return out

    def streams(self) -> tuple[StreamSpec, ...]:
        return (self.spec,)

    def pattern(self, spec: StreamSpec) -> str:
        return "responses_*.csv"

    def records(
        self, spec: StreamSpec, since: datetime | None, until: datetime
    ) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for path, _ in self.files(spec):
            yield from self._responses(spec, path)

    def _responses(self, spec: StreamSpec, path) -> Iterator[tuple[str, Mapping[str, Any]]]:
        survey_id = path.stem.removeprefix("responses_")
        definition = self.definitions.get(survey_id, {})
        questions = set(definition.get("question_columns", []))
        score_col = (definition.get("first_score") or {}).get("column")
        header, rows = self.csv_rows(spec, path, first_data_line=HEADER_LINES + 1)
        is_question = [h in questions or h.startswith("QID") for h in header]
        for loc, row in rows:
            if isinstance(row, dict):  # a line that did not parse: quarantined as is
                yield loc, row
                continue
            rec: dict[str, Any] = {"survey_id": survey_id}
            answers = {}
            for h, q, v in zip(header, is_question, row, strict=True):
                if q:
                    answers[h] = v if v != "" else None
                else:
                    rec[h] = v
            rec["answers"] = answers
            rec["first_score"] = answers.get(score_col) if score_col else None
            yield loc, rec


def extractor(settings) -> SurveyExtractor:
    return SurveyExtractor(settings)
