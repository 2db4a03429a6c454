"""The CRM REST API simulator (HubSpot-like), a Starlette app over the SQLite CRM store.

GET /crm/v3/objects/{type}?limit=&after=&updatedAfter=&updatedBefore=&archived= pages records
sorted by (updatedAt, id) with an opaque keyset cursor, so pages stay stable while the store
grows. Bearer-key auth, a token-bucket rate limit (429 + Retry-After) and injected 5xx or slow
responses are configured by `CrmServerConfig` (all off by default). SCHEMAS.md is the contract.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import math
import random
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cxw.config import Settings
from cxw.errors import ConfigError, CxwError
from cxw.sources.crm_store import OBJECT_TYPES, api_key, store_path

BASE_PATH = "/crm/v3/objects"


@dataclass(frozen=True)
class CrmServerConfig:
    """Protocol behaviour of the simulated CRM (no environment reads; defaults = well-behaved)."""

    rate_limit_rps: float | None = None  # sustained requests/second; None = unlimited
    burst: int | None = None  # token-bucket capacity; default max(1, rate_limit_rps)
    error_rate: float = 0.0  # share of requests answered 500/502/503/504
    slow_rate: float = 0.0  # share of requests delayed by slow_seconds
    slow_seconds: float = 2.0
    default_page_size: int = 10
    max_page_size: int = 100
    seed: int | None = None  # random stream for errors and slowness (None: unseeded)

    def __post_init__(self) -> None:
        if self.rate_limit_rps is not None and self.rate_limit_rps <= 0:
            raise ConfigError("rate limit must be > 0 requests/second (or unset)")
        for name in ("error_rate", "slow_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be in [0, 1]")
        if self.slow_seconds < 0 or not 1 <= self.default_page_size <= self.max_page_size:
            raise ConfigError("invalid slow_seconds or page sizes")


class TokenBucket:
    """Classic token bucket: `rate` tokens per second up to `capacity`."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate, self.capacity = rate, capacity
        self.tokens = capacity
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> float:
        """Take a token; return 0 when granted, else the seconds until one is available."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return 0.0
            return (1.0 - self.tokens) / self.rate


def _error(
    status: int, category: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
    }
    return JSONResponse(body, status_code=status, headers=headers)


class BadRequest(Exception):
    """A query parameter the API cannot accept (answered 400)."""


def parse_instant(value: str) -> int:
    """ISO 8601 (Z, offset or naive UTC) or epoch milliseconds -> epoch milliseconds."""
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"not an ISO 8601 instant or epoch milliseconds: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def encode_cursor(updated_ms: int, oid: int) -> str:
    return base64.urlsafe_b64encode(f"{updated_ms}:{oid}".encode()).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        ms, oid = raw.split(":")
        return int(ms), int(oid)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest(f"invalid paging cursor: {value!r}") from None


class CrmApi:
    """Request handling; one read-only SQLite connection per request (safe across threads)."""

    def __init__(self, db_path: Path, key: str, config: CrmServerConfig) -> None:
        self.db_path = db_path
        self.key = key
        self.config = config
        rps = config.rate_limit_rps
        self.bucket = TokenBucket(rps, float(config.burst or max(1.0, rps))) if rps else None
        self.chaos = random.Random(config.seed)

    def _connect(self) -> sqlite3.Connection | None:
        if not self.db_path.exists():
            return None
        return sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30)

    async def _gate(self, request: Request) -> Response | None:
        """Auth, rate limit, then injected faults; None when the request may proceed."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), self.key):
            return _error(
                401, "INVALID_AUTHENTICATION", "Authentication credentials not found or invalid."
            )
        if self.bucket is not None:
            wait = self.bucket.take()
            if wait > 0:
                return _error(
                    429,
                    "RATE_LIMITS",
                    "You have reached your secondly limit.",
                    {
                        "Retry-After": str(max(1, math.ceil(wait))),
                        "X-HubSpot-RateLimit-Max": str(int(self.bucket.capacity)),
                        "X-HubSpot-RateLimit-Remaining": "0",
                    },
                )
        if self.config.slow_rate and self.chaos.random() < self.config.slow_rate:
            await asyncio.sleep(self.config.slow_seconds)
        if self.config.error_rate and self.chaos.random() < self.config.error_rate:
            status = self.chaos.choice((500, 502, 503, 504))
            headers = {"Retry-After": "1"} if status == 503 else None
            return _error(
                status, "INTERNAL_ERROR", "An internal error occurred. Please retry.", headers
            )
        return None

    async def list_objects(self, request: Request) -> Response:
        denied = await self._gate(request)
        if denied is not None:
            return denied
        otype = request.path_params["object_type"]
        if otype not in OBJECT_TYPES:
            return _error(
                404,
                "OBJECT_NOT_FOUND",
                f"Unknown object type {otype!r}; known: {', '.join(OBJECT_TYPES)}",
            )
        q = request.query_params
        try:
            limit = int(q.get("limit", self.config.default_page_size))
            if not 1 <= limit <= self.config.max_page_size:
                raise BadRequest(f"limit must be between 1 and {self.config.max_page_size}")
            archived = q.get("archived", "false").lower()
            if archived not in ("true", "false"):
                raise BadRequest("archived must be true or false")
            after = decode_cursor(q["after"]) if q.get("after") else None
            lo = parse_instant(q["updatedAfter"]) if q.get("updatedAfter") else None
            hi = parse_instant(q["updatedBefore"]) if q.get("updatedBefore") else None
        except (BadRequest, ValueError) as exc:
            return _error(400, "VALIDATION_ERROR", str(exc))
        conn = self._connect()
        if conn is None:
            return _error(
                503,
                "SERVICE_UNAVAILABLE",
                "No CRM data: run `cxw sources generate`.",
                {"Retry-After": "5"},
            )
        try:
            now_ms = int(conn.execute("select value from meta where key = 'now_ms'").fetchone()[0])
            sql = "select id, updated_ms, body from objects where type = ? and archived = ? and updated_ms <= ?"
            args: list[object] = [otype, 1 if archived == "true" else 0, now_ms]
            if lo is not None:
                sql += " and updated_ms > ?"
                args.append(lo)
            if hi is not None:
                sql += " and updated_ms <= ?"
                args.append(hi)
            if after is not None:  # a row value, so the page starts with an index seek
                sql += " and (updated_ms, id) > (?, ?)"
                args += [after[0], after[1]]
            sql += " order by updated_ms, id limit ?"
            args.append(limit + 1)
            rows = conn.execute(sql, args).fetchall()
        finally:
            conn.close()
        page = rows[:limit]
        body = '{"results":[' + ",".join(r[2] for r in page) + "]"
        if len(rows) > limit:
            cursor = encode_cursor(page[-1][1], page[-1][0])
            params = {k: v for k, v in q.items() if k != "after"} | {"after": cursor}
            link = (
                f"{request.url.scheme}://{request.url.netloc}{request.url.path}?{urlencode(params)}"
            )
            body += ',"paging":{"next":{"after":"' + cursor + '","link":"' + link + '"}}'
        body += "}"
        return Response(body, media_type="application/json")

    async def get_object(self, request: Request) -> Response:
        denied = await self._gate(request)
        if denied is not None:
            return denied
        otype = request.path_params["object_type"]
        if otype not in OBJECT_TYPES:
            return _error(404, "OBJECT_NOT_FOUND", f"Unknown object type {otype!r}")
        try:
            oid = int(request.path_params["object_id"])
        except ValueError:
            return _error(400, "VALIDATION_ERROR", "object id must be numeric")
        archived = request.query_params.get("archived", "false").lower() == "true"
        conn = self._connect()
        if conn is None:
            return _error(503, "SERVICE_UNAVAILABLE", "No CRM data: run `cxw sources generate`.")
        try:
            now_ms = int(conn.execute("select value from meta where key = 'now_ms'").fetchone()[0])
            row = conn.execute(
                "select body from objects where type = ? and id = ? and archived = ? and updated_ms <= ?",
                (otype, oid, 1 if archived else 0, now_ms),
            ).fetchone()
        finally:
            conn.close()
        if row is None:
            return _error(404, "OBJECT_NOT_FOUND", f"resource not found: {otype}/{oid}")
        return Response(row[0], media_type="application/json")

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "store": self.db_path.exists()})


