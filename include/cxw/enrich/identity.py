"""Identity resolution for the 360-degree customer view: one stable `customer_key` per person.

Input is one row per (source record, identifier) from the staging relation
`staging.stg_identity__observations` (source, source_record_id, kind, value, observed_at), with
RAW values: emails and phones are normalized here (`cxw.enrich.normalize`). Source records and
identifiers are the nodes of a bipartite graph; each record links to its identifiers, and the
connected components (`scipy.sparse.csgraph`) are customers. An identifier that looks shared by
more than `identity_max_share` people, a placeholder (000-000-0000, test@test.com) or a role
mailbox (support@...) never links records; those are listed in `enrich.identity_suppressed`.

Keys are stable across runs: a component keeps the key its records had; when components merge,
the oldest key survives and the others are recorded in `enrich.customer_key_merges`; a new
component gets `c_` + 16 hex of sha256(salt, source, id of its first-seen record), so a rebuild
from scratch gives the same keys for the same data. See dbt_project/DECISIONLOG_identity.md.

Memory: rows are reduced to 64-bit hashes as they stream in (record and identifier strings are
kept once each, as bytes), so 1,000,000 customers (~6M records) resolve in well under 2 GB.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import resource
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from cxw.enrich.normalize import (
    is_placeholder_email,
    is_placeholder_phone,
    is_role_email,
    normalize_email,
    normalize_phone,
)
from cxw.errors import CxwError

DEFAULT_RELATION = "staging.stg_identity__observations"
OBSERVATION_COLUMNS = ("source", "source_record_id", "kind", "value", "observed_at")
ASSIGNMENT_COLUMNS = (
    "source",
    "source_record_id",
    "customer_key",
    "match_rule",
    "first_assigned_at",
    "updated_at",
)

# Link rules, strongest first: system references, then a recorded CRM merge, then email, phone.
RULES = (
    "crm_contact_id",
    "shop_customer_id",
    "ticket_requester_id",
    "shop_order_id",
    "ticket_id",
    "call_id",
    "crm_merge",
    "email",
    "phone",
)
SINGLETON = "singleton"
NEVER = np.iinfo(np.int64).max  # unknown observed_at: sorts after every real time
_MIX = np.uint64(0x9E3779B97F4A7C15)
_KEY_RX = re.compile(r"^c_[0-9a-f]{16}$")
_NULL_IDS = frozenset({"", "0", "-1", "null", "none", "nan", "n/a", "na", "unknown"})
_LOCK_ID = 0x1DE7  # pg advisory lock: one resolver at a time
_BULK_ROWS = 200_000  # a first load this big rebuilds the assignment indexes after the COPY
DENY_NONE, DENY_PLACEHOLDER, DENY_ROLE = 0, 1, 2
_REASONS = {DENY_PLACEHOLDER: "placeholder", DENY_ROLE: "role_address"}


@dataclass(frozen=True)
class KindSpec:
    """How one observation kind becomes a graph node.

    namespace: node family (two kinds with one namespace share nodes: a CRM merge record points
    at the same `crm_contact` node as the contact's own id). rule: the match rule of its links
    (one of `RULES`). value: normalizer, "email" | "phone" | "id". person_level: a person has
    one or two of these (emails, phones, CRM contacts, shop accounts), so counting distinct ones
    around an identifier estimates how many people share it; per-event ids (orders, tickets)
    are not evidence of distinct people.
    """

    namespace: str
    rule: str
    value: str = "id"
    person_level: bool = False


DEFAULT_KINDS: dict[str, KindSpec] = {
    "email": KindSpec("email", "email", "email", True),
    "phone": KindSpec("phone", "phone", "phone", True),
    "crm_contact_id": KindSpec("crm_contact", "crm_contact_id", "id", True),
    # CRM merges, from either side: a merged-away contact's hs_merged_into_object_id, and each
    # id in a surviving contact's hs_merged_object_ids
    "crm_merged_into": KindSpec("crm_contact", "crm_merge", "id", True),
    "crm_merged_object_id": KindSpec("crm_contact", "crm_merge", "id", True),
    "shop_customer_id": KindSpec("shop_customer", "shop_customer_id", "id", True),
    "ticket_requester_id": KindSpec("ticket_requester", "ticket_requester_id", "id", True),
    "shop_order_id": KindSpec("shop_order", "shop_order_id", "id", False),
    "ticket_id": KindSpec("ticket", "ticket_id", "id", False),
    "call_id": KindSpec("call", "call_id", "id", False),
}


def key_text(key: int) -> str:
    """The text form of a customer key held as a 64-bit integer."""
    return f"c_{key:016x}"


def derive_key(salt: str, source: str, source_record_id: str, attempt: int = 0) -> int:
    """The key a new customer gets: 16 hex of sha256(salt, first-seen record); opaque, not PII."""
    text = f"{salt}\x1f{source}\x1f{source_record_id}" + (f"\x1f{attempt}" if attempt else "")
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def identifier_hash(salt: str, kind: str, normalized: str) -> str:
    """Salted sha256 of a normalized identifier; same formula as `cxw.privacy.hashing`."""
    return hashlib.sha256(f"{salt}{kind}:{normalized}".encode()).hexdigest()


_HASH_KEYS = ("0123456789123456", "cxw-identity-h2!")  # two independent SipHash keys


def _hashes(values: np.ndarray, salt: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes of strings; `salt` (a pair of uint64 arrays) mixes in a
    second component such as the source or the namespace."""
    arr = np.asarray(values, dtype=object)
    out = []
    for k, key in enumerate(_HASH_KEYS):
        h = pd.util.hash_array(arr, hash_key=key, categorize=False)
        out.append(h * _MIX + salt[k] if salt is not None else h)
    return out[0], out[1]


def _to_micros(values: Any) -> np.ndarray:
    """Timestamps (datetimes, ISO text, or integer microseconds) -> int64 UTC microseconds."""
    s = pd.Series(values)
    if s.dtype.kind in "iu":
        return s.to_numpy(np.int64)
    ts = pd.to_datetime(s, utc=True, format="ISO8601") if s.dtype.kind != "M" else s
    if ts.dt.tz is None:
        ts = ts.dt.tz_localize("UTC")
    arr = ts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]")
    out = arr.view(np.int64).copy()
    out[np.isnat(arr)] = NEVER
    return out


