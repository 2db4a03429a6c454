"""Identity resolution: normalization, the shared-identifier guard, components, match rules,
stable keys across runs, and the pairwise quality measure.

Expected answers come from hand-built graphs, `phonenumbers` itself, hashlib, and brute-force
pair enumeration, never from the code under test.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import phonenumbers
import pytest

from cxw.enrich import identity as idm
from cxw.enrich.identity import (
    bench_identity,
    evaluate_against_truth,
    resolve_frame,
    synthetic_observations,
)
from cxw.enrich.normalize import (
    is_placeholder_email,
    is_placeholder_phone,
    is_role_email,
    normalize_email,
    normalize_phone,
)
from cxw.errors import CxwError

T0 = datetime(2025, 1, 1, tzinfo=UTC)
SALT = "test-salt"


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def obs(rows: list[tuple]) -> pd.DataFrame:
    """rows: (source, id, kind, value, observed_day)."""
    return pd.DataFrame(
        [(s, i, k, v, day(d)) for s, i, k, v, d in rows],
        columns=["source", "source_record_id", "kind", "value", "observed_at"],
    )


def expected_key(source: str, record_id: str, salt: str = SALT) -> str:
    digest = hashlib.sha256(f"{salt}\x1f{source}\x1f{record_id}".encode()).hexdigest()
    return "c_" + digest[:16]


def clusters(result) -> set[frozenset[str]]:
    a = result.assignments
    names = a["source"] + ":" + a["source_record_id"]
    return {frozenset(g) for g in names.groupby(a["customer_key"]).agg(list)}


def by_record(result) -> pd.DataFrame:
    a = result.assignments
    return a.set_index(a["source"] + ":" + a["source_record_id"])


# ---- normalization ---------------------------------------------------------------------------
def test_email_normalization_trims_lowercases_and_strips_the_plus_tag():
    n = normalize_email("  Jane.Doe+shop@Gmail.COM ")
    assert n.canonical == "jane.doe@gmail.com"
    assert n.plus_variant == "jane.doe+shop@gmail.com"
    assert normalize_email("\tJane.Doe@Gmail.com").canonical == "jane.doe@gmail.com"
    assert normalize_email("jane.doe@gmail.com").plus_variant is None
    assert normalize_email("Jane Doe <JANE@Example.org>").canonical == "jane@example.org"
    assert normalize_email("mailto:Bob@x.io").canonical == "bob@x.io"


@pytest.mark.parametrize(
    "raw", [None, "", "   ", "jane", "a@b", "x@@y.com", "a b@c.com", "j..d@x.com"]
)
def test_email_normalization_rejects_what_is_not_an_address(raw):
    assert normalize_email(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        "+1 (555) 123-4567",
        "555.123.4567",
        "(555) 123 4567",
        "(555) 123-4567",
        "555-123-4567",
        "5551234567",
        "1-555-123-4567",
        "+15551234567",
        " +1 555 123 4567 ",
    ],
)
def test_phone_normalization_to_e164(raw):
    assert normalize_phone(raw) == "+15551234567"


def test_phone_normalization_reads_other_countries_and_rejects_junk():
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"
    assert normalize_phone("020 7946 0958", "GB") == "+442079460958"
    for raw in (None, "", "abc", "12", "call me"):
        assert normalize_phone(raw) is None


def test_phone_fast_path_agrees_with_phonenumbers():
    rnd = random.Random(11)
    layouts = (
        "+1 ({a}) {b}-{c}",
        "{a}.{b}.{c}",
        "({a}) {b}-{c}",
        "{a}-{b}-{c}",
        "{a}{b}{c}",
        "1-{a}-{b}-{c}",
        "+1{a}{b}{c}",
        "1 {a} {b} {c}",
        "({a}){b}{c}",
        "+1.{a}.{b}.{c}",
    )
    for _ in range(3000):
        a, b, c = (
            f"{rnd.randint(0, 999):03d}",
            f"{rnd.randint(0, 999):03d}",
            f"{rnd.randint(0, 9999):04d}",
        )
        raw = rnd.choice(layouts).format(a=a, b=b, c=c)
        num = phonenumbers.parse(raw, "US")
        oracle = (
            phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
            if phonenumbers.is_possible_number(num)
            else None
        )
        assert normalize_phone.__wrapped__(raw, "US") == oracle, raw


def test_placeholders_and_role_addresses():
    for raw in ("000-000-0000", "+10000000000", "555-555-5555", "1234567890", "999-999-9999"):
        assert is_placeholder_phone(normalize_phone(raw)), raw
    assert is_placeholder_phone("+12125550142")  # fictional 555-01xx
    assert not is_placeholder_phone("+12125551234")
    assert not is_placeholder_phone("+442079460958")
    for email in (
        "noemail@noemail.com",
        "none@none.com",
        "na@na.com",
        "test@test.com",
        "customer@example.com",
        "no-reply@example.com",
    ):
        assert is_placeholder_email(email), email
    assert not is_placeholder_email("jane.doe@gmail.com")
    assert is_role_email("support@acmelogistics.com") and is_role_email("info@bakery.com")
    assert not is_role_email("jane.doe@acmelogistics.com")


# ---- graph, guard, rules ---------------------------------------------------------------------
def test_links_are_transitive_and_unrelated_records_stay_apart():
    result = resolve_frame(
        obs(
            [
                ("crm_contact", "1", "email", "Jane.Doe@x.com", 0),
                ("shop_customer", "7", "email", " jane.doe+shop@X.COM", 1),
                ("shop_customer", "7", "phone", "(212) 555-1234", 1),
                ("contact_center_call", "99", "phone", "+12125551234", 2),
                ("contact_center_call", "100", "phone", "+13125557777", 3),
            ]
        ),
        salt=SALT,
    )
    assert clusters(result) == {
        frozenset({"crm_contact:1", "shop_customer:7", "contact_center_call:99"}),
        frozenset({"contact_center_call:100"}),
    }


def test_a_shared_mailbox_does_not_merge_fifty_people():
    rows = []
    for p in range(50):
        rows += [
            ("crm_contact", f"{p}", "crm_contact_id", f"{p}", p),
            ("crm_contact", f"{p}", "email", f"person{p}@mail.com", p),
            ("crm_contact", f"{p}", "phone", f"+1212555{p:04d}", p),
            ("contact_center_ticket", f"t{p}", "email", "Team.Mailbox@Corp.com", p + 0.5),
            ("contact_center_ticket", f"t{p}", "phone", f"+1212555{p:04d}", p + 0.5),
        ]
    result = resolve_frame(obs(rows), salt=SALT)
    assert len(clusters(result)) == 50
    assert all(len(c) == 2 for c in clusters(result))
    sup = result.suppressed.set_index("identifier_hash")
    h = hashlib.sha256(f"{SALT}email:team.mailbox@corp.com".encode()).hexdigest()
    assert sup.loc[h, "reason"] == "shared"
    assert sup.loc[h, "distinct_people_estimate"] == 50
    assert sup.loc[h, "record_count"] == 50


def test_many_tickets_from_one_address_are_one_person():
    rows = [
        ("crm_contact", "1", "email", "ann@mail.com", 0),
        ("crm_contact", "1", "phone", "+12128670199", 0),
    ]
    rows += [("contact_center_ticket", f"t{k}", "email", "ANN@mail.com ", k + 1) for k in range(40)]
    result = resolve_frame(obs(rows), salt=SALT)
    assert len(clusters(result)) == 1
    assert result.suppressed.empty or "shared" not in set(result.suppressed["reason"])


def test_placeholders_and_role_mailboxes_never_link():
    rows = [
        ("shop_order", "1", "email", "test@test.com", 0),
        ("shop_order", "2", "email", "TEST@test.com", 1),
        ("shop_order", "3", "phone", "000-000-0000", 2),
        ("shop_order", "4", "phone", "+10000000000", 3),
        ("shop_order", "5", "email", "support@acme.com", 4),
        ("shop_order", "6", "email", "support@acme.com", 5),
    ]
    result = resolve_frame(obs(rows), salt=SALT)
    assert len(clusters(result)) == 6
    assert sorted(result.suppressed["reason"]) == ["placeholder", "placeholder", "role_address"]
    linked = resolve_frame(obs(rows), salt=SALT, link_role_emails=True)
    assert len(clusters(linked)) == 5  # role mailboxes may link when asked to (2 people <= K)


def test_the_max_share_threshold_is_people_not_records():
    # a household phone used by two people (each with their own email)
    rows = [
        ("crm_contact", "1", "email", "ann@mail.com", 0),
        ("crm_contact", "1", "phone", "+12128670199", 0),
        ("crm_contact", "2", "email", "bob@mail.com", 1),
        ("crm_contact", "2", "phone", "212-867-0199", 1),
    ]
    assert len(clusters(resolve_frame(obs(rows), salt=SALT, max_share=3))) == 1
    assert len(clusters(resolve_frame(obs(rows), salt=SALT, max_share=1))) == 2


def test_identifiers_seen_only_with_shared_ones_are_not_suppressed():
    # Ann has 2 phones of her own and uses 2 office lines that 10 people share: her email sees
    # 4 phones, but the office lines are shared themselves, so they are no evidence against it.
    rows = [
        ("crm_contact", "ann", "email", "ann@mail.com", 0),
        ("crm_contact", "ann", "phone", "+12128670111", 0),
        ("shop_customer", "ann2", "email", "ann@mail.com", 1),
        ("shop_customer", "ann2", "phone", "+12128670112", 1),
    ]
    for line in ("+13128670120", "+13128670121"):
        rows.append(("contact_center_ticket", f"ann-{line}", "email", "ann@mail.com", 2))
        rows.append(("contact_center_ticket", f"ann-{line}", "phone", line, 2))
        for p in range(10):
            rows.append(("contact_center_ticket", f"{p}-{line}", "email", f"p{p}@mail.com", 3))
            rows.append(("contact_center_ticket", f"{p}-{line}", "phone", line, 3))
    result = resolve_frame(obs(rows), salt=SALT)
    rec = by_record(result)
    ann = rec.loc[
        ["crm_contact:ann", "shop_customer:ann2", "contact_center_ticket:ann-+13128670120"]
    ]
    assert ann["customer_key"].nunique() == 1
    assert set(result.suppressed["reason"]) == {"shared"}
    assert len(result.suppressed) == 2  # the two office lines only


def test_crm_merge_records_link_duplicate_contacts():
    rows = [
        ("crm_contact", "10", "crm_contact_id", "10", 0),
        ("crm_contact", "10", "email", "ann@mail.com", 0),
        ("crm_contact", "11", "crm_contact_id", "11", 5),
        ("crm_contact", "11", "email", "ann.other@mail.com", 5),
        ("crm_contact", "11", "crm_merged_into", "10", 5),
        ("crm_contact", "12", "crm_contact_id", "12", 6),
        ("crm_contact", "12", "email", "bob@mail.com", 6),
    ]
    result = resolve_frame(obs(rows), salt=SALT)
    assert frozenset({"crm_contact:10", "crm_contact:11"}) in clusters(result)
    rec = by_record(result)
    assert rec.loc["crm_contact:11", "match_rule"] == "crm_merge"
    assert rec.loc["crm_contact:10", "match_rule"] == "crm_merge"
    assert rec.loc["crm_contact:12", "match_rule"] == "singleton"


def test_match_rule_is_the_weakest_link_on_the_strongest_path_to_the_first_record():
    rows = [
        ("crm_contact", "C", "email", "ann@mail.com", 0),  # first seen
        ("shop_customer", "S", "email", "Ann@Mail.com", 1),
        ("shop_customer", "S", "shop_customer_id", "S", 1),
        ("shop_order", "O1", "shop_customer_id", "S", 2),
        ("shop_order", "O2", "shop_customer_id", "S", 4),
        ("shop_order", "O2", "phone", "+12128670155", 4),
        ("contact_center_call", "T", "phone", "212.867.0155", 3),
    ]
    rule = by_record(resolve_frame(obs(rows), salt=SALT))["match_rule"].to_dict()
    assert rule == {
        "crm_contact:C": "email",
        "shop_customer:S": "email",
        "shop_order:O1": "email",
        "shop_order:O2": "email",
        "contact_center_call:T": "phone",
    }
    # when the shop account is the first record, its orders are tied to it by the account id
    rows[0] = ("crm_contact", "C", "email", "ann@mail.com", 9)
    rule = by_record(resolve_frame(obs(rows), salt=SALT))["match_rule"].to_dict()
    assert rule["shop_customer:S"] == "shop_customer_id"
    assert rule["shop_order:O1"] == "shop_customer_id"
    assert rule["crm_contact:C"] == "email"
    assert rule["contact_center_call:T"] == "phone"


def test_records_without_usable_identifiers_are_listed_as_singletons():
    rows = [
        ("survey_response", "R_1", "email", None, 0),
        ("survey_response", "R_2", "email", "not an email", 1),
        ("survey_response", "R_3", "email", "ann@mail.com", 2),
    ]
    result = resolve_frame(obs(rows), salt=SALT)
    assert list(result.assignments["match_rule"]) == ["singleton"] * 3
    assert result.summary["unreadable_values"] == {"email": 1}


def test_unknown_kinds_and_missing_columns_fail_with_a_clear_message():
    with pytest.raises(CxwError, match="unknown identifier kind"):
        resolve_frame(obs([("x", "1", "fax", "123", 0)]))
    with pytest.raises(CxwError, match="lack column"):
        resolve_frame(pd.DataFrame({"source": ["x"], "kind": ["email"]}))


# ---- stable keys -------------------------------------------------------------------------------
def test_new_customers_get_deterministic_keys_from_their_first_record():
    rows = [
        ("shop_order", "5", "email", "ann@mail.com", 3),
        ("crm_contact", "9", "email", "ann@mail.com", 1),
        ("crm_contact", "8", "email", "bob@mail.com", 2),
    ]
    result = resolve_frame(obs(rows), salt=SALT)
    rec = by_record(result)
    assert rec.loc["shop_order:5", "customer_key"] == expected_key("crm_contact", "9")
    assert rec.loc["crm_contact:8", "customer_key"] == expected_key("crm_contact", "8")
    assert (
        resolve_frame(obs(rows), salt="other").assignments["customer_key"].iloc[0]
        != (result.assignments["customer_key"].iloc[0])
    )


def test_a_cluster_keeps_its_key_when_records_join():
    ann = [
        ("crm_contact", "1", "email", "ann@mail.com", 5),
        ("shop_customer", "3", "email", "Ann@Mail.com", 6),
    ]
    first = resolve_frame(obs(ann), salt=SALT, now=day(10))
    later = obs(
        [
            *ann,
            ("shop_order", "2", "email", "ANN@mail.com", 11),
            ("shop_order", "0", "email", "ann@mail.com", 1),  # arrives late, but is older
        ]
    )
    second = resolve_frame(later, first.assignments, salt=SALT, now=day(12))
    rec = by_record(second)
    assert set(rec["customer_key"]) == {expected_key("crm_contact", "1")}
    assert rec.loc["crm_contact:1", "first_assigned_at"] == day(10)
    assert rec.loc["crm_contact:1", "updated_at"] == day(10)  # same key and rule: untouched
    assert rec.loc["shop_order:2", "first_assigned_at"] == day(12)
    assert second.merges.empty and second.summary["keys_kept"] == 1
    assert second.summary["records_changed"] == 2


def test_when_clusters_merge_the_older_key_survives_and_the_merge_is_recorded():
    ann = [("crm_contact", "1", "email", "ann@mail.com", 0)]
    ann_shop = [("shop_customer", "2", "email", "ann.s@mail.com", 1)]
    bridge = [
        ("shop_order", "3", "email", "ann@mail.com", 2),
        ("shop_order", "3", "phone", "+12128670100", 2),
        ("shop_order", "4", "email", "ann.s@mail.com", 3),
        ("shop_order", "4", "phone", "212-867-0100", 3),
    ]
    run1 = resolve_frame(obs(ann_shop), salt=SALT, now=day(10))  # the shop account came first
    run2 = resolve_frame(obs(ann_shop + ann), run1.assignments, salt=SALT, now=day(20))
    key_shop, key_crm = expected_key("shop_customer", "2"), expected_key("crm_contact", "1")
    assert set(run2.assignments["customer_key"]) == {key_shop, key_crm}
    run3 = resolve_frame(obs(ann + ann_shop + bridge), run2.assignments, salt=SALT, now=day(30))
    assert set(run3.assignments["customer_key"]) == {key_shop}  # first assigned on day 10
    assert run3.merges.to_dict("records") == [
        {
            "merged_key": key_crm,
            "surviving_key": key_shop,
            "merged_at": pd.Timestamp(day(30)),
            "reason": "clusters_merged",
        }
    ]
    # a retired key is never handed out again, even to a record that would derive it
    run4 = resolve_frame(
        obs([("crm_contact", "1", "email", "ann@mail.com", 0)]),
        None,
        retired_keys=[key_crm],
        salt=SALT,
        now=day(40),
    )
    assert run4.assignments["customer_key"].iloc[0] != key_crm


def test_keys_first_assigned_in_the_same_run_the_one_with_the_older_record_survives():
    a = [("crm_contact", "A", "email", "a@mail.com", 5)]
    b = [("crm_contact", "B", "email", "b@mail.com", 3)]
    run1 = resolve_frame(obs(a + b), salt=SALT, now=day(10))
    bridge = [
        ("shop_order", "X", "email", "a@mail.com", 6),
        ("shop_order", "X", "phone", "+12128670123", 6),
        ("shop_order", "Y", "email", "b@mail.com", 6),
        ("shop_order", "Y", "phone", "+12128670123", 6),
    ]
    run2 = resolve_frame(obs(a + b + bridge), run1.assignments, salt=SALT, now=day(11))
    assert set(run2.assignments["customer_key"]) == {expected_key("crm_contact", "B")}
    assert list(run2.merges["merged_key"]) == [expected_key("crm_contact", "A")]


def test_a_split_cluster_keeps_its_key_where_its_oldest_record_is():
    base = [
        ("crm_contact", "1", "email", "ann@mail.com", 0),
        ("crm_contact", "1", "phone", "+12128670100", 0),
        ("shop_order", "2", "phone", "212-867-0100", 5),
        ("shop_order", "2", "email", "ann2@mail.com", 5),
    ]
    run1 = resolve_frame(obs(base), salt=SALT, now=day(10))
    assert run1.assignments["customer_key"].nunique() == 1
    # the phone turns out to be shared by many people: it stops linking, the cluster splits
    others = []
    for p in range(5):
        others += [
            ("contact_center_call", f"c{p}", "phone", "+12128670100", 20 + p),
            ("contact_center_call", f"c{p}", "email", f"other{p}@mail.com", 20 + p),
        ]
    run2 = resolve_frame(obs(base + others), run1.assignments, salt=SALT, now=day(30))
    rec = by_record(run2)
    assert rec.loc["crm_contact:1", "customer_key"] == expected_key("crm_contact", "1")
    assert rec.loc["shop_order:2", "customer_key"] == expected_key("shop_order", "2")
    assert run2.summary["split_clusters"] == 1 and run2.merges.empty


def test_rebuild_is_deterministic_whatever_the_order_and_chunking():
    frames = [f for f, _ in synthetic_observations(600, seed=5, people_per_chunk=200)]
    data = pd.concat(frames, ignore_index=True)
    a = resolve_frame(data, salt=SALT, now=day(100)).assignments
    shuffled = data.sample(frac=1.0, random_state=3).reset_index(drop=True)
    chunks = [shuffled.iloc[i : i + 997] for i in range(0, len(shuffled), 997)]
    b = resolve_frame(chunks, salt=SALT, now=day(100)).assignments
    pd.testing.assert_frame_equal(a, b)


def test_incremental_runs_in_arrival_order_equal_a_full_rebuild():
    frames = [f for f, _ in synthetic_observations(800, seed=9, people_per_chunk=400)]
    data = pd.concat(frames, ignore_index=True)
    data["observed_at"] = pd.to_datetime(data["observed_at"], unit="us", utc=True)
    cuts = data["observed_at"].quantile([0.3, 0.6, 0.8]).tolist()
    previous, merges = None, 0
    for k, cut in enumerate([*cuts, data["observed_at"].max()]):
        # a record arrives whole: all its rows once its first row is observed
        first = data.groupby(["source", "source_record_id"])["observed_at"].transform("min")
        run = resolve_frame(data[first <= cut], previous, salt=SALT, now=day(200 + k))
        previous, merges = run.assignments, merges + len(run.merges)
    fresh = resolve_frame(data, salt=SALT, now=day(300)).assignments
    cols = ["source", "source_record_id", "customer_key", "match_rule"]
    pd.testing.assert_frame_equal(previous[cols], fresh[cols])
    assert merges > 0  # the replay did merge clusters on the way


def test_rerunning_changes_nothing():
    data = pd.concat([f for f, _ in synthetic_observations(300, seed=2)], ignore_index=True)
    run1 = resolve_frame(data, salt=SALT, now=day(1))
    run2 = resolve_frame(data, run1.assignments, salt=SALT, now=day(2))
    pd.testing.assert_frame_equal(run1.assignments, run2.assignments)
    assert run2.summary["records_changed"] == 0 and run2.merges.empty


def test_exact_even_when_the_first_hash_collides(monkeypatch):
    data = pd.concat([f for f, _ in synthetic_observations(200, seed=4)], ignore_index=True)
    honest = resolve_frame(data, salt=SALT, now=day(1)).assignments
    real = idm._hashes

    def colliding(values, salt=None):
        h1, h2 = real(values, salt)
        return h1 % np.uint64(7), h2  # almost every key collides on the first hash

    monkeypatch.setattr(idm, "_hashes", colliding)
    forced = resolve_frame(data, salt=SALT, now=day(1)).assignments
    pd.testing.assert_frame_equal(honest, forced)


# ---- quality measure ---------------------------------------------------------------------------
def brute_force(assign: dict[str, str], truth: dict[str, str]) -> tuple[int, int, int]:
    recs = sorted(truth)
    tp = pp = tt = 0
    for x, y in itertools.combinations(recs, 2):
        same_pred = x in assign and y in assign and assign[x] == assign[y]
        same_true = truth[x] == truth[y]
        tp += same_pred and same_true
        pp += same_pred
        tt += same_true
    return tp, pp, tt


def test_pairwise_precision_recall_matches_brute_force():
    rnd = random.Random(8)
    truth_rows, assign_rows = [], []
    for r in range(300):
        person = f"P{rnd.randint(1, 40)}"
        truth_rows.append((person, "src", str(r)))
        if rnd.random() < 0.95:  # some truth records were never assigned
            key = person if rnd.random() < 0.8 else f"K{rnd.randint(1, 60)}"
            assign_rows.append(("src", str(r), key))
    assign_rows.append(("src", "extra", "K1"))  # not in the truth: ignored
    truth = pd.DataFrame(truth_rows, columns=["person_id", "source", "source_record_id"])
    assign = pd.DataFrame(assign_rows, columns=["source", "source_record_id", "customer_key"])
    got = evaluate_against_truth(assign, truth)
    tp, pp, tt = brute_force(
        {r: k for _, r, k in assign_rows if r != "extra"}, {r: p for p, _, r in truth_rows}
    )
    assert (got["true_positive_pairs"], got["predicted_pairs"], got["true_pairs"]) == (tp, pp, tt)
    assert got["precision"] == pytest.approx(tp / pp) and got["recall"] == pytest.approx(
        tt and tp / tt
    )
    assert got["records_missing"] == 300 - (len(assign_rows) - 1)
    assert got["records_not_in_truth"] == 1


def test_synthetic_world_resolves_with_high_precision():
    result = bench_identity(1500, seed=1)
    assert result["truth_records_missing"] == 0
    assert result["precision"] >= 0.995
    assert result["recall"] >= 0.95
    assert result["records"] > 1500 and result["clusters"] > 1000


def test_suppressed_hashes_use_the_privacy_formula():
    hashing = pytest.importorskip("cxw.privacy.hashing")
    assert idm.identifier_hash(SALT, "email", "ann@mail.com") == hashing.hash_identifier(
        SALT, "email", "ann@mail.com"
    )