def create_app(settings: Settings, config: CrmServerConfig | None = None) -> Starlette:
    """The ASGI app for this CXW_HOME's CRM store (the API key is created if missing)."""
    api = CrmApi(store_path(settings), api_key(settings), config or CrmServerConfig())
    return Starlette(
        routes=[
            Route(f"{BASE_PATH}/{{object_type}}", api.list_objects, methods=["GET"]),
            Route(f"{BASE_PATH}/{{object_type}}/{{object_id}}", api.get_object, methods=["GET"]),
            Route("/health", api.health, methods=["GET"]),
        ]
    )


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CxwError(
            f"cannot listen on {host}:{port} ({exc.strerror}): choose another --port"
        ) from exc
    sock.listen(128)
    return sock


def start_crm_server(
    settings: Settings,
    port: int | None = None,
    config: CrmServerConfig | None = None,
    host: str = "127.0.0.1",
) -> tuple[str, Callable[[], None]]:
    """Run the CRM API in a background thread; return (base_url, stop). port=None: a free port.

    The API key is at `crm_store.api_key_path(settings)` ($CXW_HOME/sources/crm/api_key).
    """
    import uvicorn

    sock = _bind(host, port or 0)
    bound = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, config), log_level="warning", access_log=False, lifespan="off"
        )
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="cxw-crm-api", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise CxwError("the CRM API simulator did not start")
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()

    return f"http://{host}:{bound}", stop


def serve(
    settings: Settings, port: int, config: CrmServerConfig | None = None, host: str = "127.0.0.1"
) -> None:
    """Run the CRM API in the foreground until interrupted."""
    import uvicorn

    sock = _bind(host, port)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, config), log_level="warning", access_log=False, lifespan="off"
        )
    )
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