def _iso(micros: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(micros.astype("datetime64[us]"), unit="us", timezone="UTC")


def _as_text(values: np.ndarray) -> np.ndarray:
    """Object array of str (ints and other scalars from in-memory frames become their text)."""
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        return values
    return np.array([v if isinstance(v, str) else str(v) for v in values], dtype=object)


class _Growable:
    """A numpy array that grows geometrically (append-heavy columns, random-access updates)."""

    def __init__(self, dtype: Any) -> None:
        self._a = np.zeros(1024, dtype=dtype)
        self.n = 0

    def extend(self, values: np.ndarray) -> None:
        need = self.n + len(values)
        if need > self._a.size:
            grown = np.zeros(max(need, self._a.size * 3 // 2), dtype=self._a.dtype)
            grown[: self.n] = self._a[: self.n]
            self._a = grown
        self._a[self.n : need] = values
        self.n = need

    def view(self) -> np.ndarray:
        return self._a[: self.n]

    def take(self) -> np.ndarray:
        """The values, trimmed to size; the buffer is released."""
        out = self._a[: self.n].copy()
        self._a = np.zeros(0, dtype=self._a.dtype)
        return out


class _Texts:
    """Strings kept once as utf-8 in one buffer with offsets (no Python object per string)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._lengths = _Growable(np.int32)
        self._data = b""
        self._offsets = np.zeros(1, dtype=np.int64)

    def extend(self, values: list[str]) -> None:
        lengths = np.fromiter(map(len, values), np.int32, len(values))
        blob = "".join(values).encode("utf-8")
        if len(blob) != int(lengths.sum(dtype=np.int64)):  # non-ASCII: byte lengths differ
            encoded = [v.encode("utf-8") for v in values]
            lengths = np.fromiter(map(len, encoded), np.int32, len(encoded))
        self._parts.append(blob)
        self._lengths.extend(lengths)

    def freeze(self) -> _Texts:
        self._data = self._data + b"".join(self._parts)
        self._parts = []
        self._offsets = np.concatenate([[0], np.cumsum(self._lengths.view(), dtype=np.int64)])
        return self

    def get(self, idx: Iterable[int]) -> list[str]:
        d, o = self._data, self._offsets
        return [d[o[i] : o[i + 1]].decode("utf-8") for i in np.asarray(idx).tolist()]


class _Dictionary:
    """Integer ids (in order of first arrival) for keys known by two hashes (64 + 32 bits).

    Lookups go through the first hash (sorted array + searchsorted); the second confirms the
    match, and the astronomically rare key whose first hash collides with another's gets its
    own id through a small overflow dict, so two different keys are never merged (short of a
    96-bit collision).
    """

    def __init__(self) -> None:
        self._sorted = np.zeros(0, dtype=np.uint64)
        self._slot = np.zeros(0, dtype=np.int32)
        self.check = _Growable(np.uint32)
        self._overflow: dict[tuple[int, int], int] = {}

    def __len__(self) -> int:
        return self.check.n

    def find(self, h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
        """Ids of the keys, -1 where unknown."""
        if self._sorted.size == 0:
            return np.full(h1.size, -1, dtype=np.int64)
        c2 = h2.astype(np.uint32)
        order = np.argsort(h1)  # sorted queries search much faster (cache locality)
        pos = np.empty(h1.size, dtype=np.int64)
        pos[order] = np.searchsorted(self._sorted, h1[order])
        pos = np.minimum(pos, self._sorted.size - 1)
        hit = self._sorted[pos] == h1
        slots = np.where(hit, self._slot[pos], -1).astype(np.int64)
        other = hit & (self.check.view()[np.maximum(slots, 0)] != c2)
        for j in np.flatnonzero(other).tolist():
            slots[j] = self._overflow.get((int(h1[j]), int(c2[j])), -1)
        return slots

    def add(self, h1: np.ndarray, h2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ids of the keys (distinct within the call), creating missing ones; and a new-mask."""
        slots = self.find(h1, h2)
        new = np.flatnonzero(slots < 0)
        if new.size == 0:
            return slots, np.zeros(h1.size, dtype=bool)
        start = len(self)
        if start + new.size >= 1 << 31:
            raise CxwError("more than 2^31 distinct records or identifiers in one run")
        ids = np.arange(start, start + new.size, dtype=np.int64)
        slots[new] = ids
        n1, c2 = h1[new], h2[new].astype(np.uint32)
        self.check.extend(c2)
        order = np.argsort(n1, kind="stable")
        s1 = n1[order]
        pos = np.searchsorted(self._sorted, s1)
        if self._sorted.size:
            known = self._sorted[np.minimum(pos, self._sorted.size - 1)] == s1
        else:
            known = np.zeros(s1.size, dtype=bool)
        known |= ~_first_of_runs(s1)  # same first hash twice in this call
        for j in np.flatnonzero(known).tolist():
            self._overflow[(int(s1[j]), int(c2[order[j]]))] = int(ids[order[j]])
        ins = ~known
        self._sorted = np.insert(self._sorted, pos[ins], s1[ins])
        self._slot = np.insert(self._slot, pos[ins], ids[order][ins].astype(np.int32))
        is_new = np.zeros(h1.size, dtype=bool)
        is_new[new] = True
        return slots, is_new


def _factorize(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct values of a column; categorical columns (low-cardinality text read
    from COPY) are not expanded to one Python object per row."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), column.cat.categories.to_numpy(dtype=object)
    codes, uniq = pd.factorize(column.to_numpy(dtype=object))
    return codes, np.asarray(uniq, dtype=object)


def _first_of_runs(sorted_values: np.ndarray) -> np.ndarray:
    first = np.ones(sorted_values.shape[0], dtype=bool)
    if sorted_values.shape[0] > 1:
        first[1:] = sorted_values[1:] != sorted_values[:-1]
    return first


# ---- 1. observations -> compact arrays ----------------------------------------------------------
@dataclass
class Observations:
    """Records, identifier nodes and the edges between them, as arrays (strings kept once)."""

    sources: list[str]
    kinds: list[str]
    kind_rule: np.ndarray  # per kind: index into `rules`
    kind_ns: np.ndarray  # per kind: namespace code
    rules: tuple[str, ...]
    namespaces: list[str]
    ns_person_level: np.ndarray
    records: _Dictionary  # (source, source_record_id) -> record index
    rec_source: np.ndarray  # (R,) source code
    rec_ident: _Texts  # (R,) source_record_id
    rec_observed: np.ndarray  # (R,) int64 microseconds (NEVER if unknown)
    node_ns: np.ndarray  # (M,) namespace code
    node_value: _Texts  # (M,) normalized value
    node_deny: np.ndarray  # (M,) DENY_* code
    edge_rec: np.ndarray  # (E,) int32
    edge_node: np.ndarray  # (E,) int32
    edge_kind: np.ndarray  # (E,) int8 (a repeated (record, node) pair is harmless)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def n_records(self) -> int:
        return int(self.rec_source.shape[0])

    @property
    def n_nodes(self) -> int:
        return int(self.node_ns.shape[0])

    def record_index(self, sources: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Index of each (source, source_record_id) among the records, -1 where absent."""
        return self.records.find(*_record_hashes(sources, ids))


def _record_hashes(sources: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    src_codes, src_uniq = pd.factorize(np.asarray(sources, dtype=object))
    s1, s2 = _hashes(np.asarray(src_uniq, dtype=object))
    return _hashes(_as_text(np.asarray(ids, dtype=object)), (s1[src_codes], s2[src_codes]))


class ObservationSet:
    """Accumulates observation chunks (DataFrames) into `Observations`, normalizing values."""

    def __init__(
        self,
        kinds: Mapping[str, KindSpec] | None = None,
        rules: tuple[str, ...] = RULES,
        phone_region: str = "US",
        link_role_emails: bool = False,
    ) -> None:
        self.kinds = dict(DEFAULT_KINDS if kinds is None else kinds)
        unknown_rules = sorted({s.rule for s in self.kinds.values()} - set(rules))
        if unknown_rules:
            raise CxwError(f"identity kinds use rules not in the rule order: {unknown_rules}")
        if len(rules) > 15:
            raise CxwError("at most 15 match rules")
        self.rules = tuple(rules)
        self.kind_names = list(self.kinds)
        self.kind_code = {k: i for i, k in enumerate(self.kind_names)}
        self.namespaces = sorted({s.namespace for s in self.kinds.values()})
        ns_code = {n: i for i, n in enumerate(self.namespaces)}
        self.kind_ns = np.array([ns_code[s.namespace] for s in self.kinds.values()], np.int8)
        self.kind_rule = np.array([self.rules.index(s.rule) for s in self.kinds.values()], np.int8)
        self.ns_person_level = np.zeros(len(self.namespaces), dtype=bool)
        for s in self.kinds.values():
            self.ns_person_level[ns_code[s.namespace]] |= s.person_level
        self.ns_hash = _hashes(np.array(self.namespaces, dtype=object))
        self.phone_region = phone_region
        self.link_role_emails = link_role_emails
        self.sources: list[str] = []
        self._source_code: dict[str, int] = {}
        self._source_hash = (np.zeros(0, np.uint64), np.zeros(0, np.uint64))
        self._records = _Dictionary()
        self._rec_source = _Growable(np.int16)
        self._rec_ident = _Texts()
        self._rec_observed = _Growable(np.int64)
        self._nodes = _Dictionary()
        self._node_ns = _Growable(np.int8)
        self._node_value = _Texts()
        self._node_deny = _Growable(np.int8)
        self._memo = _Dictionary()  # (kind, raw email/phone) -> node, so each is normalized once
        self._memo_node = _Growable(np.int32)
        self._kind_hash = _hashes(np.array(self.kind_names, dtype=object))
        self._edge_rec = _Growable(np.int32)
        self._edge_node = _Growable(np.int32)
        self._edge_kind = _Growable(np.int8)
        self.rows = 0
        self.rows_without_record = 0
        self.unreadable: Counter[str] = Counter()

    def _normalize(self, spec: KindSpec, raw: np.ndarray) -> list[str | None]:
        """Normalized forms of distinct raw values of one kind (None: unreadable)."""
        if spec.value == "email":
            email = normalize_email.__wrapped__
            return [n.canonical if (n := email(v)) else None for v in raw]
        if spec.value == "phone":
            phone, region = normalize_phone.__wrapped__, self.phone_region
            return [phone(v, region) for v in raw]
        return [None if (t := v.strip()) in _NULL_IDS else t for v in raw]

    def _deny(self, spec: KindSpec, value: str) -> int:
        """Why a normalized identifier may never link, if it may not (DENY_* code)."""
        if spec.value == "email":
            if is_placeholder_email(value):
                return DENY_PLACEHOLDER
            if not self.link_role_emails and is_role_email(value):
                return DENY_ROLE
        elif spec.value == "phone" and is_placeholder_phone(value):
            return DENY_PLACEHOLDER
        return DENY_NONE

    def _source_codes(self, src: pd.Series) -> np.ndarray:
        codes, uniq = _factorize(src)
        uniq = [str(s) for s in uniq]
        new = [s for s in uniq if s not in self._source_code]
        for s in new:
            self._source_code[s] = len(self.sources)
            self.sources.append(s)
        if new:
            self._source_hash = _hashes(np.array(self.sources, dtype=object))
        glob = np.array([self._source_code[s] for s in uniq], dtype=np.int16)
        return glob[codes]

    def _nodes_of(self, spec: KindSpec, ns: int, raw: np.ndarray) -> np.ndarray:
        """Node ids of distinct raw values (-1 where unreadable), creating new nodes."""
        out = np.full(raw.size, -1, dtype=np.int64)
        norm = self._normalize(spec, raw)
        valid = np.array([n is not None for n in norm], dtype=bool)
        if not valid.any():
            return out
        # several raw spellings -> one normalized value -> one node
        norm_codes, norm_uniq = pd.factorize(np.array(norm, dtype=object)[valid])
        norm_uniq = np.asarray(norm_uniq, dtype=object)
        n1, n2 = _hashes(
            norm_uniq,
            (
                np.full(norm_uniq.size, self.ns_hash[0][ns]),
                np.full(norm_uniq.size, self.ns_hash[1][ns]),
            ),
        )
        slots, is_new = self._nodes.add(n1, n2)
        if is_new.any():
            fresh = norm_uniq[is_new].tolist()
            self._node_ns.extend(np.full(len(fresh), ns, dtype=np.int8))
            self._node_value.extend(fresh)
            self._node_deny.extend(np.array([self._deny(spec, v) for v in fresh], dtype=np.int8))
        out[valid] = slots[norm_codes]
        return out

    def add(self, frame: pd.DataFrame) -> None:
        """Add one chunk of observations (columns OBSERVATION_COLUMNS; observed_at optional)."""
        missing = [c for c in OBSERVATION_COLUMNS[:4] if c not in frame.columns]
        if missing:
            raise CxwError(f"identity observations lack column(s) {missing}")
        self.rows += len(frame)
        ok = frame["source"].notna().to_numpy() & frame["source_record_id"].notna().to_numpy()
        if not ok.all():
            frame = frame.loc[ok]
        ids_raw = frame["source_record_id"].to_numpy(dtype=object)
        id_codes, id_uniq = pd.factorize(ids_raw)
        id_uniq = _as_text(np.asarray(id_uniq, dtype=object))
        blank = np.array([not s.strip() for s in id_uniq], dtype=bool)
        n_blank = 0
        if blank.any():
            keep = ~blank[id_codes]
            n_blank = int((~keep).sum())
            frame, id_codes = frame.loc[keep], id_codes[keep]
        self.rows_without_record += int((~ok).sum()) + n_blank
        if frame.empty:
            return
        kind_idx, kind_uniq = _factorize(frame["kind"])
        unknown = [k for k in kind_uniq if k not in self.kind_code and not pd.isna(k)]
        if unknown:
            raise CxwError(
                f"unknown identifier kind(s) {sorted(map(str, unknown))[:5]}: expected one of "
                f"{self.kind_names}; fix the staging model or register the kind"
            )
        lookup = [self.kind_code.get(k, -1) for k in kind_uniq]
        kcode = np.array([*lookup, -1], dtype=np.int8)[kind_idx]  # code -1: no kind given
        if "observed_at" in frame.columns:
            observed = _to_micros(frame["observed_at"])
        else:
            observed = np.full(len(frame), NEVER, dtype=np.int64)

        # records: exact within the chunk (factorized strings), then the global dictionary
        scode = self._source_codes(frame["source"])
        combo = scode.astype(np.int64) * max(len(id_uniq), 1) + id_codes
        rec_uniq, rec_first, rec_inv = np.unique(combo, return_index=True, return_inverse=True)
        u_src = scode[rec_first]
        u_ids = id_uniq[id_codes[rec_first]]
        s1, s2 = self._source_hash
        h1, h2 = _hashes(u_ids, (s1[u_src], s2[u_src]))
        rec_slot, is_new = self._records.add(h1, h2)
        self._rec_source.extend(u_src[is_new])
        self._rec_ident.extend(u_ids[is_new].tolist())
        self._rec_observed.extend(np.full(int(is_new.sum()), NEVER, dtype=np.int64))
        first_seen = np.full(rec_uniq.size, NEVER, dtype=np.int64)
        np.minimum.at(first_seen, rec_inv, observed)
        obs_all = self._rec_observed.view()
        obs_all[rec_slot] = np.minimum(obs_all[rec_slot], first_seen)
        row_rec = rec_slot[rec_inv].astype(np.int32)

        # identifier nodes: normalize each distinct raw value once, then the global dictionary
        values = frame["value"].to_numpy(dtype=object)
        has_value = ~pd.isna(values)
        row_node = np.full(len(frame), -1, dtype=np.int64)
        for k in np.unique(kcode).tolist():
            idx = np.flatnonzero((kcode == k) & has_value)
            if k < 0 or idx.size == 0:
                continue
            spec = self.kinds[self.kind_names[k]]
            raw_codes, raw_uniq = pd.factorize(values[idx])
            raw_uniq = _as_text(np.asarray(raw_uniq, dtype=object))
            node_of_raw = np.full(raw_uniq.size, -1, dtype=np.int64)
            todo = np.ones(raw_uniq.size, dtype=bool)
            if spec.value != "id":  # emails/phones recur across chunks: normalize each once
                m1, m2 = _hashes(
                    raw_uniq,
                    (
                        np.full(raw_uniq.size, self._kind_hash[0][k]),
                        np.full(raw_uniq.size, self._kind_hash[1][k]),
                    ),
                )
                memo = self._memo.find(m1, m2)
                todo = memo < 0
                node_of_raw[~todo] = self._memo_node.view()[memo[~todo]]
            if todo.any():
                node_of_raw[todo] = self._nodes_of(spec, int(self.kind_ns[k]), raw_uniq[todo])
                if spec.value != "id":
                    self._memo.add(m1[todo], m2[todo])
                    self._memo_node.extend(node_of_raw[todo])
            row_node[idx] = node_of_raw[raw_codes]
            self.unreadable[self.kind_names[k]] += int((row_node[idx] < 0).sum())
        linked = row_node >= 0
        self._edge_rec.extend(row_rec[linked])
        self._edge_node.extend(row_node[linked].astype(np.int32))
        self._edge_kind.extend(kcode[linked])

    def finish(self) -> Observations:
        """Hand over the accumulated arrays (trimmed). Call once, after the last `add`."""
        self._nodes = self._memo = _Dictionary()  # only needed while adding
        self._memo_node = _Growable(np.int32)
        return Observations(
            sources=list(self.sources),
            kinds=self.kind_names,
            kind_rule=self.kind_rule,
            kind_ns=self.kind_ns,
            rules=self.rules,
            namespaces=self.namespaces,
            ns_person_level=self.ns_person_level,
            records=self._records,
            rec_source=self._rec_source.take(),
            rec_ident=self._rec_ident.freeze(),
            rec_observed=self._rec_observed.take(),
            node_ns=self._node_ns.take(),
            node_value=self._node_value.freeze(),
            node_deny=self._node_deny.take(),
            edge_rec=self._edge_rec.take(),
            edge_node=self._edge_node.take(),
            edge_kind=self._edge_kind.take(),
            stats={
                "observation_rows": self.rows,
                "rows_without_record": self.rows_without_record,
                "unreadable_values": {k: v for k, v in self.unreadable.items() if v},
            },
        )


# ---- 2. guard, components, match rules ----------------------------------------------------------
@dataclass
class Resolution:
    """Components of the record graph, each record's rule, and the suppressed identifiers."""

    comp: np.ndarray  # (R,) component (customer) of each record, 0..n_comps-1
    n_comps: int
    comp_size: np.ndarray  # (C,)
    root: np.ndarray  # (C,) first-seen record of each component
    rank: np.ndarray  # (R,) order of records by (observed_at, source, source_record_id)
    rule: np.ndarray  # (R,) index into rules, or len(rules) for singleton
    suppressed: np.ndarray  # (M,) bool
    people_estimate: np.ndarray  # (M,) int32
    node_records: np.ndarray  # (M,) distinct records carrying each identifier
    stats: dict[str, Any] = field(default_factory=dict)


def _incidence(obs: Observations) -> sparse.csr_matrix:
    """identifier x record, duplicates collapsed."""
    m = sparse.csr_matrix(
        (np.ones(obs.edge_rec.size, dtype=bool), (obs.edge_node, obs.edge_rec)),
        shape=(obs.n_nodes, obs.n_records),
    )
    m.sum_duplicates()
    return m


def people_estimate(
    obs: Observations, incidence: sparse.csr_matrix, rows: np.ndarray, excluded: np.ndarray
) -> np.ndarray:
    """For the identifiers `rows`: the most distinct person-level identifiers of any OTHER
    namespace found on the records that carry them (ignoring `excluded` ones), at least 1.

    A person has one or two emails, phones, CRM contacts, shop accounts; a phone seen with nine
    different emails is shared by about nine people. Per-event ids (orders, tickets) and the
    number of records do not count, so a person with 40 tickets from one address scores 1.
    """
    est = np.ones(rows.size, dtype=np.int32)
    if rows.size == 0 or obs.edge_rec.size == 0:
        return est
    sub = incidence[rows]
    er, en = obs.edge_rec, obs.edge_node
    edge_ns = obs.node_ns[en]
    for ns in np.flatnonzero(obs.ns_person_level).tolist():
        keep = (edge_ns == ns) & ~excluded[en]
        if not keep.any():
            continue
        evidence = sparse.csr_matrix(
            (np.ones(int(keep.sum()), dtype=bool), (er[keep], en[keep])),
            shape=(obs.n_records, obs.n_nodes),
        )
        co = sub @ evidence  # identifier x evidence identifier: nonzero = seen together
        count = np.diff(co.indptr).astype(np.int32)
        del co, evidence
        count[obs.node_ns[rows] == ns] = 0
        np.maximum(est, count, out=est)
    return est


def _record_order(obs: Observations) -> np.ndarray:
    """Records by (observed_at, source name, source_record_id): the 'first seen' order."""
    src_rank = np.argsort(np.argsort(np.array(obs.sources, dtype=object)))[obs.rec_source]
    order = np.lexsort((np.arange(obs.n_records), src_rank, obs.rec_observed))
    key_obs, key_src = obs.rec_observed[order], src_rank[order]
    same = (key_obs[1:] == key_obs[:-1]) & (key_src[1:] == key_src[:-1])
    if same.any():  # settle ties by the id text (only the tied records are decoded)
        group = np.cumsum(np.r_[True, ~same])
        pos = np.flatnonzero(np.bincount(group)[group] > 1)
        texts = obs.rec_ident.get(order[pos])
        resort = sorted(range(pos.size), key=lambda j: (group[pos[j]], texts[j]))
        order[pos] = order[pos][resort]
    return order


def resolve_graph(obs: Observations, max_share: int) -> Resolution:
    """Guard shared identifiers, find connected components, derive each record's match rule."""
    t0 = time.perf_counter()
    R, M = obs.n_records, obs.n_nodes
    incidence = _incidence(obs)
    node_records = np.diff(incidence.indptr).astype(np.int32)
    deny = obs.node_deny > 0
    # only identifiers on 2+ records can link; two passes: identifiers found shared in the
    # first pass are not evidence in the second (estimates only go down, so only they move)
    estimate = np.ones(M, dtype=np.int32)
    rows = np.flatnonzero((node_records >= 2) & ~deny)
    estimate[rows] = people_estimate(obs, incidence, rows, deny)
    first = np.zeros(M, dtype=bool)
    first[rows] = estimate[rows] > max_share
    again = np.flatnonzero(first)
    estimate[again] = people_estimate(obs, incidence, again, deny | first)
    deny_rows = np.flatnonzero((node_records >= 2) & deny)
    estimate[deny_rows] = people_estimate(obs, incidence, deny_rows, deny | first)
    suppressed = deny | (estimate > max_share)
    t_guard = time.perf_counter() - t0

    if M >= 1 << 27:
        raise CxwError(f"{M} identifiers: more than this step's limit of 134M")
    # record graph: the records of each linking identifier, chained in order of edge strength,
    # so that at any rule level the records linked at that level stay connected
    link_nodes = (node_records >= 2) & ~suppressed
    m = link_nodes[obs.edge_node]
    strength = obs.kind_rule[obs.edge_kind[m]].astype(np.int64)
    key = (obs.edge_node[m].astype(np.int64) << 36) | (strength << 32) | obs.edge_rec[m]
    del m, strength
    key.sort()
    node_of = key >> 36
    same = node_of[1:] == node_of[:-1]
    del node_of
    recs = (key & 0xFFFFFFFF).astype(np.int32)
    lvl = ((key >> 32) & 0xF).astype(np.int8)
    del key
    ra, rb, rl = recs[:-1][same], recs[1:][same], lvl[1:][same]
    del recs, lvl, same

    # components, built up one rule level at a time (strongest first); a record's rule is the
    # first level at which it is connected to its component's first-seen record
    labels = np.arange(R, dtype=np.int32)
    n_labels = R
    levels: list[tuple[int, np.ndarray]] = []
    for level in np.unique(rl).tolist():
        pick = rl == level
        u, v = labels[ra[pick]], labels[rb[pick]]
        graph = sparse.csr_matrix(
            (np.ones(u.size, dtype=np.int8), (u, v)), shape=(n_labels, n_labels)
        )
        n_labels, sub = connected_components(graph, directed=True, connection="weak")
        labels = sub.astype(np.int32)[labels]
        levels.append((level, labels))
    n_links = int(ra.size)
    del ra, rb, rl
    comp = labels
    n_comps = n_labels if R else 0
    comp_size = np.bincount(comp, minlength=n_comps)

    order = _record_order(obs)
    rank = np.empty(R, dtype=np.int32)
    rank[order] = np.arange(R, dtype=np.int32)
    _, first_pos = np.unique(comp[order], return_index=True)
    root = order[first_pos]

    singleton = len(obs.rules)
    rule = np.full(R, -1, dtype=np.int16)
    multi = comp_size[comp] > 1
    rule[~multi] = singleton
    is_root = np.zeros(R, dtype=bool)
    is_root[root] = True
    pending = multi & ~is_root
    root_pending = comp_size > 1
    root_rule = np.full(n_comps, -1, dtype=np.int16)
    for level, rec_labels in levels:
        root_label = rec_labels[root]
        hit = pending & (rec_labels == root_label[comp])
        rule[hit] = level
        pending &= ~hit
        size = np.bincount(rec_labels)
        rhit = root_pending & (size[root_label] > 1)
        root_rule[rhit] = level
        root_pending &= ~rhit
    multi_comps = np.flatnonzero(comp_size > 1)
    rule[root[multi_comps]] = root_rule[multi_comps]
    if (rule < 0).any():  # cannot happen: every multi-record component is connected by some level
        raise AssertionError("identity: a record was left without a match rule")
    return Resolution(
        comp=comp,
        n_comps=n_comps,
        comp_size=comp_size,
        root=root,
        rank=rank,
        rule=rule,
        suppressed=suppressed,
        people_estimate=estimate,
        node_records=node_records,
        stats={
            "records": R,
            "identifiers": M,
            "edges": int(obs.edge_rec.size),
            "record_links": n_links,
            "clusters": n_comps,
            "multi_record_clusters": int(multi_comps.size),
            "largest_cluster": int(comp_size.max()) if n_comps else 0,
            "guard_seconds": round(t_guard, 3),
            "components_seconds": round(time.perf_counter() - t0 - t_guard, 3),
        },
    )


def suppressed_table(obs: Observations, res: Resolution, salt: str) -> pd.DataFrame:
    """Identifiers that were kept from linking (carried by 2+ records), hashed, with the reason."""
    idx = np.flatnonzero(res.suppressed & (res.node_records >= 2))
    kinds = np.array(obs.namespaces, dtype=object)[obs.node_ns[idx]]
    values = obs.node_value.get(idx)
    return pd.DataFrame(
        {
            "identifier_kind": kinds,
            "identifier_hash": [
                identifier_hash(salt, k, v) for k, v in zip(kinds, values, strict=True)
            ],
            "distinct_people_estimate": res.people_estimate[idx].astype(np.int64),
            "record_count": res.node_records[idx],
            "reason": [_REASONS.get(int(d), "shared") for d in obs.node_deny[idx]],
        }
    )


# ---- 3. stable keys ---------------------------------------------------------------------------
@dataclass
class Previous:
    """The assignments of the last run, aligned with the current records."""

    rec: np.ndarray  # (P,) index of the record now, -1 if it is gone
    key: np.ndarray  # (P,) uint64
    rule: np.ndarray  # (P,) rule code (-1 unknown)
    first_assigned: np.ndarray  # (P,) int64 microseconds
    updated: np.ndarray  # (P,) int64 microseconds
    gone: list[tuple[str, str]]  # (source, source_record_id) no longer observed
    issued: np.ndarray  # sorted uint64: every key ever handed out (live or retired)

    @classmethod
    def empty(cls) -> Previous:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z.astype(np.uint64), z.astype(np.int16), z, z, [], z.astype(np.uint64))


def parse_keys(keys: Iterable[str]) -> np.ndarray:
    keys = list(keys)
    bad = [k for k in keys if not isinstance(k, str) or not _KEY_RX.match(k)]
    if bad:
        raise CxwError(f"not a customer key: {bad[0]!r} (expected c_ + 16 hex digits)")
    return np.array([int(k[2:], 16) for k in keys], dtype=np.uint64)


def align_previous(
    obs: Observations,
    frames: Iterable[pd.DataFrame],
    retired: Iterable[str] = (),
) -> Previous:
    """Read previous assignments (ASSIGNMENT_COLUMNS, in chunks) against the current records."""
    rule_code = {r: i for i, r in enumerate((*obs.rules, SINGLETON))}
    parts: list[tuple[np.ndarray, ...]] = []
    gone: list[tuple[str, str]] = []
    for frame in frames:
        if frame.empty:
            continue
        src = frame["source"].to_numpy(dtype=object)
        ids = frame["source_record_id"].astype(str).to_numpy(dtype=object)
        rec = obs.record_index(src, ids)
        rules = frame["match_rule"].map(rule_code).astype(float).fillna(-1).to_numpy(np.int16)
        keys = frame["customer_key"]
        parts.append(
            (
                rec,
                keys.to_numpy(np.int64).view(np.uint64)  # read as bigint by SQL
                if keys.dtype.kind in "iu"
                else parse_keys(keys),
                rules,
                _to_micros(frame["first_assigned_at"]),
                _to_micros(frame["updated_at"]),
            )
        )
        lost = np.flatnonzero(rec < 0)
        gone.extend(zip(src[lost].tolist(), ids[lost].tolist(), strict=True))
    if not parts:
        prev = Previous.empty()
    else:
        cols = [np.concatenate([p[i] for p in parts]) for i in range(5)]
        prev = Previous(*cols, gone=gone, issued=np.zeros(0, dtype=np.uint64))
    prev.issued = np.unique(np.concatenate([prev.key, parse_keys(retired)]))
    return prev


@dataclass
class Keys:
    key: np.ndarray  # (R,) uint64 customer key per record
    first_assigned: np.ndarray  # (R,) int64 microseconds
    updated: np.ndarray  # (R,) int64 microseconds
    changed: np.ndarray  # (R,) bool: new record, or key/rule changed
    merges: list[tuple[int, int]]  # (merged_key, surviving_key)
    stats: dict[str, Any] = field(default_factory=dict)


def assign_keys(obs: Observations, res: Resolution, prev: Previous, salt: str, now_us: int) -> Keys:
    """Give every component a key: its records' previous key, the oldest of several, or a new one.

    Previous keys are taken in age order (first assigned, then the age of their oldest record,
    then the key). Each takes the component holding its oldest record if that has no key yet,
    else the next such component (a split part); a key that finds none is retired into the key
    of the component holding its oldest record and recorded as a merge.
    """
    C = res.n_comps
    comp_key = np.zeros(C, dtype=np.uint64)
    has_key = np.zeros(C, dtype=bool)
    merges: list[tuple[int, int]] = []
    present = prev.rec >= 0
    comps_with_history = np.zeros(0, dtype=np.int64)
    if present.any():
        pr = prev.rec[present]
        pc, pk, prk = res.comp[pr], prev.key[present], res.rank[pr]
        del pr
        # distinct (component, key) pairs with the rank of the key's oldest record there
        order = np.lexsort((prk, pk, pc))
        pc, pk, prk = pc[order], pk[order], prk[order]
        del order
        first = np.ones(pc.size, dtype=bool)
        first[1:] = (pc[1:] != pc[:-1]) | (pk[1:] != pk[:-1])
        pairs = pd.DataFrame({"c": pc[first], "k": pk[first], "r": prk[first]})
        del pc, pk, prk, first
        comps_with_history = pairs["c"].unique()
        per_comp = pairs.groupby("c")["k"].transform("size").to_numpy()
        _, key_inv, key_n = np.unique(
            pairs["k"].to_numpy(), return_inverse=True, return_counts=True
        )
        simple = (key_n[key_inv] == 1) & (per_comp == 1)
        s = pairs[simple]
        comp_key[s["c"].to_numpy()] = s["k"].to_numpy(np.uint64)
        has_key[s["c"].to_numpy()] = True
        hard = pairs[~simple]
        del pairs, s
        if len(hard):
            age = pd.Series(prev.first_assigned).groupby(prev.key).min()
            hard = hard.assign(
                first=hard["k"].map(age), oldest=hard.groupby("k")["r"].transform("min")
            ).sort_values(["first", "oldest", "k", "r"])
            for k, grp in hard.groupby("k", sort=False):
                comps = grp["c"].to_numpy()
                free = comps[~has_key[comps]]
                if free.size:
                    comp_key[free[0]] = k
                    has_key[free[0]] = True
                else:
                    merges.append((int(k), int(comp_key[comps[0]])))
    kept = int(has_key.sum())

    # new components: key from the first-seen record; never reuse a key issued before
    need = np.flatnonzero(~has_key)
    roots = res.root[need]
    names = np.array(obs.sources, dtype=object)[obs.rec_source[roots]]
    idents = obs.rec_ident.get(roots)
    fresh = np.array(
        [derive_key(salt, s, i) for s, i in zip(names, idents, strict=True)], dtype=np.uint64
    )
    taken = np.concatenate([prev.issued, comp_key[has_key]])
    clash = np.isin(fresh, taken)
    _, first_at = np.unique(fresh, return_index=True)
    repeated = np.ones(fresh.size, dtype=bool)
    repeated[first_at] = False
    clash |= repeated
    if clash.any():
        used = set(taken.tolist()) | set(fresh[~clash].tolist())
        for j in np.flatnonzero(clash):
            attempt = 1
            k = derive_key(salt, names[j], idents[j], attempt)
            while k in used:
                attempt += 1
                k = derive_key(salt, names[j], idents[j], attempt)
            fresh[j] = k
            used.add(k)
    comp_key[need] = fresh

    key = comp_key[res.comp]
    first_assigned = np.full(obs.n_records, now_us, dtype=np.int64)
    updated = np.full(obs.n_records, now_us, dtype=np.int64)
    changed = np.ones(obs.n_records, dtype=bool)
    if present.any():
        r = prev.rec[present]
        first_assigned[r] = prev.first_assigned[present]
        same = (prev.key[present] == key[r]) & (prev.rule[present] == res.rule[r])
        updated[r[same]] = prev.updated[present][same]
        changed[r[same]] = False
    return Keys(
        key=key,
        first_assigned=first_assigned,
        updated=updated,
        changed=changed,
        merges=merges,
        stats={
            "keys_kept": kept,
            "keys_new": int(need.size),
            "keys_merged": len(merges),
            "split_clusters": int(np.isin(need, comps_with_history).sum()),
            "records_changed": int(changed.sum()),
            "records_gone": len(prev.gone),
        },
    )


def rule_names(obs: Observations, res: Resolution) -> np.ndarray:
    return np.array([*obs.rules, SINGLETON], dtype=object)[res.rule]


# ---- 4. in-memory API (tests, benchmarks, notebooks) -----------------------------------------
@dataclass
class IdentityResult:
    assignments: pd.DataFrame  # ASSIGNMENT_COLUMNS, one row per source record
    merges: pd.DataFrame  # merged_key, surviving_key, merged_at, reason
    suppressed: pd.DataFrame  # identifier_kind, identifier_hash, estimate, record_count, reason
    summary: dict[str, Any]


def resolve_frame(
    observations: pd.DataFrame | Iterable[pd.DataFrame],
    previous: pd.DataFrame | None = None,
    *,
    retired_keys: Iterable[str] = (),
    max_share: int = 3,
    salt: str = "",
    now: datetime | None = None,
    kinds: Mapping[str, KindSpec] | None = None,
    phone_region: str = "US",
    link_role_emails: bool = False,
) -> IdentityResult:
    """Resolve observations held in memory; `previous` is a former result's `assignments`."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    now_us = int(_to_micros([now])[0])
    acc = ObservationSet(kinds, phone_region=phone_region, link_role_emails=link_role_emails)
    frames = [observations] if isinstance(observations, pd.DataFrame) else observations
    for frame in frames:
        acc.add(frame)
    obs = acc.finish()
    res = resolve_graph(obs, max_share)
    prev = align_previous(obs, [] if previous is None else [previous], retired_keys)
    keys = assign_keys(obs, res, prev, salt, now_us)
    assignments = pd.DataFrame(
        {
            "source": np.array(obs.sources, dtype=object)[obs.rec_source],
            "source_record_id": obs.rec_ident.get(np.arange(obs.n_records)),
            "customer_key": [key_text(k) for k in keys.key.tolist()],
            "match_rule": rule_names(obs, res),
            "first_assigned_at": pd.to_datetime(keys.first_assigned, unit="us", utc=True),
            "updated_at": pd.to_datetime(keys.updated, unit="us", utc=True),
        }
    )
    assignments = assignments.sort_values(["source", "source_record_id"], ignore_index=True)
    merges = pd.DataFrame(
        {
            "merged_key": [key_text(a) for a, _ in keys.merges],
            "surviving_key": [key_text(b) for _, b in keys.merges],
            "merged_at": pd.Timestamp(now).tz_convert("UTC") if keys.merges else [],
            "reason": "clusters_merged",
        }
    )
    suppressed = suppressed_table(obs, res, salt)
    summary = {**obs.stats, **res.stats, **keys.stats}
    summary["suppressed"] = dict(Counter(suppressed["reason"]))
    summary["seconds"] = round(time.perf_counter() - started, 3)
    return IdentityResult(assignments, merges, suppressed, summary)


# ---- 5. quality against the simulator's ground truth ------------------------------------------
def pair_counts(predicted: np.ndarray, truth: np.ndarray) -> tuple[int, int, int]:
    """(true-positive pairs, predicted pairs, true pairs) of two labelings of the same items.

    From the contingency table: sum C(n_ij, 2), sum C(a_i, 2), sum C(b_j, 2); pairs are never
    enumerated, so 10M records cost a few sorts.
    """

    def c2(sizes: np.ndarray) -> int:
        s = sizes.astype(np.int64)
        return int((s * (s - 1) // 2).sum())

    p = pd.factorize(predicted)[0].astype(np.int64)
    t = pd.factorize(truth)[0].astype(np.int64)
    joint = p * (int(t.max(initial=0)) + 1) + t
    return (
        c2(np.unique(joint, return_counts=True)[1]),
        c2(np.bincount(p)),
        c2(np.bincount(t)),
    )


def evaluate_against_truth(assignments: pd.DataFrame, truth_links: pd.DataFrame) -> dict[str, Any]:
    """Pairwise precision and recall of `assignments` against `truth/identity_links.csv`.

    Truth records missing from the assignments count as singletons (they cost recall); assigned
    records absent from the truth (e.g. invalid records the simulator injected) are ignored.
    """
    a = assignments[["source", "source_record_id", "customer_key"]].astype(str)
    t = truth_links[["person_id", "source", "source_record_id"]].astype(str)
    joined = t.merge(a, on=["source", "source_record_id"], how="left")
    missing = joined["customer_key"].isna()
    pred = joined["customer_key"].to_numpy(dtype=object).copy()
    pred[missing.to_numpy()] = ["missing:" + str(i) for i in range(int(missing.sum()))]
    tp, pp, tt = pair_counts(pred, joined["person_id"].to_numpy(dtype=object))
    per_cluster = joined.groupby("customer_key")["person_id"].nunique()
    per_person = joined.loc[~missing].groupby("person_id")["customer_key"].nunique()
    return {
        "precision": tp / pp if pp else 1.0,
        "recall": tp / tt if tt else 1.0,
        "true_positive_pairs": tp,
        "predicted_pairs": pp,
        "true_pairs": tt,
        "records": len(joined),
        "records_missing": int(missing.sum()),
        "records_not_in_truth": len(a) - int((~missing).sum()),
        "clusters": int(per_cluster.size),
        "persons": int(joined["person_id"].nunique()),
        "clusters_mixing_persons": int((per_cluster > 1).sum()),
        "persons_split": int((per_person > 1).sum()),
    }


# ---- 6. the warehouse step ----------------------------------------------------------------------
class _CopyStream(io.RawIOBase):
    """A file-like view of a psycopg COPY TO STDOUT, for pandas' chunked CSV reader."""

    def __init__(self, copy: Any) -> None:
        self._chunks = iter(copy)
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf:
            try:
                self._buf = bytes(next(self._chunks))
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _copy_frames(
    conn: Any, query: Any, names: list[str], dtypes: dict[str, Any], chunk_rows: int
) -> Iterator[pd.DataFrame]:
    with conn.cursor().copy(query) as copy:
        reader = io.BufferedReader(_CopyStream(copy), buffer_size=1 << 20)
        yield from pd.read_csv(
            reader,
            header=None,
            names=names,
            dtype=dtypes,
            keep_default_na=False,
            na_values=[""],
            chunksize=chunk_rows,
            engine="c",
        )


def _relation(relation: str) -> Any:
    from psycopg import sql

    parts = relation.split(".")
    if not 1 <= len(parts) <= 2 or not all(
        re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", p) for p in parts
    ):
        raise CxwError(f"not a relation name: {relation!r} (expected schema.name)")
    return sql.Identifier(*parts)


def _csv_chunks(columns: list[Iterable[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(zip(*columns, strict=True))
    return buf.getvalue()


def _assignment_csv(
    obs: Observations, res: Resolution, keys: Keys, idx: np.ndarray
) -> Iterator[str]:
    sources = np.array(obs.sources, dtype=object)
    names = np.array([*obs.rules, SINGLETON], dtype=object)
    for start in range(0, idx.size, 100_000):
        j = idx[start : start + 100_000]
        yield _csv_chunks(
            [
                sources[obs.rec_source[j]],
                obs.rec_ident.get(j),
                (key_text(k) for k in keys.key[j].tolist()),
                names[res.rule[j]],
                _iso(keys.first_assigned[j]),
                _iso(keys.updated[j]),
            ]
        )


def resolve_identities(
    settings: Any,
    relation: str = DEFAULT_RELATION,
    *,
    phone_region: str = "US",
    link_role_emails: bool = False,
    reset: bool = False,
    chunk_rows: int = 500_000,
) -> dict[str, Any]:
    """Resolve the observations in `relation` and update the identity tables in one transaction.

    Reads (source, source_record_id, kind, value, observed_at) with COPY, streamed in chunks;
    writes only changed assignments (upsert), new merges, and the suppressed list, so readers
    see the old state until commit. `reset=True` forgets all previous keys and merges (keys then
    depend on the data only; downstream references to old keys break). Returns a summary.
    """
    from psycopg import sql

    from cxw.warehouse import connect

    started = time.perf_counter()
    started_at = datetime.now(UTC)
    run_id = f"identity-{started_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    rel = _relation(relation)
    salt = settings.salt()
    max_share = int(settings.identity_max_share)
    with connect(settings) as conn:
        if conn.execute("select to_regclass(%s)", (relation,)).fetchone()[0] is None:
            raise CxwError(f"{relation} does not exist: run the dbt staging layer first")
        conn.execute("select pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            acc = ObservationSet(phone_region=phone_region, link_role_emails=link_role_emails)
            query = sql.SQL(
                "copy (select source::text, source_record_id::text, kind::text, value::text, "
                "coalesce((extract(epoch from observed_at::timestamptz) * 1000000)::bigint, "
                "9223372036854775807) from {}) to stdout with (format csv)"
            ).format(rel)
            names = list(OBSERVATION_COLUMNS)
            dtypes = {
                "source": "category",
                "source_record_id": object,
                "kind": "category",
                "value": object,
                "observed_at": np.int64,
            }
            for frame in _copy_frames(conn, query, names, dtypes, chunk_rows):
                acc.add(frame)
            obs = acc.finish()
            del acc
            timing = {"read_seconds": time.perf_counter() - started}
            res = resolve_graph(obs, max_share)
            timing["resolve_seconds"] = time.perf_counter() - started - timing["read_seconds"]
            if reset:
                prev = Previous.empty()
            else:
                retired = [r[0] for r in conn.execute(_ISSUED_SQL)]
                prev_query = sql.SQL(  # keys as bigint: ('x' || 16 hex)::bit(64)
                    "copy (select source, source_record_id, "
                    "('x' || substr(customer_key, 3))::bit(64)::bigint, match_rule, "
                    "(extract(epoch from first_assigned_at) * 1000000)::bigint, "
                    "(extract(epoch from updated_at) * 1000000)::bigint "
                    "from enrich.identity_assignments) to stdout with (format csv)"
                )
                prev = align_previous(
                    obs,
                    _copy_frames(
                        conn,
                        prev_query,
                        list(ASSIGNMENT_COLUMNS),
                        {"source": "category", "match_rule": "category"}
                        | {"source_record_id": object, "customer_key": np.int64}
                        | dict.fromkeys(ASSIGNMENT_COLUMNS[4:], np.int64),
                        chunk_rows,
                    ),
                    retired,
                )
            now = datetime.now(UTC)
            now_us = int(_to_micros([now])[0])
            keys = assign_keys(obs, res, prev, salt, now_us)
            suppressed = suppressed_table(obs, res, salt)
            conn.commit()
            mark = time.perf_counter()
            timing["keys_seconds"] = mark - started - sum(timing.values())
            with conn.transaction():
                _write(conn, obs, res, keys, prev, suppressed, now, reset)
                timing["write_seconds"] = time.perf_counter() - mark
                summary = {
                    "run_id": run_id,
                    **obs.stats,
                    **res.stats,
                    **keys.stats,
                    "suppressed": dict(Counter(suppressed["reason"])),
                    **{k: round(v, 2) for k, v in timing.items()},
                    "seconds": round(time.perf_counter() - started, 2),
                }
                conn.execute(
                    "insert into cxw_meta.identity_runs (run_id, relation, max_share, summary, "
                    "started_at, finished_at) values (%s, %s, %s, %s, %s, now())",
                    (run_id, relation, max_share, json.dumps(summary), started_at),
                )
        finally:
            try:
                conn.rollback()
                conn.execute("select pg_advisory_unlock(%s)", (_LOCK_ID,))
                conn.commit()
            except Exception:  # a broken connection: closing it releases the lock anyway
                pass
    return summary


_ISSUED_SQL = (
    "select merged_key from enrich.customer_key_merges "
    "union select surviving_key from enrich.customer_key_merges"
)


def _write(
    conn: Any,
    obs: Observations,
    res: Resolution,
    keys: Keys,
    prev: Previous,
    suppressed: pd.DataFrame,
    now: datetime,
    reset: bool,
) -> None:
    cols = ", ".join(ASSIGNMENT_COLUMNS)
    if reset:  # rare and deliberate: readers wait for the commit instead of seeing old rows
        conn.execute("truncate enrich.identity_assignments, enrich.customer_key_merges")
        target, changed = "enrich.identity_assignments", np.arange(obs.n_records)
    elif prev.rec.size == 0:
        target, changed = "enrich.identity_assignments", np.arange(obs.n_records)
    else:
        conn.execute(
            "create temp table _identity_changes (like enrich.identity_assignments) on commit drop"
        )
        target, changed = "_identity_changes", np.flatnonzero(keys.changed)
    # a full load into the empty table: build the indexes once afterwards (much faster than
    # maintaining them row by row); inside the transaction, so a failure leaves them in place
    bulk = target == "enrich.identity_assignments" and changed.size >= _BULK_ROWS
    if bulk:
        conn.execute("set local maintenance_work_mem = '256MB'")
        conn.execute(
            "alter table enrich.identity_assignments drop constraint identity_assignments_pkey"
        )
        conn.execute("drop index enrich.identity_assignments_customer_key")
    with conn.cursor().copy(f"copy {target} ({cols}) from stdin with (format csv)") as copy:
        for text in _assignment_csv(obs, res, keys, changed):
            copy.write(text)
    if bulk:
        conn.execute(
            "alter table enrich.identity_assignments add constraint identity_assignments_pkey "
            "primary key (source, source_record_id)"
        )
        conn.execute(
            "create index identity_assignments_customer_key "
            "on enrich.identity_assignments (customer_key)"
        )
    if target == "_identity_changes":
        conn.execute(
            f"insert into enrich.identity_assignments ({cols}) select {cols} from _identity_changes "
            "on conflict (source, source_record_id) do update set customer_key = "
            "excluded.customer_key, match_rule = excluded.match_rule, updated_at = excluded.updated_at"
        )
    if prev.gone and not reset:
        conn.execute(
            "create temp table _identity_gone (source text, source_record_id text) on commit drop"
        )
        with conn.cursor().copy("copy _identity_gone from stdin") as copy:
            for row in prev.gone:
                copy.write_row(row)
        conn.execute(
            "delete from enrich.identity_assignments a using _identity_gone g "
            "where a.source = g.source and a.source_record_id = g.source_record_id"
        )
    if keys.merges:
        with conn.cursor().copy(
            "copy enrich.customer_key_merges (merged_key, surviving_key, merged_at, reason) "
            "from stdin"
        ) as copy:
            for merged, surviving in keys.merges:
                copy.write_row((key_text(merged), key_text(surviving), now, "clusters_merged"))
    conn.execute("delete from enrich.identity_suppressed")
    with conn.cursor().copy(
        "copy enrich.identity_suppressed (identifier_kind, identifier_hash, "
        "distinct_people_estimate, record_count, reason, computed_at) from stdin with (format csv)"
    ) as copy:
        columns = [suppressed[c].tolist() for c in suppressed.columns]
        copy.write(_csv_chunks([*columns, [now.isoformat()] * len(suppressed)]))


# ---- 7. scale benchmark -------------------------------------------------------------------------
_AREA_CODES = (212, 646, 718, 213, 310, 415, 312, 713, 214, 512, 602, 215, 305, 206, 303, 617)
_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com")
_PLACEHOLDER_EMAILS = ("noemail@noemail.com", "none@none.com", "test@test.com", "na@na.com")
_PLACEHOLDER_PHONES = ("000-000-0000", "+10000000000", "555-555-5555", "1234567890")
_ROLES = ("support", "info", "orders", "accounts", "purchasing", "office")


class _World:
    """A synthetic population shaped like `cxw sources generate` (same mess rates), vectorized.

    Each person has a CRM contact (85%; 6% with a duplicate, 60% of those merged), shop accounts,
    orders, abandoned checkouts, tickets, calls and survey responses; identifiers carry the
    simulator's default mess (case, whitespace, plus-tags, phone layouts, shared and placeholder
    values). Only for benchmarks and tests: the pipeline never reads it.
    """

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.next_id: Counter[str] = Counter()

    def ids(self, name: str, n: int) -> np.ndarray:
        start = self.next_id[name]
        self.next_id[name] += n
        return np.arange(start + 1, start + n + 1)

    def emails(self, canon: np.ndarray, company: np.ndarray) -> list[str]:
        rng = self.rng
        n = canon.size
        u = rng.random((n, 4))
        role = rng.integers(0, len(_ROLES), n)
        ph = rng.integers(0, len(_PLACEHOLDER_EMAILS), n)
        out = []
        for j in range(n):
            if u[j, 0] < 0.02:
                c = company[j]
                out.append(f"{_ROLES[role[j]]}@co{c}.com" if c >= 0 else _PLACEHOLDER_EMAILS[ph[j]])
                continue
            s = canon[j]
            if u[j, 1] < 0.05:
                local, _, dom = s.partition("@")
                s = f"{local}+shop@{dom}"
            if u[j, 2] < 0.10:
                s = s.upper()
            if u[j, 3] < 0.04:
                s = f" {s} "
            out.append(s)
        return out

    def phones(self, digits: np.ndarray) -> list[str]:
        rng = self.rng
        n = digits.size
        u = rng.random((n, 2))
        style = rng.integers(0, 6, n)
        ph = rng.integers(0, len(_PLACEHOLDER_PHONES), n)
        out = []
        for j in range(n):
            if u[j, 0] < 0.03:
                out.append(_PLACEHOLDER_PHONES[ph[j]])
                continue
            s = f"{digits[j]:010d}"
            if u[j, 1] >= 0.6:
                out.append("+1" + s)
                continue
            a, b, c = s[:3], s[3:6], s[6:]
            out.append(
                (
                    f"+1 ({a}) {b}-{c}",
                    f"{a}.{b}.{c}",
                    f"({a}) {b}-{c}",
                    f"{a}-{b}-{c}",
                    s,
                    f"1-{a}-{b}-{c}",
                )[style[j]]
            )
        return out

    def chunk(self, first: int, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Observations and truth (person, source, source_record_id) of people first..first+n."""
        rng = self.rng
        person = np.arange(first, first + n)
        b2b = rng.random(n) < 0.22
        company = np.where(b2b, person // 3, -1)
        dom = np.array(_DOMAINS, dtype=object)[rng.integers(0, len(_DOMAINS), n)]
        dom = np.where(b2b & (rng.random(n) < 0.85), [f"co{c}.com" for c in company], dom)
        canon = np.array([f"user{p}@{d}" for p, d in zip(person, dom, strict=True)], dtype=object)
        second = np.array([f"user{p}.alt@mail{p % 7}.net" for p in person], dtype=object)
        digits = (
            np.array(_AREA_CODES)[person % len(_AREA_CODES)] * 10_000_000
            + (200 + (person // len(_AREA_CODES)) // 10_000 % 790) * 10_000
            + (person // len(_AREA_CODES)) % 10_000
        )
        t0 = 1_700_000_000_000_000 + (rng.random(n) * 365 * 86_400e6).astype(np.int64)
        rows: list[tuple[Any, ...]] = []  # (source, ids, kind, values, observed) column blocks
        truth: list[tuple[str, np.ndarray, np.ndarray]] = []

        def emit(
            source: str, ids: np.ndarray, who: np.ndarray, at: np.ndarray, **kinds: Any
        ) -> None:
            sid = ids.astype(str)
            truth.append((source, sid, who))
            for kind, (mask, values) in kinds.items():
                rows.append((source, sid[mask], kind, values, at[mask]))

        def every(k: int) -> np.ndarray:
            return np.ones(k, dtype=bool)

        # CRM contacts (+ duplicates, some merged)
        crm = np.flatnonzero(b2b | (rng.random(n) < 0.85))
        cid = self.ids("crm", crm.size)
        has_phone = rng.random(crm.size) < 0.6
        emit(
            "crm_contact", cid, person[crm], t0[crm],
            crm_contact_id=(every(crm.size), cid.astype(str)),
            email=(every(crm.size), self.emails(canon[crm], company[crm])),
            phone=(has_phone, self.phones(digits[crm][has_phone])),
        )  # fmt: skip
        dup = rng.random(crm.size) < 0.06
        d = crm[dup]
        did = self.ids("crm", d.size)
        merged = rng.random(d.size) < 0.6
        dmail = np.where(rng.random(d.size) < 0.5, second[d], canon[d])
        dphone = rng.random(d.size) < 0.5
        d_at = t0[d] + 40 * 86_400_000_000
        emit(
            "crm_contact", did, person[d], d_at,
            crm_contact_id=(every(d.size), did.astype(str)),
            email=(every(d.size), self.emails(dmail, company[d])),
            phone=(dphone, self.phones(digits[d][dphone])),
            crm_merged_into=(merged, cid[dup][merged].astype(str)),
        )  # fmt: skip
        rows.append(
            ("crm_contact", cid[dup][merged].astype(str), "crm_merged_object_id",
             did[merged].astype(str), t0[d][merged])
        )  # fmt: skip
        # shop accounts, orders, checkouts
        buyer = np.flatnonzero(rng.random(n) < 0.6)
        acct = self.ids("shop_customer", buyer.size)
        acct_mail = np.array(self.emails(canon[buyer], company[buyer]), dtype=object)
        aphone = rng.random(buyer.size) < 0.5
        emit(
            "shop_customer", acct, person[buyer], t0[buyer],
            shop_customer_id=(every(buyer.size), acct.astype(str)),
            email=(every(buyer.size), acct_mail),
            phone=(aphone, self.phones(digits[buyer][aphone])),
        )  # fmt: skip
        n_orders = 1 + rng.negative_binomial(1, 0.45, buyer.size)
        ob = np.repeat(np.arange(buyer.size), n_orders)
        oid = self.ids("shop_order", ob.size)
        o_at = t0[buyer][ob] + (rng.random(ob.size) * 300 * 86_400e6).astype(np.int64)
        registered = rng.random(buyer.size) < 0.7
        omail = np.where(
            registered[ob],
            acct_mail[ob],
            np.array(self.emails(canon[buyer][ob], company[buyer][ob]), dtype=object),
        )
        ophone = rng.random(ob.size) < 0.5
        emit(
            "shop_order", oid, person[buyer][ob], o_at,
            shop_order_id=(every(ob.size), oid.astype(str)),
            shop_customer_id=(every(ob.size), acct[ob].astype(str)),
            email=(every(ob.size), omail),
            phone=(ophone, self.phones(digits[buyer][ob][ophone])),
        )  # fmt: skip
        ck = np.repeat(np.arange(n), rng.poisson(0.4, n))
        kid = self.ids("shop_checkout", ck.size)
        acct_of = np.full(n, -1)
        acct_of[buyer] = acct
        kacct = acct_of[ck] >= 0
        kphone = rng.random(ck.size) < 0.3
        emit(
            "shop_checkout", kid, person[ck], t0[ck] + 86_400_000_000,
            shop_customer_id=(kacct, acct_of[ck][kacct].astype(str)),
            email=(every(ck.size), self.emails(canon[ck], company[ck])),
            phone=(kphone, self.phones(digits[ck][kphone])),
        )  # fmt: skip
        # contact center: phone contacts (a call, usually with a ticket) and written tickets
        contact = np.repeat(np.arange(n), rng.poisson(1.0, n))
        by_phone = rng.random(contact.size) < 0.45
        c_at = t0[contact] + (rng.random(contact.size) * 300 * 86_400e6).astype(np.int64)
        calls = contact[by_phone]
        call_id = self.ids("call", calls.size)
        with_ticket = rng.random(calls.size) < 0.85
        tid = self.ids("ticket", contact.size)
        call_ticket = tid[by_phone]
        call_phone = np.array(self.phones(digits[calls]), dtype=object)
        emit(
            "contact_center_call", call_id, person[calls], c_at[by_phone],
            phone=(every(calls.size), call_phone),
            ticket_id=(with_ticket, call_ticket[with_ticket].astype(str)),
        )  # fmt: skip
        is_ticket = ~by_phone
        is_ticket[np.flatnonzero(by_phone)[with_ticket]] = True
        tk = np.flatnonzero(is_ticket)
        phone_ch = by_phone[tk]
        t_email = ~phone_ch | (rng.random(tk.size) < 0.4)
        t_phone = np.empty(tk.size, dtype=object)
        call_pos = np.full(contact.size, -1)
        call_pos[np.flatnonzero(by_phone)] = np.arange(calls.size)
        t_phone[phone_ch] = call_phone[call_pos[tk[phone_ch]]]
        t_call = np.full(tk.size, "", dtype=object)
        t_call[phone_ch] = call_id[call_pos[tk[phone_ch]]].astype(str)
        emit(
            "contact_center_ticket", tid[tk], person[contact[tk]], c_at[tk],
            ticket_id=(np.ones(tk.size, dtype=bool), tid[tk].astype(str)),
            email=(t_email, self.emails(canon[contact[tk]][t_email], company[contact[tk]][t_email])),
            phone=(phone_ch, t_phone[phone_ch]),
            call_id=(phone_ch, t_call[phone_ch]),
        )  # fmt: skip
        # surveys: after orders (order email + order id), after tickets, relationship (email)
        so = rng.random(ob.size) < 0.22
        ps = np.flatnonzero(so)
        sid = self.ids("survey", ps.size)
        emit(
            "survey_response", np.char.add("R_", sid.astype(str)), person[buyer][ob][ps], o_at[ps],
            email=(every(ps.size), omail[ps]),
            shop_order_id=(every(ps.size), oid[ps].astype(str)),
        )  # fmt: skip
        st = tk[rng.random(tk.size) < 0.22]
        sid = self.ids("survey", st.size)
        emit(
            "survey_response", np.char.add("R_", sid.astype(str)), person[contact[st]], c_at[st],
            email=(every(st.size), self.emails(canon[contact[st]], company[contact[st]])),
            ticket_id=(every(st.size), tid[st].astype(str)),
        )  # fmt: skip
        rel = np.repeat(buyer, rng.poisson(0.3, buyer.size))
        sid = self.ids("survey", rel.size)
        emit(
            "survey_response", np.char.add("R_", sid.astype(str)), person[rel], t0[rel],
            email=(every(rel.size), self.emails(canon[rel], company[rel])),
        )  # fmt: skip
        obs = pd.DataFrame(
            {
                "source": np.concatenate([np.full(len(r[1]), r[0], dtype=object) for r in rows]),
                "source_record_id": np.concatenate([np.asarray(r[1], dtype=object) for r in rows]),
                "kind": np.concatenate([np.full(len(r[1]), r[2], dtype=object) for r in rows]),
                "value": np.concatenate([np.asarray(r[3], dtype=object) for r in rows]),
                "observed_at": np.concatenate([r[4] for r in rows]),
            }
        )
        truth_df = pd.DataFrame(
            {
                "person_id": np.concatenate([t[2] for t in truth]),
                "source": np.concatenate([np.full(t[1].size, t[0], dtype=object) for t in truth]),
                "source_record_id": np.concatenate([t[1].astype(object) for t in truth]),
            }
        )
        return obs, truth_df


def synthetic_observations(
    n_people: int, seed: int = 0, people_per_chunk: int = 50_000
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """(observations, truth) chunks of a synthetic world of `n_people` (see `_World`)."""
    world = _World(seed)
    for first in range(0, n_people, people_per_chunk):
        yield world.chunk(first, min(people_per_chunk, n_people - first))


def _peak_rss_mb() -> float:
    """The process's peak resident memory (VmHWM), in MiB."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_identity(n_people: int, seed: int = 0, max_share: int = 3) -> dict[str, Any]:
    """Resolve a synthetic world of `n_people` in memory, streamed in chunks as from COPY.

    Reports wall time per phase, the process's peak RSS, and pairwise precision/recall against
    the world's truth. Peak RSS is the process high-water mark: run in a fresh process for a
    clean figure (`python -c "from cxw.enrich.identity import bench_identity; ..."`).
    """
    rss_start = _peak_rss_mb()
    t_gen = t_add = 0.0
    acc = ObservationSet()
    truth_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    it = synthetic_observations(n_people, seed)
    while True:
        t = time.perf_counter()
        try:
            obs_chunk, truth = next(it)
        except StopIteration:
            break
        t_gen += time.perf_counter() - t
        t = time.perf_counter()
        acc.add(obs_chunk)
        t_add += time.perf_counter() - t
        h1, h2 = _record_hashes(
            truth["source"].to_numpy(dtype=object), truth["source_record_id"].to_numpy(dtype=object)
        )
        truth_parts.append((h1, h2, truth["person_id"].to_numpy(np.int64)))
        del obs_chunk, truth
    t = time.perf_counter()
    obs = acc.finish()
    t_finish = time.perf_counter() - t
    t = time.perf_counter()
    res = resolve_graph(obs, max_share)
    t_resolve = time.perf_counter() - t
    t = time.perf_counter()
    keys = assign_keys(obs, res, Previous.empty(), "bench", 0)
    t_keys = time.perf_counter() - t
    peak = _peak_rss_mb()
    # truth alignment (outside the timed pipeline)
    rec = np.concatenate([obs.records.find(h1, h2) for h1, h2, _ in truth_parts])
    person = np.concatenate([p for _, _, p in truth_parts])
    found = rec >= 0
    predicted = keys.key[rec[found]]
    tp, pp, tt = pair_counts(predicted, person[found])
    return {
        "n_people": n_people,
        "records": obs.n_records,
        "observation_rows": obs.stats["observation_rows"],
        "identifiers": obs.n_nodes,
        "edges": int(obs.edge_rec.size),
        "clusters": res.n_comps,
        "suppressed_identifiers": int((res.suppressed & (res.node_records >= 2)).sum()),
        "generate_seconds": round(t_gen, 2),
        "read_normalize_seconds": round(t_add + t_finish, 2),
        "guard_seconds": res.stats["guard_seconds"],
        "components_rules_seconds": res.stats["components_seconds"],
        "keys_seconds": round(t_keys, 2),
        "pipeline_seconds": round(t_add + t_finish + t_resolve + t_keys, 2),
        "peak_rss_mb": round(peak, 1),
        "rss_at_start_mb": round(rss_start, 1),
        "truth_records_missing": int((~found).sum()),
        "precision": tp / pp if pp else 1.0,
        "recall": tp / tt if tt else 1.0,
    }
