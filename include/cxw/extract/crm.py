"""CRM extraction through its REST API (HubSpot-like): cursor paging, `updatedAt` windows,
Retry-After on 429, exponential backoff with jitter on 5xx and timeouts.

A real CRM is named by CXW_CRM_URL, its API key comes from the Airflow connection `cxw_crm`
(password). Without CXW_CRM_URL (local mode) the simulator's API is started in-process and its
key is read from `$CXW_HOME/sources/crm/api_key`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from cxw.config import Settings
from cxw.errors import CxwError
from cxw.extract.spec import StreamSpec
from cxw.extract.streams import CRM

log = logging.getLogger("cxw.extract.crm")
OBJECT_TYPES = {
    "contacts": "contacts",
    "companies": "companies",
    "deals": "deals",
    "engagements": "engagements",
}
PAGE_SIZE = 100
PROMOTED = {
    "contacts": ("hs_object_id", "email", "phone", "createdate", "lifecyclestage"),
    "companies": ("hs_object_id", "industry"),
    "deals": ("amount", "closedate", "dealstage"),
    "engagements": ("hs_timestamp", "hs_engagement_type"),
}


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    timeout: float = 30.0


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class CrmClient:
    """A small, polite client for the CRM's list endpoints."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        policy: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy
        self.sleep = sleep
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=policy.timeout,
        )
        self.requests = 0
        self.retries = 0

    def close(self) -> None:
        self.http.close()

    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(1, self.policy.max_attempts + 1):
            self.requests += 1
            try:
                resp = self.http.get(path, params=params)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                wait, why = self._backoff(attempt), f"{type(exc).__name__}"
            else:
                if resp.status_code == 200:
                    return resp.json()
                if resp.status_code == 401:
                    raise CxwError(
                        "the CRM refused the API key (401): check the cxw_crm connection"
                    )
                if resp.status_code == 429:
                    wait = float(resp.headers.get("Retry-After", "1") or 1)
                    why = "429 rate limited"
                elif resp.status_code >= 500:
                    retry_after = resp.headers.get("Retry-After")
                    wait = max(self._backoff(attempt), float(retry_after) if retry_after else 0.0)
                    why = f"HTTP {resp.status_code}"
                else:
                    raise CxwError(
                        f"the CRM answered {resp.status_code} for {path}: {resp.text[:200]}"
                    )
            if attempt == self.policy.max_attempts:
                raise CxwError(f"the CRM kept failing ({why}) after {attempt} attempts: {path}")
            self.retries += 1
            log.info("CRM %s on %s; retrying in %.1fs", why, path, wait)
            self.sleep(wait)
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        cap = min(self.policy.max_delay, self.policy.base_delay * 2 ** (attempt - 1))
        return random.uniform(0, cap)

    def list(
        self, object_type: str, since: datetime | None, until: datetime, archived: bool
    ) -> Iterator[dict[str, Any]]:
        """Every object with since < updatedAt <= until, following `after` cursors."""
        params: dict[str, Any] = {
            "limit": PAGE_SIZE,
            "updatedBefore": _iso(until),
            "archived": "true" if archived else "false",
        }
        if since is not None:
            params["updatedAfter"] = _iso(since)
        while True:
            page = self._get(f"/crm/v3/objects/{object_type}", params)
            yield from page.get("results", [])
            after = page.get("paging", {}).get("next", {}).get("after")
            if not after:
                return
            params = {**params, "after": after}


def flatten(object_type: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    """The raw record: top-level fields, all properties as JSON, promoted properties."""
    props = obj.get("properties") or {}
    rec: dict[str, Any] = {
        "id": obj.get("id"),
        "created_at": obj.get("createdAt"),
        "updated_at": obj.get("updatedAt"),
        "archived": obj.get("archived"),
        "archived_at": obj.get("archivedAt"),
        "properties": props,
        "associations": obj.get("associations"),
    }
    for name in PROMOTED[object_type]:
        rec[name] = props.get(name)
    if object_type in ("deals", "engagements"):
        contacts = ((obj.get("associations") or {}).get("contacts") or {}).get("results") or []
        rec["contact_ids"] = ";".join(str(c.get("id")) for c in contacts if c.get("id")) or None
    if object_type == "deals":
        rec["properties_with_history"] = obj.get("propertiesWithHistory")
    for key, value in obj.items():  # schema drift: unknown top-level fields go to _extra
        if key not in {
            "id",
            "createdAt",
            "updatedAt",
            "archived",
            "archivedAt",
            "properties",
            "associations",
            "propertiesWithHistory",
        }:
            rec[key] = value
    return rec


class CrmExtractor:
    source = "crm"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stop: Callable[[], None] | None = None
        base_url, key = self._credentials()
        self.client = CrmClient(base_url, key)

    def _credentials(self) -> tuple[str, str]:
        """A real CRM (CXW_CRM_URL): its API key from the Airflow connection `cxw_crm` (or
        CXW_CRM_API_KEY outside Airflow). Otherwise local mode: start the simulator's API."""
        import os

        if self.settings.crm_url:
            conn = _airflow_connection("cxw_crm")
            key = (conn.password if conn is not None else None) or os.environ.get("CXW_CRM_API_KEY")
            if not key:
                raise CxwError(
                    "CXW_CRM_URL is set but no API key: define the Airflow connection cxw_crm "
                    "(password = API key) or CXW_CRM_API_KEY"
                )
            return self.settings.crm_url, key
        from cxw.sources import api_key, start_crm_server

        try:
            key = api_key(self.settings)
        except Exception as exc:
            raise CxwError(
                "no CRM to extract from: set CXW_CRM_URL, or run `cxw sources generate`"
            ) from exc
        base_url, self._stop = start_crm_server(self.settings, port=None)
        return base_url, key

    def streams(self) -> tuple[StreamSpec, ...]:
        return CRM

    def content_hash(self, spec: StreamSpec, since: datetime | None, until: datetime) -> None:
        return None

    def records(
        self, spec: StreamSpec, since: datetime | None, until: datetime
    ) -> Iterator[tuple[str, Mapping[str, Any]]]:
        otype = OBJECT_TYPES[spec.stream]
        for archived in (False, True):
            for obj in self.client.list(otype, since, until, archived):
                yield f"crm.{otype}:id={obj.get('id')}", flatten(otype, obj)

    def close(self) -> None:
        self.client.close()
        if self._stop is not None:
            self._stop()
            self._stop = None


def _airflow_connection(conn_id: str):
    """The Airflow connection, or None outside Airflow or when it is not defined."""
    try:
        from airflow.sdk import BaseHook

        return BaseHook.get_connection(conn_id)
    except Exception:
        return None


def extractor(settings: Settings) -> CrmExtractor:
    return CrmExtractor(settings)
