"""Small shared helpers: seeded random streams, simulated time and its text formats.

Simulated time is a float number of days since the world's origin (00:00 UTC, PRE_DAYS before
the start date); it is turned into integer milliseconds once, and every text format is derived
from those milliseconds so that all systems agree to the millisecond.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

DAY_MS = 86_400_000
CALL_CENTER_TZ = ZoneInfo("America/Chicago")


def _digest(seed: int, key: tuple[object, ...]) -> int:
    text = repr((int(seed), *key)).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:16], "big")


def py_rng(seed: int, *key: object) -> random.Random:
    """A Python random stream for one purpose (e.g. ("world", day)); same key, same stream."""
    return random.Random(_digest(seed, key))


def np_rng(seed: int, *key: object) -> np.random.Generator:
    """A numpy random stream for one purpose, independent of every other key."""
    return np.random.default_rng(_digest(seed, key))


class Clock:
    """Converts simulated days since the origin into milliseconds and text timestamps."""

    def __init__(self, origin: date) -> None:
        self.origin = origin
        self.origin_ms = (
            int(datetime(origin.year, origin.month, origin.day, tzinfo=UTC).timestamp()) * 1000
        )

    def ms(self, t: float) -> int:
        return self.origin_ms + round(t * DAY_MS)

    def day_of(self, t: float) -> int:
        """Index of the UTC day holding simulated time t (after rounding to ms)."""
        return (self.ms(t) - self.origin_ms) // DAY_MS

    def date(self, day: int) -> date:
        return self.origin + timedelta(days=day)

    def day_str(self, day: int) -> str:
        return self.date(day).isoformat()

    # ---- text formats (all from integer milliseconds) -----------------------------------
    def iso_ms(self, ms: int) -> str:
        """CRM style: 2025-11-03T14:22:10.123Z."""
        d, rest = _split(ms)
        return f"{d}T{rest[0]:02d}:{rest[1]:02d}:{rest[2]:02d}.{rest[3]:03d}Z"

    def iso_s(self, ms: int) -> str:
        """Help-desk style: 2025-11-03T14:22:10Z (seconds)."""
        d, rest = _split(ms)
        return f"{d}T{rest[0]:02d}:{rest[1]:02d}:{rest[2]:02d}Z"

    def pg(self, ms: int) -> str:
        """Postgres timestamptz text for COPY: 2025-11-03 14:22:10.123+00."""
        d, rest = _split(ms)
        return f"{d} {rest[0]:02d}:{rest[1]:02d}:{rest[2]:02d}.{rest[3]:03d}+00"

    def naive_s(self, ms: int) -> str:
        """Survey export style, UTC without offset: 2025-11-03 14:22:10."""
        d, rest = _split(ms)
        return f"{d} {rest[0]:02d}:{rest[1]:02d}:{rest[2]:02d}"

    def local_s(self, ms: int) -> str:
        """Call-log style: local time of the contact center with its offset (-06:00/-05:00)."""
        moment = datetime.fromtimestamp(ms // 1000, UTC).astimezone(CALL_CENTER_TZ)
        return moment.isoformat(timespec="seconds")

    def local_hour_start(self, t: float, hour: float) -> float:
        """Simulated time of `hour` (local call-center time) on the UTC day holding t."""
        day = self.day_of(t)
        local = datetime.combine(self.date(day), datetime.min.time(), CALL_CENTER_TZ)
        ms = int(local.timestamp() * 1000) + round(hour * 3_600_000)
        return (ms - self.origin_ms) / DAY_MS


@lru_cache(maxsize=8192)
def _date_of(day_number: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=day_number)).isoformat()


def _split(ms: int) -> tuple[str, tuple[int, int, int, int]]:
    day_number, rem = divmod(ms, DAY_MS)
    secs, milli = divmod(rem, 1000)
    hh, rest = divmod(secs, 3600)
    mm, ss = divmod(rest, 60)
    return _date_of(day_number), (hh, mm, ss, milli)


_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_MOD = 62**15
_MULT = 475212331937991035243724801  # odd, not a multiple of 31: counter -> id is a bijection


def response_id(counter: int) -> str:
    """Qualtrics-looking response id (R_ + 15 base62 chars), a bijection of the counter."""
    x = (counter * _MULT + 91_234_567_891_234_567) % _MOD
    chars = []
    for _ in range(15):
        x, r = divmod(x, 62)
        chars.append(_B62[r])
    return "R_" + "".join(chars)


def money(x: float) -> str:
    """Two-decimal text for amounts (exact cents, no float artefacts)."""
    return f"{x:.2f}"
