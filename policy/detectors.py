"""Pattern detectors that need no rule pack: personal data, secrets, unsafe markup, injected text.

Contract: every detector takes the original text (and, where matching must survive evasion, its
:class:`~policy.text.Folded` form) and returns :class:`Hit` s with spans in the original text.
:func:`sanitize_markup` is the one detector that also repairs: it strips HTML, scripts, and links or
images to hosts the brand does not allow, so a piece can go straight into a CMS.

Every detector is linear in the length of the text: patterns that need lookbehind stay on Python's
``re`` and are written so that a greedy run can only start where such a run starts (a negative
lookbehind of the run's own class) and no two unbounded runs can trade characters; the markup
patterns, which scan to the next ``>`` or ``)``, run on RE2 (:func:`~policy.text.linear_regex`);
overlap checks use :class:`~policy.text.Coverage`. ``tests/security/test_check_regex.py`` holds
each to a time budget on adversarial inputs; ``bench/check_adversarial.py`` measures them.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from policy.injection import CANARY, INJECTION_PATTERNS
from policy.text import RE2_SPACE, Coverage, Folded, linear_regex


@dataclass(frozen=True)
class Hit:
    """A detector match: rule id, category, severity, span in the original text, and what to do."""

    rule_id: str
    category: str
    severity: str
    span: tuple[int, int]
    matched: str
    explanation: str
    suggestion: str
    legal_reference: str | None = None


_PII_LAW = "PIPL (《个人信息保护法》) art. 13, 28; GDPR art. 6"
_EMAIL = re.compile(r"(?<![a-z0-9.+_-])[a-z0-9.+_-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?![a-z0-9-])")
_EMAIL_SPELLED = re.compile(  # the lookbehind: a name starts where its run starts, not at every letter
    r"(?<![\w.+-])[\w.+-]+\s*[\[(<{]\s*(?:at|@)\s*[\])>}]\s*[\w-]+(?:\s*[\[(<{]\s*(?:dot|\.)\s*[\])>}]\s*[\w-]+)+"
)
_CN_MOBILE = re.compile(r"(?<![\d])(?:(?:\+|00)?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?![\d])")
_CN_ID = re.compile(
    r"(?<![\d])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dx](?![\d])"
)
_US_SSN = re.compile(
    r"(?<![\d-])(?!000|666|9\d\d)\d(?: ?\d){2} ?- ?(?!00)\d ?\d ?- ?(?!0000)\d(?: ?\d){3}(?![\d-])"
)
_CARD = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")
_LANDLINE = re.compile(
    r"(?<![\d])(?:400|800)[\s-]?\d{3}[\s-]?\d{4}(?![\d])|(?<![\d])0\d{2,3}-\d{7,8}(?![\d])"
)
_PHONE = re.compile(
    r"(?<![\w+])(?<!\d )(?:(?:\+|00)\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\d{2,4}[\s.-])"
    r"\d{3,4}[\s.-]?\d{4}(?!\d| \d)"
    r"|(?<![\w])\+\d{8,15}(?![\d])"
)

_SECRETS = [
    ("secret.openai_key", re.compile(r"(?<![a-z0-9])s\s?k\s?-\s?(?:proj-|ant-)?[a-z0-9_-]{20,}")),
    ("secret.aws_key", re.compile(r"(?<![a-z0-9])(?:akia|asia)[0-9a-z]{16}(?![a-z0-9])")),
    (
        "secret.github_token",
        re.compile(r"(?<![a-z0-9])(?:gh[pousr]_[a-z0-9]{30,}|github_pat_[a-z0-9_]{30,})"),
    ),
    ("secret.slack_token", re.compile(r"(?<![a-z0-9])xox[abprs]-[a-z0-9-]{10,}")),
    ("secret.google_key", re.compile(r"(?<![a-z0-9])aiza[0-9a-z_-]{35}")),
    ("secret.jwt", re.compile(r"(?<![a-z0-9])eyj[a-z0-9_-]{10,}\.[a-z0-9_-]{10,}\.[a-z0-9_-]{10,}")),
    ("secret.private_key", re.compile(r"-----begin [a-z ]*private key-----")),
    # The scheme starts where a run of scheme characters starts ("a.a.a…" must not retry at every letter).
    (
        "secret.url_credentials",
        re.compile(r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]{3,}@[^\s/]+"),
    ),
    (
        "secret.password",
        # Each run of spaces belongs to the token before it: three adjacent `\s*` made it cubic.
        re.compile(r"(?:密码|口令|密钥|秘钥|登录码)\s*(?:(?:是|为)\s*)?(?:[:：=]\s*)?(?:(?![,;])[!-~]){6,}"),
    ),
    (
        "secret.assignment",
        re.compile(
            r"(?<![a-z0-9])(?:api[_ -]?key|secret[_ -]?key|access[_ -]?key|auth[_ -]?token|token|password|"
            r"passwd|pwd|secret)\s*[:=]\s*['\"]?[^\s,;，；。'\"]{6,}"
        ),
    ),
]


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _cn_id_checksum(number: str) -> bool:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(number[:17], weights, strict=True))
    return "10x98765432"[total % 11] == number[17]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def contact_spans(folded: Folded) -> list[tuple[int, int]]:
    """Spans (original text) of every e-mail address and phone number, allowed or not."""
    return [
        folded.span(*m.span())
        for pattern in (_EMAIL, _CN_MOBILE, _PHONE, _LANDLINE)
        for m in pattern.finditer(folded.text)
    ]


def personal_data(folded: Folded, allowed_contacts: list[str]) -> list[Hit]:
    """E-mail addresses, phone numbers (Chinese mobiles included), ID, social-security and card numbers.

    Contacts the brand publishes (``allowed_contacts``) are not personal data.
    """
    allowed_emails = {c.casefold() for c in allowed_contacts if "@" in c}
    allowed_numbers = {_digits(c) for c in allowed_contacts if "@" not in c and _digits(c)}
    hits: list[Hit] = []
    taken = Coverage(len(folded.text))

    def add(rule_id: str, what: str, m: re.Match[str]) -> None:
        if taken.overlaps(*m.span()):
            return
        taken.add(*m.span())
        hits.append(
            Hit(
                rule_id,
                "pii",
                "block",
                folded.span(*m.span()),
                folded.original(*m.span()),
                f"contains {what}: personal data must not be published in marketing copy",
                "remove it (the brand's public contacts can be listed in compliance.allowed_contacts)",
                _PII_LAW,
            )
        )

    text = folded.text
    for m in _EMAIL.finditer(text):
        if m.group().casefold() not in allowed_emails:
            add("pii.email", "an e-mail address", m)
    for m in _EMAIL_SPELLED.finditer(text):
        add("pii.email", "an e-mail address written to dodge filters", m)
    for m in _CN_ID.finditer(text):
        checked = (
            "a national ID number" if _cn_id_checksum(m.group()) else "what looks like a national ID number"
        )
        add("pii.cn_id", checked, m)
    for m in _US_SSN.finditer(text):
        add("pii.us_ssn", "a social security number", m)
    for m in _CARD.finditer(text):
        digits = _digits(m.group())
        if 13 <= len(digits) <= 19 and _luhn(digits) and not _CN_MOBILE.fullmatch(m.group()):
            add("pii.payment_card", "a payment card number", m)
    for pattern, rule_id in ((_CN_MOBILE, "pii.cn_mobile"), (_LANDLINE, "pii.phone"), (_PHONE, "pii.phone")):
        for m in pattern.finditer(text):
            digits = _digits(m.group())
            if any(digits.endswith(a) or a.endswith(digits) for a in allowed_numbers if len(a) >= 7):
                taken.add(*m.span())
                continue
            add(rule_id, "a phone number", m)
    return hits


def secrets(folded: Folded) -> list[Hit]:
    """API keys, tokens, private keys and ``password=...`` style credentials."""
    hits: list[Hit] = []
    taken = Coverage(len(folded.text))  # in folded coordinates, like the matches
    for rule_id, pattern in _SECRETS:
        for m in pattern.finditer(folded.text):
            if taken.overlaps(*m.span()):
                continue
            taken.add(*m.span())
            hits.append(
                Hit(
                    rule_id,
                    "secret",
                    "block",
                    folded.span(*m.span()),
                    folded.original(*m.span()),
                    "contains what looks like a credential; published keys are compromised keys",
                    "remove it and rotate the credential",
                )
            )
    return hits


def injected_text(folded: Folded) -> list[Hit]:
    """Instructions or canary strings that came from a knowledge document, not from the brief."""
    hits = []
    for pattern, what in (
        (INJECTION_PATTERNS, "an instruction injected through a document"),
        (CANARY, "a canary"),
    ):
        for m in pattern.finditer(folded.text):
            hits.append(
                Hit(
                    "safety.injected_text",
                    "prompt_injection",
                    "block",
                    folded.span(*m.span()),
                    folded.original(*m.span()),
                    f"contains {what}: knowledge documents are data, never instructions",
                    "remove the sentence",
                )
            )
    return hits


# --- Markup -----------------------------------------------------------------------------------------

_DANGEROUS_TAGS = (
    "script|iframe|object|embed|style|form|input|button|link|meta|svg|math|base|frame|frameset|applet"
)
# Markup patterns scan to the next ">" or ")" from every "<" or "[": with backtracking that is quadratic
# on "<<<<…" or "[[[[…", so they run on RE2. `_S` is Python's `\s` (RE2's is ASCII only). Attributes
# may follow a tag name after a space or a "/" (`<img/src/onerror=…>` is an event handler too).
_S = f"[{RE2_SPACE}]"
# Where a dangerous tag opens or closes: a "<", spaces, a name, so Python's `re` is linear here (each
# run of spaces is scanned from the one "<" before it) and cheaper per match than RE2's binding.
_DANGEROUS_OPEN = re.compile(rf"<\s*({_DANGEROUS_TAGS})\b", re.IGNORECASE)  # it ends at the next ">"
_DANGEROUS_CLOSE = re.compile(rf"<\s*/\s*({_DANGEROUS_TAGS})\s*>", re.IGNORECASE)
_DANGEROUS_TAG = linear_regex(rf"(?i)<{_S}*/?{_S}*({_DANGEROUS_TAGS})\b[^>]*>")
_EVENT_ATTR = linear_regex(rf"(?i)<[^>]*[{RE2_SPACE}/]on[a-z]+{_S}*=[^>]*>")
_TAG = linear_regex(rf"(?is)<{_S}*/?{_S}*[a-z][a-z0-9-]*(?:[{RE2_SPACE}/][^<>]*)?/?{_S}*>|<!--.*?-->")
_SCRIPT_URL = re.compile(r"(?:javascript|vbscript|data\s*:\s*text/html)\s*:?[^\s)\]]*", re.IGNORECASE)
_URL_IN_PARENS = (
    rf"((?:[^(){RE2_SPACE}>]|\([^(){RE2_SPACE}]*\))*)"  # one level of parentheses: javascript:alert(1)
)
_MD_IMAGE = linear_regex(rf"!\[([^\]]*)\]\({_S}*<?{_URL_IN_PARENS}>?(?:{_S}+[^)]*)?\)")
# A "[" right after "!" starts an image, not a link: RE2 has no lookbehind, so such matches are dropped.
_MD_LINK = linear_regex(rf"\[([^\]]+)\]\({_S}*<?{_URL_IN_PARENS}>?(?:{_S}+[^)]*)?\)")
_BARE_URL = re.compile(r"(?:https?://|ftp://|www\.)[^\s<>()\[\]\"'，。！？、）]+", re.IGNORECASE)


_XSS = "CMS/XSS safety: content must not carry executable markup"
_EXECUTABLE = "contains executable markup (script, frame, embedded object or event handler)"


def host_allowed(url: str, allowed_hosts: list[str]) -> bool:
    """Whether ``url`` points at an allowed host or a subdomain of one (relative links count as allowed)."""
    url = url.strip()
    if url.lower().startswith("www."):
        url = "http://" + url
    if url.startswith(("/", "#", "mailto:", "tel:")) and not url.startswith("//"):
        return not url.startswith(("mailto:", "tel:"))
    try:
        host = (urlsplit(url if "//" in url else "http://" + url).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    return any(host == h.lower() or host.endswith("." + h.lower()) for h in allowed_hosts)


def _dangerous_blocks(text: str) -> list[tuple[int, int]]:
    """Spans of ``<script …>…</script>`` (and the other dangerous tags), from an opening tag to the
    first closing tag of the same name after it: what ``<(tag)…>.*?</\\1>`` finds, found without a
    backreference and without rescanning the text from every opening tag."""
    closers: dict[str, list[int]] = {}
    closer_ends: dict[str, list[int]] = {}
    for m in _DANGEROUS_CLOSE.finditer(text):
        closers.setdefault(m.group(1).lower(), []).append(m.start())
        closer_ends.setdefault(m.group(1).lower(), []).append(m.end())
    tag_ends = [m.start() for m in re.finditer(">", text)]
    blocks: list[tuple[int, int]] = []
    last_end = 0
    for m in _DANGEROUS_OPEN.finditer(text):  # openers cannot overlap: each holds a single "<"
        gt = bisect.bisect_left(tag_ends, m.end())
        if m.start() < last_end or gt == len(tag_ends):
            continue
        name = m.group(1).lower()
        starts = closers.get(name, [])
        i = bisect.bisect_left(starts, tag_ends[gt] + 1)
        if i < len(starts):
            blocks.append((m.start(), closer_ends[name][i]))
            last_end = closer_ends[name][i]
    return blocks


def sanitize_markup(text: str, allowed_hosts: list[str]) -> tuple[str, list[Hit]]:
    """Strip HTML and links/images to disallowed hosts. Returns the clean text and what was removed.

    Spans in the hits refer to ``text`` as given. Scripts, event handlers and ``javascript:`` URLs are
    ``block``; other tags are ``warn`` (harmless once stripped); links and images to hosts outside
    ``allowed_hosts`` are ``block`` — the cleaned text keeps a link's words and drops its target.
    """
    hits: list[Hit] = []
    # (start, end, replacement) edits on the original text; later passes skip what earlier ones cover.
    edits: list[tuple[int, int, str]] = []
    taken = Coverage(len(text))

    def strip(
        span: tuple[int, int], replacement: str, rule_id: str, severity: str, why: str, fix: str
    ) -> None:
        if taken.overlaps(*span):
            return
        taken.add(*span)
        edits.append((span[0], span[1], replacement))
        law = _XSS if rule_id == "safety.script" else None
        hits.append(Hit(rule_id, "unsafe_markup", severity, span, text[span[0] : span[1]], why, fix, law))

    def foreign(url: str) -> bool:
        return bool(_SCRIPT_URL.match(url)) or not host_allowed(url, allowed_hosts)

    link_fix = "keep the words, drop the link, or add the host to compliance.allowed_hosts"
    spans = _dangerous_blocks(text)
    spans += [m.span() for pattern in (_DANGEROUS_TAG, _EVENT_ATTR) for m in pattern.finditer(text)]
    for span in spans:
        strip(span, "", "safety.script", "block", _EXECUTABLE, "remove it; publish plain text")
    for m in _MD_IMAGE.finditer(text):
        if foreign(m.group(2)):
            why = f"embeds an image from a host the brand does not allow ({m.group(2)!r})"
            strip(
                m.span(),
                "",
                "safety.image_host",
                "block",
                why,
                "remove the image or host it on an allowed domain",
            )
    for m in _MD_LINK.finditer(text):
        if text[m.start() - 1 : m.start()] != "!" and foreign(m.group(2)):
            why = f"links to a host the brand does not allow ({m.group(2)!r})"
            strip(m.span(), m.group(1), "safety.link_host", "block", why, link_fix)
    for m in _SCRIPT_URL.finditer(text):
        strip(m.span(), "", "safety.script", "block", "contains a script URL", "remove it")
    for m in _BARE_URL.finditer(text):
        url = m.group().rstrip(".,;:!?")
        if not host_allowed(url, allowed_hosts):
            why = f"links to a host the brand does not allow ({url!r})"
            strip((m.start(), m.start() + len(url)), "", "safety.link_host", "block", why, link_fix)
    for m in _TAG.finditer(text):
        strip(
            m.span(),
            "",
            "safety.html",
            "warn",
            "contains HTML markup; channels take plain text",
            "remove the tags",
        )
    parts: list[str] = []  # one join, not a new copy of the text per edit
    at = 0
    for start, end, replacement in sorted(edits):
        parts += [text[at:start], replacement]
        at = end
    clean = "".join(parts) + text[at:]
    if edits:
        clean = re.sub(r"[ \t]{2,}", " ", clean).strip()
    return clean, hits
