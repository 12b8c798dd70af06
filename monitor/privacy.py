"""Personal data masked in mentions: what customers post about themselves never reaches an output.

Contract: :func:`mask` replaces every e-mail address, phone number, national ID, social-security, card or
account number, and identity-document number that the compliance detectors find
(:func:`policy.detectors.personal_data`, the same code that keeps personal data out of marketing copy)
with a bracketed kind (``[email]``, ``[phone]``, ``[id]``, ``[card]``). Business contacts (support@
mailboxes, 400/800 hotlines) are kept: they are nobody's personal data and often the point of a
complaint ("400 热线打不通"). The masked text is what every output shows, the report included; the raw
text is never written.
"""

from __future__ import annotations

from policy.detectors import personal_data
from policy.text import fold

_KINDS = {
    "pii.email": "[email]",
    "pii.cn_mobile": "[phone]",
    "pii.phone": "[phone]",
    "pii.cn_id": "[id]",
    "pii.us_ssn": "[id]",
    "pii.id_document": "[id]",
    "pii.account_number": "[account]",
    "pii.payment_card": "[card]",
}


def mask(text: str) -> tuple[str, list[str]]:
    """``text`` with personal data replaced, and the kinds replaced (in order of appearance)."""
    hits = sorted(personal_data(fold(text), []), key=lambda h: h.span)
    if not hits:
        return text, []
    out: list[str] = []
    kinds: list[str] = []
    at = 0
    for hit in hits:
        start, end = hit.span
        if start < at:
            continue
        label = _KINDS.get(hit.rule_id, "[personal data]")
        out.append(text[at:start])
        out.append(label)
        kinds.append(label.strip("[]"))
        at = end
    out.append(text[at:])
    return "".join(out), kinds
