"""PII redaction on raw text: emails, phone numbers, card-like numbers and order numbers.

Why regexes on the raw string: spaCy's tokenizer splits "+1 (555) 123-4567" or
"4111-1111-1111-1111" into many tokens, so token patterns miss or half-match them. Matching
the raw text gives exact character spans; the spaCy component turns them into Doc extensions
and a span group. Only the redacted string may leave the pipeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDERS: dict[str, str] = {
    "EMAIL": "[EMAIL]",
    "PHONE": "[PHONE]",
    "CARD": "[CARD]",
    "ORDER": "[ORDER]",
}

_EMAIL_RX = re.compile(
    r"(?<![\w.+-])[\w.+%-]+"  # local part (Unicode letters allowed)
    r"(?:@|\s?[\[(]\s?at\s?[\])]\s?)"  # @, or " [at] " / "(at)" obfuscation
    r"[\w-]+(?:(?:\.|\s?[\[(]\s?dot\s?[\])]\s?)[\w-]+)*"
    r"(?:\.|\s?[\[(]\s?dot\s?[\])]\s?)[A-Za-z]{2,24}\b",
    re.IGNORECASE,
)
# Order references: "#1234", "ORD-12345", "order 123456", "order no. A12-345": the group
# "id" is what gets redacted, so "order no." stays readable.
_ORDER_RX = re.compile(
    r"(?<![\w#])(?P<id>#\s?(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{2,19})\b"
    r"|\b(?P<id2>ORD[-_ ]?\d{3,}[A-Z0-9-]*)\b"
    r"|\border(?:\s*(?:no\.?|num(?:ber)?\.?|id|ref(?:erence)?))?\s*:?\s*"
    r"(?P<id3>#?\s?(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{2,24})\b",
    re.IGNORECASE,
)
# Digit runs with single separators; validated below as card or phone.
_CARD_RX = re.compile(r"(?<![\d+])\d(?:[ -]?\d){12,18}(?![\d])")
_PHONE_RX = re.compile(
    r"(?<![\w@#/])"
    r"(?:(?:\+|00)\d{1,3}[\s.-]?)?"  # country code
    r"(?:\(\d{1,5}\)[\s.-]?)?"  # area code in brackets
    r"\d(?:[\s.-]{0,2}\d|[\s.-]?\(\d{1,5}\)[\s.-]?\d){5,17}"
    r"(?![\w])"
)
_DATE_RX = re.compile(r"^\d{1,4}([./-])\d{1,2}\1\d{1,4}$")
_CARD_GROUPS = {
    (4, 4, 4, 4),
    (4, 4, 4, 4, 3),
    (4, 6, 5),
    (4, 6, 4),
    (4, 4, 4, 1),
    (4, 4, 4, 2),
    (4, 4, 4, 3),
    (4, 4, 4, 4, 1),
    (4, 4, 4, 4, 2),
}


@dataclass(frozen=True)
class PiiSpan:
    """One redacted span: character offsets into the original text and its label."""

    start: int
    end: int
    label: str


def luhn_ok(digits: str) -> bool:
    """Luhn checksum of a digit string (what payment card numbers satisfy)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _is_card(candidate: str, require_luhn: bool) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if not 13 <= len(digits) <= 19:
        return False
    groups = tuple(len(g) for g in re.findall(r"\d+", candidate))
    if len(groups) > 1 and groups not in _CARD_GROUPS:
        return False
    return luhn_ok(digits) if require_luhn else True


def _is_phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if not 7 <= len(digits) <= 15:
        return False
    stripped = candidate.strip()
    if _DATE_RX.match(stripped):
        return False
    groups = re.findall(r"\d+", stripped)
    if stripped.startswith(("+", "00")) or stripped.startswith("("):
        return len(digits) >= 8
    if len(groups) == 1:
        return len(digits) >= 10  # bare runs: 0000000000, 07700900123
    if sum(1 for g in groups if len(g) >= 3) < 2:
        return False  # "1 2 3 4 5 6 7" or "12 3 45 6" are not phone numbers
    # a year range ("2019-2023") is not a phone number
    return not (len(groups) == 2 and all(len(g) == 4 and g[:2] in ("19", "20") for g in groups))


def find_pii(
    text: str, *, orders: bool = True, cards: bool = True, card_luhn: bool = False
) -> list[PiiSpan]:
    """Non-overlapping PII spans, by priority EMAIL > ORDER > CARD > PHONE."""
    found: list[PiiSpan] = []

    def add(start: int, end: int, label: str) -> None:
        # trim separators the pattern may have swallowed at the edges
        while start < end and text[start] in " .-":
            start += 1
        while end > start and text[end - 1] in " .-":
            end -= 1
        if start >= end:
            return
        if any(start < s.end and s.start < end for s in found):
            return
        found.append(PiiSpan(start, end, label))

    for m in _EMAIL_RX.finditer(text):
        add(m.start(), m.end(), "EMAIL")
    if orders:
        for m in _ORDER_RX.finditer(text):
            group = next(g for g in ("id", "id2", "id3") if m.group(g) is not None)
            add(m.start(group), m.end(group), "ORDER")
    if cards:
        for m in _CARD_RX.finditer(text):
            if _is_card(m.group(0), card_luhn):
                add(m.start(), m.end(), "CARD")
    for m in _PHONE_RX.finditer(text):
        if _is_phone(m.group(0)):
            add(m.start(), m.end(), "PHONE")
    found.sort(key=lambda s: s.start)
    return found


def apply_redaction(text: str, spans: list[PiiSpan]) -> str:
    """Replace each span by its placeholder ([EMAIL], [PHONE], [CARD], [ORDER])."""
    out: list[str] = []
    pos = 0
    for span in sorted(spans, key=lambda s: s.start):
        out.append(text[pos : span.start])
        out.append(PLACEHOLDERS.get(span.label, f"[{span.label}]"))
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def redact_text(
    text: str, *, orders: bool = True, cards: bool = True, card_luhn: bool = False
) -> str:
    """The text with every detected PII span replaced by its placeholder."""
    return apply_redaction(text, find_pii(text, orders=orders, cards=cards, card_luhn=card_luhn))
