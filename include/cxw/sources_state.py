"""What the pipeline may know of the simulated sources: only their current day (never truth/)."""

from __future__ import annotations

import json
from datetime import date, timedelta

from cxw.config import Settings


def simulated_last_day(settings: Settings) -> date | None:
    """The last complete simulated day, or None when no simulated sources exist."""
    state = settings.sources_dir / "state.json"
    if not state.exists():
        return None
    data = json.loads(state.read_text())
    for key in ("end_date", "current_date", "now", "last_day"):
        if key in data:
            return date.fromisoformat(str(data[key])[:10]) - (
                timedelta(days=1) if key in ("end_date", "now") else timedelta(0)
            )
    return None
