"""Every raw stream the project loads: its raw table's columns and checks (one place).

Written against include/cxw/sources/SCHEMAS.md (the source contract). Checks quarantine exactly
the invalid records a real system sends (null keys, negative money, impossible dates, unknown
enum values, malformed lines); everything else is kept as received. Nested source structures
stay JSON (`properties`, `comments`, `answers`) so a new field is never lost.
"""

from __future__ import annotations

from cxw.extract.spec import Column, StreamSpec


def _enum(*values: str) -> frozenset[str]:
    return frozenset(values)


def _created_before_updated(
    created: str = "created_at", updated: str = "updated_at"
) -> tuple[str, str]:
    c, u = f'"{created}__v"', f'"{updated}__v"'
    return (f"{c} is null or {u} is null or {c} <= {u}", f"{created} is after {updated}")


# ---- CRM (HubSpot-like REST API) -------------------------------------------------------------
_CRM_COMMON = (
    Column("id", required=True),
    Column("created_at", "timestamptz"),
    Column("updated_at", "timestamptz", required=True),
    Column("archived", "boolean"),
    Column("archived_at", "timestamptz"),
    Column("properties", "jsonb", required=True),
    Column("associations", "jsonb"),
)
LIFECYCLE = _enum(
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
CRM = (
    StreamSpec(
        "crm",
        "contacts",
        (
            *_CRM_COMMON,
            Column("hs_object_id", required=True),
            Column("email"),
            Column("phone"),
            Column("createdate", "timestamptz"),
            Column("lifecyclestage", choices=LIFECYCLE),
        ),
        key=("id",),
        version="updated_at",
        identifiers=(("email", "email"), ("phone", "phone")),
    ),
    StreamSpec(
        "crm",
        "companies",
        (
            *_CRM_COMMON,
            Column("hs_object_id", required=True),
            Column(
                "industry",
                choices=_enum(
                    "RETAIL",
                    "HOSPITALITY",
                    "HEALTH_WELLNESS_AND_FITNESS",
                    "CONSTRUCTION",
                    "MARKETING_AND_ADVERTISING",
                    "COMPUTER_SOFTWARE",
                    "REAL_ESTATE",
                    "FOOD_BEVERAGES",
                    "LEGAL_SERVICES",
                    "EDUCATION_MANAGEMENT",
                ),
            ),
        ),
        key=("id",),
        version="updated_at",
    ),
    StreamSpec(
        "crm",
        "deals",
        (
            *_CRM_COMMON,
            Column("properties_with_history", "jsonb"),
            Column("contact_ids", required=True),
            Column("amount", "numeric", non_negative=True),
            Column("closedate", "timestamptz"),
            Column(
                "dealstage",
                choices=_enum(
                    "appointmentscheduled",
                    "qualifiedtobuy",
                    "presentationscheduled",
                    "decisionmakerboughtin",
                    "contractsent",
                    "closedwon",
                    "closedlost",
                ),
            ),
        ),
        key=("id",),
        version="updated_at",
    ),
    StreamSpec(
        "crm",
        "engagements",
        (
            *_CRM_COMMON,
            Column("contact_ids", required=True),
            Column("hs_timestamp", "timestamptz"),
            Column("hs_engagement_type", choices=_enum("EMAIL", "CALL", "MEETING")),
        ),
        key=("id",),
        version="updated_at",
    ),
)

# ---- Shop (Shopify-like OLTP) ----------------------------------------------------------------
_TS = ("created_at", "updated_at")


def _shop(table: str, cols: tuple[Column, ...], checks=(), identifiers=()) -> StreamSpec:
    base = (Column("id", "bigint", required=True),)
    stamps = tuple(Column(n, "timestamptz", required=(n == "updated_at")) for n in _TS)
    return StreamSpec(
        "shop",
        table,
        (*base, *cols, *stamps),
        key=("id",),
        version="updated_at",
        checks=tuple(checks),
        identifiers=tuple(identifiers),
        cursor="updated_at",
    )


_MONEY = "numeric"
SHOP = (
    _shop(
        "customers",
        (
            Column("email"),
            Column("first_name"),
            Column("last_name"),
            Column("phone"),
            Column("state", choices=_enum("enabled", "disabled")),
            Column("accepts_marketing", "boolean"),
            Column("tags"),
            Column("city"),
            Column("province"),
            Column("country"),
            Column("zip"),
            Column("deleted_at", "timestamptz"),
        ),
        checks=[_created_before_updated()],
        identifiers=[("email", "email"), ("phone", "phone")],
    ),
    _shop(
        "products",
        (
            Column("title"),
            Column("product_type"),
            Column("vendor"),
            Column("sku"),
            Column("price", _MONEY, non_negative=True),
            Column("status", choices=_enum("active", "draft", "archived")),
            Column("deleted_at", "timestamptz"),
        ),
    ),
    _shop(
        "orders",
        (
            Column("name"),
            Column("customer_id", "bigint"),
            Column("email"),
            Column("phone"),
            Column("currency"),
            Column("total_line_items_price", _MONEY),
            Column("total_discounts", _MONEY),
            Column("subtotal_price", _MONEY, non_negative=True),
            Column("total_shipping", _MONEY),
            Column("total_tax", _MONEY),
            Column("total_price", _MONEY, non_negative=True),
            Column(
                "financial_status",
                choices=_enum("authorized", "paid", "voided", "refunded", "partially_refunded"),
            ),
            Column("fulfillment_status"),
            Column("shipment_status"),
            Column("cancel_reason"),
            Column("source_name"),
            Column("landing_site"),
            Column("shipping_name"),
            Column("shipping_city"),
            Column("shipping_province"),
            Column("shipping_zip"),
            Column("shipping_country"),
            Column("processed_at", "timestamptz"),
            Column("fulfilled_at", "timestamptz"),
            Column("delivered_at", "timestamptz"),
            Column("cancelled_at", "timestamptz"),
            Column("closed_at", "timestamptz"),
            Column("deleted_at", "timestamptz"),
        ),
        checks=[_created_before_updated()],
        identifiers=[("email", "email"), ("phone", "phone")],
    ),
    _shop(
        "order_lines",
        (
            Column("order_id", "bigint", required=True),
            Column("product_id", "bigint"),
            Column("sku"),
            Column("title"),
            Column("quantity", "bigint"),
            Column("price", _MONEY, non_negative=True),
        ),
    ),
    _shop(
        "refunds",
        (
            Column("order_id", "bigint", required=True),
            Column("amount", _MONEY, non_negative=True),
            Column("note"),
            Column("restock", "boolean"),
            Column("processed_at", "timestamptz"),
        ),
    ),
    _shop(
        "transactions",
        (
            Column("order_id", "bigint", required=True),
            Column("parent_id", "bigint"),
            Column("kind", choices=_enum("authorization", "capture", "void", "refund")),
            Column("status"),
            Column("gateway"),
            Column("amount", _MONEY, non_negative=True),
            Column("currency"),
            Column("error_code"),
            Column("processed_at", "timestamptz"),
        ),
    ),
    _shop(
        "abandoned_checkouts",
        (
            Column("token"),
            Column("customer_id", "bigint"),
            Column("email"),
            Column("phone"),
            Column("currency"),
            Column("total_price", _MONEY, non_negative=True),
            Column("line_items_count", "bigint"),
            Column("completed_at", "timestamptz"),
            Column("deleted_at", "timestamptz"),
        ),
        checks=[_created_before_updated()],
        identifiers=[("email", "email"), ("phone", "phone")],
    ),
)

# ---- Contact center (daily drops) ------------------------------------------------------------
QUEUES = _enum("orders", "billing", "returns", "technical", "sales")
CONTACT_CENTER = (
    StreamSpec(
        "contact_center",
        "calls",
        (
            Column("call_id", "bigint", required=True),
            Column("caller_phone"),
            Column("queue", choices=QUEUES),
            Column("agent_id"),
            Column("offered_at", "timestamptz", required=True),
            Column("answered_at", "timestamptz", in_header=False),
            Column("ended_at", "timestamptz", required=True),
            Column("hold_seconds", "bigint", non_negative=True),
            Column("wrap_seconds", "bigint", non_negative=True),
            Column("abandoned", choices=_enum("true", "false")),
            Column("transferred", choices=_enum("true", "false")),
            Column("ticket_id", "bigint"),
        ),
        key=("call_id",),
        checks=(
            (
                '"ended_at__v" is null or "offered_at__v" is null or "ended_at__v" >= "offered_at__v"',
                "ended_at is before offered_at",
            ),
        ),
        identifiers=(("caller_phone", "phone"),),
    ),
    StreamSpec(
        "contact_center",
        "tickets",
        (
            Column("id", "bigint", required=True),
            Column("channel", choices=_enum("phone", "chat", "email")),
            Column("subject"),
            Column("priority", choices=_enum("low", "normal", "high", "urgent")),
            Column("type"),
            Column("requester", "jsonb"),
            Column("requester_email"),
            Column("requester_phone"),
            Column("assignee_id"),
            Column("group"),
            Column("tags", "jsonb"),
            Column("custom_fields", "jsonb"),
            Column("created_at", "timestamptz", required=True),
            Column("updated_at", "timestamptz", required=True),
            Column("status", choices=_enum("new", "open", "pending", "solved", "closed")),
            Column("status_events", "jsonb"),
            Column("comments", "jsonb"),
            Column("satisfaction_rating", "jsonb"),
        ),
        key=("id",),
        version="updated_at",
        checks=(_created_before_updated(),),
        identifiers=(("requester_email", "email"), ("requester_phone", "phone")),
    ),
)

# ---- Surveys (Qualtrics-like exports) --------------------------------------------------------
SURVEY_COLUMNS = (
    Column("response_id", required=True, source_name="ResponseId"),
    Column("survey_id", required=True, in_header=False),
    Column("start_date", "timestamptz", source_name="StartDate"),
    Column("end_date", "timestamptz", source_name="EndDate"),
    Column("status", source_name="Status"),
    Column("progress", "numeric", source_name="Progress"),
    Column("duration_seconds", "numeric", source_name="Duration (in seconds)"),
    Column("finished", required=True, choices=_enum("0", "1"), source_name="Finished"),
    Column("recorded_date", "timestamptz", required=True, source_name="RecordedDate"),
    Column("recipient_last_name", source_name="RecipientLastName"),
    Column("recipient_first_name", source_name="RecipientFirstName"),
    Column("recipient_email", source_name="RecipientEmail"),
    Column(
        "distribution_channel",
        choices=_enum("email", "anonymous", "sms"),
        source_name="DistributionChannel",
    ),
    Column("user_language", source_name="UserLanguage"),
    Column("answers", "jsonb", in_header=False),
    Column("first_score", "numeric", in_header=False),
    Column("touchpoint"),
    Column("email"),
    Column("order_id", "bigint"),
    Column("ticket_id", "bigint"),
)


def survey_spec(scales: dict[str, tuple[float, float]]) -> StreamSpec:
    """The responses stream; the first score must lie within its survey's scale."""
    if scales:
        cases = " ".join(
            f"when '{sid}' then \"first_score__v\" between {lo} and {hi}"
            for sid, (lo, hi) in sorted(scales.items())
        )
        check = (
            f'"first_score__v" is null or (case "survey_id__v" {cases} else true end)',
            "first score outside its scale",
        )
        checks: tuple[tuple[str, str], ...] = (check,)
    else:
        checks = ()
    return StreamSpec(
        "survey",
        "responses",
        SURVEY_COLUMNS,
        key=("response_id",),
        checks=checks,
        identifiers=(("recipient_email", "email"), ("email", "email")),
    )


ALL_SPECS: dict[str, tuple[StreamSpec, ...]] = {
    "crm": CRM,
    "shop": SHOP,
    "contact_center": CONTACT_CENTER,
    "survey": (survey_spec({}),),
}
