"""Factual claims in a text, and the passages that do (or do not) support them.

Contract: :func:`extract_claims` finds the sentences that assert something checkable — a figure
(number, percentage, price, duration), a comparison, or a health / financial / educational effect or
an offer term (refunds, free shipping) — deterministically, with spans in the original text.
:func:`link_claims` looks each one up in an :class:`Evidence` source (the campaign's retrieved
passages, or a brand's whole index) and says, per claim, which passages were considered and whether
they support it:

- every figure in the claim must be stated in a considered passage or in the brand's facts;
- a claim without figures needs a considered passage that says the same thing: cosine similarity at
  least ``strong`` or, from ``weak`` up, most of the claim's content words (Chinese: character pairs).

The verdict is a heuristic a model may refine (the compliance agent asks one about the sentences this
marks unsupported); the figure rule is not: a number no passage states is never supported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

import numpy as np

from policy.text import fold, fold_str

_FIGURE = re.compile(
    r"(?<![a-z0-9.\-_/#])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*(万|亿)?"
    r"(\s*(?:%|percent\b|per cent\b|个百分点))?"
)
_MULTIPLIERS = {"万": 10_000, "亿": 100_000_000}
_COMPARISON = re.compile(
    r"\b(?:more|less|fewer|better|faster|stronger|cheaper|longer|higher|lower|smoother|healthier|safer|"
    r"fresher|bigger|greater)\b[^.!?]{0,40}?\bthan\b|\b(?:twice|double|triple|half)\b|\b\d+(?:\.\d+)?\s*(?:x|times)\b"
    r"|\bcompared (?:to|with)\b|\boutperform|\bbeats?\b|\bvs\.?\b"
    r"|比[^，。！？,.!?]{0,12}?(?:更|还|多|少|快|慢|高|低|强|好)|高于|低于|超过|优于|胜过|领先于?|倍|翻番|翻倍|加倍"
)
_HEALTH_VERB = (
    r"reduc|improv|boost|increas|lower|prevent|heal|repair|restor|reliev|eliminat|fade|brighten|firm|whiten|"
    r"detox|burn|strengthen|protect|fight|clear|sooth|calm|regenerat|revers|cur|treat|support"
)
_HEALTH_OBJECT = (
    r"skin|wrinkle|acne|pore|spot|pigment|redness|collagen|elasticity|immun|blood|sugar|cholesterol|weight|"
    r"fat|metabolism|sleep|digest|gut|joint|bone|heart|liver|brain|memory|energy|fatigue|hair|inflamm|"
    r"anxiety|stress|disease|cancer|virus|infection|allerg|eczema|sensitiv|barrier|hydrat|moistur"
)
_HEALTH = re.compile(
    rf"\b(?:{_HEALTH_VERB})\w*\b[^.!?]{{0,60}}?\b(?:{_HEALTH_OBJECT})|\b(?:{_HEALTH_OBJECT})\w*\b[^.!?]{{0,30}}?"
    rf"\b(?:{_HEALTH_VERB})\w*"
    r"|(?:改善|减少|降低|提升|增强|修复|美白|淡斑|祛|抗|缓解|预防|促进|燃脂|减肥|瘦身|排毒|补充|调节|保护|舒缓|紧致|"
    r"保湿|滋润|提亮|去除|消除|治)[^，。！？]{0,10}?(?:皮肤|肌肤|皱纹|细纹|痘|斑|毛孔|暗沉|胶原|弹性|免疫|血|糖|脂|"
    r"体重|睡眠|消化|肠|关节|骨|心|肝|脑|记忆|精力|疲劳|头发|炎|过敏|敏感|屏障|水分|肤色|衰老|癌|病)"
)
_FINANCE = re.compile(
    r"\b(?:returns?|yields?|apy|apr|interest|profits?|earn(?:ings)?|gains?|dividends?|income)\b"
    r"|\b(?:zero|no|low|lower|lowest|without)\s+(?:[a-z]+\s+)?(?:fees?|commissions?)\b"
    r"|收益|回报|年化|利率|利息|赚|盈利|分红|增值|收入|手续费|费率|管理费|佣金"
)
_NUTRITION = re.compile(
    r"\b(?:sugar[- ]free|zero sugar|no sugar|no added sugar|fat[- ]free|low[- ]fat|calories?|protein|"
    r"gluten[- ]free|organic|vegan|non[- ]gmo|caffeine[- ]free|decaf|all[- ]natural|preservative[- ]free)\b"
    r"|零糖|无糖|零卡|低卡|低脂|零脂|脱脂|卡路里|热量|蛋白质|有机|纯天然|无添加|零添加|零负担|无麸质|非转基因"
)
_EDUCATION = re.compile(
    r"\b(?:pass(?:ing)? rate|admissions?|admitted|score[sd]?|grades?|placement|hired|job offers?)\b"
    r"|通过率|提分|录取|升学率|分数|成绩|就业率|上岸|提高\d*分"
)
# Contract terms must match the brand's actual policy; plain offers ("free tasting") only need a look.
_POLICY = re.compile(
    r"\b(?:refunds?|refundable|money back|warranty|warranties|cancel(?:lation)?)\b"
    r"|\breturns? (?:any|within|for)\b|\bnot covered\b|\bcovered for\b"
    r"|退款|退改|退货|保修|质保|取消|包退|包换"
)
# "off" is an offer only after a figure ("15% off", "$10 off"): "knock off early" is none. "free" is an
# offer as a word of its own: not "fragrance-free", "feel free to", "free of parabens" or "free from".
_OFFER = re.compile(
    r"(?<!feel )(?<![-\w])free\b(?!-| of\b| from\b| to\b)|\b(?:shipping|delivery|discount|trial)\b"
    r"|[\d%]\s?off\b|免费|包邮|配送|折扣|优惠|试用|赠"
)


# A word on what the price is worth ("affordable", "性价比高") is a price statement like any other: a
# brand that sells 7-day trips at 6,980 yuan cannot be called budget-friendly unless it says so itself.
_VALUE = re.compile(
    r"\b(?:affordabl[ey]|inexpensive|budget[- ]friendly|great value|best value|value for money|bargains?"
    r"|low[- ]cost|reasonably priced|fairly priced|won't break the bank)\b"
    r"|性价比|价格合理|价格实惠|价格公道|价格亲民|物美价廉|实惠|平价|划算|低价|超值|省钱"
)


# A promise for a customer who is not happy, or something given at no cost: "If you're not satisfied with your
# purchase, we'll replace the skillet at no cost" (a Hearthline e-mail of stop 43; no document says so).
# A passage must make the same kind of promise itself ("7天无理由退货" in a brand's own policy).
_SATISFACTION = re.compile(
    r"\bnot (?:completely |fully |entirely |100% )?(?:satisfied|happy) with\b|\bsatisfaction guarantee"
    r"|\bno questions asked\b|\bat no (?:extra |additional )?(?:cost|charge)\b|\bfree of charge\b"
    r"|不满意|无理由|免费更换|免费换新|免费补发"
)


# A promise in the brand's name is a term the brand must keep: "We promise freshness and authenticity" (a
# Tidewater ad of stop 43, seed 7: "a vague promise", its blind reviewer wrote; no document promises it).
# A passage must make a promise itself ("our promise: every order ships within 48 hours").
_PROMISE = re.compile(
    r"\b(?:we|i) (?:promise|pledge|vow)\b|\bour (?:promise|pledge)\b|\bour commitment (?:is|to)\b"
    r"|\bwe(?:'re| are) committed to (?:delivering|providing|ensuring|giving)\b"
    r"|我们承诺|向您承诺|郑重承诺|我们保证"
)


# A limited time and a scarcity are offers too: "限时优惠" (a Qingyu ad of 2026-12-05, seed 9: no document
# offers a limited-time deal), "only 3 spots left", "today only". A passage must say the same kind itself.
_LIMITED_TIME = re.compile(
    r"\b(?:limited[- ]time|today only|this week only|last chance|ends (?:today|tonight|soon))\b"
    r"|限时|倒计时|今日截止|错过再等"
)
_SCARCITY = re.compile(
    r"\b(?:while (?:supplies|stocks?) last|only \d+ (?:left|spots?|seats?|places?))\b"
    r"|限量|仅剩|只剩|最后\d+[个名席]|手慢无"
)

# Where the product comes from and whether it is new are facts too: "sourced directly from local
# farmers" (a Tidewater e-mail and ad of 2026-12-05: the documents name an importer, no farmers) and
# "our new cast-iron cookware line, Hearthline" (a brand of many years presented as a launch). A passage
# must say the same kind itself, as for a limited time.
_SOURCING = re.compile(
    r"\b(?:(?:directly|ethically|locally|responsibly|sustainably|fairly) sourced"
    r"|sourced (?:directly|locally|ethically|responsibly|sustainably|straight) from"
    r"|direct[- ]trade|fair[- ]trade|farm[- ]to[- ](?:cup|table|door)"
    r"|(?:directly|straight) from (?:the |local |small )?(?:farms?|farmers|growers|producers|orchards?)"
    r"|from local (?:farms?|farmers|growers|producers|artisans|suppliers)"
    r"|(?:buy|buys|bought|purchase[sd]?|work|works|partner|partners) directly with (?:[\w-]+ ){0,2}?"
    r"(?:farms?|farmers|growers|producers|cooperatives|co-ops))\b"
    r"|产地直采|源头直采|源头直供|产地直供|原产地直供|农户直供|直采|直供|公平贸易"
    r"|从[^，。！？]{0,8}直接(?:采购|进口|收购)"
)
_LAUNCH = re.compile(
    r"\b(?:brand[- ]new|just (?:launched|released|arrived|dropped)|newly (?:launched|released|opened)"
    r"|introducing|new arrivals?|(?:our|the|a) (?:all-)?(?:new|latest) (?:[\w-]+ ){0,2}?"
    r"(?:line|collection|range|product|products|release|launch|arrival|addition|offering|edition))\b"
    r"|新品|全新|新推出|推出了?新|上新|首发|新款|重磅推出|隆重推出|最新推出|新上市"
)

# A service made to each customer's measure is a fact too: "roasted to your taste preferences" (a Tidewater
# e-mail of 2026-12-05, seed 7: the roaster sells three coffees roasted one way; "invents a service", the
# blind reviewer wrote), "tailored to your needs", "私人定制". A passage must say the same kind itself.
_TAILORED = re.compile(
    r"\b(?:(?:roasted|blended|made|built|crafted|designed|tailored|customi[sz]ed|adjusted|planned|"
    r"prepared|personali[sz]ed) to (?:your|each customer[’']s|every customer[’']s) (?:own |personal |"
    r"individual |unique )?(?:taste|tastes|liking|preferences?|specifications?|needs)"
    r"|tailor-made|made[- ]to[- ]order|bespoke|one[- ]on[- ]one (?:coaching|consultations?|plans?))\b"
    r"|量身定制|量身打造|私人定制|私人订制|专属定制|一对一定制|按需定制|定制(?:化)?(?:服务|方案|课程|行程|路线)"
)

# When a class or a service can be joined is a fact too: "随时参加学习" for a live class that runs on a
# timetable (a Qingyu e-mail of stop 43: "live classes are not any-time", its blind reviewer wrote),
# "start anytime", "learn at your own pace". A passage must say the same kind itself ("可随时下载" is about
# downloads, and does not).
_ANYTIME = re.compile(
    r"\b(?:join|start|begin|learn|enrol|enroll|sign up)(?: [\w-]+){0,4}"
    r" (?:any ?time|at any time|whenever you (?:like|want|wish))\b|\bat your own pace\b"
    r"|随时(?:参加|上课|学习|开课|报名|加入|开始|插班)|随到随学|想学就学"
)


# How long a product lasts is a fact of its own, not its warranty's term: "It lasts for 10 years on the
# enamel and body" (a Hearthline e-mail of 2026-12-05, seed 7: the documents give a 10-year warranty; "turns
# the warranty into a durability promise", the blind reviewer wrote). Years, decades, a lifetime: a class
# that lasts 3 hours is no such claim. A passage must say the same kind itself.
_DURABILITY = re.compile(
    r"\b(?:lasts?|will last|built to last|made to last|keeps? going) (?:for )?"
    r"(?:up to |over |more than |at least |well over )?"
    r"(?:\d+(?:\.\d+)? (?:years?|decades?)|(?:a )?lifetimes?|generations|decades|forever)\b"
    r"|(?:能用|可用|用上|耐用)\s?(?:\d+\s?年|几十年|一辈子|一生|终身|几代)"
)
# A warranty's or a membership's own term is said of the warranty, not of the product: "Our warranty lasts
# 10 years on the enamel and body" is the policy itself (a policy term, checked as one).
_TERM_OF = re.compile(
    r"\b(?:warrant(?:y|ies)|guarantee|coverage|membership|subscription|plan)\b|保修|质保|会员"
)


def speaks_of_policy(text: str) -> bool:
    """Whether ``text`` is about a contract term: refunds, returns, warranty, cancellation."""
    return bool(_POLICY.search(fold_str(text)))


_KINDS = (
    ("comparison", _COMPARISON),
    ("health_effect", _HEALTH),
    ("finance_effect", _FINANCE),
    ("education_effect", _EDUCATION),
    ("nutrition", _NUTRITION),
    ("policy_term", _POLICY),
    ("offer_term", _OFFER),
    ("satisfaction", _SATISFACTION),
    ("promise", _PROMISE),
    ("price_value", _VALUE),
    ("limited_time", _LIMITED_TIME),
    ("scarcity", _SCARCITY),
    ("sourcing", _SOURCING),
    ("launch", _LAUNCH),
    ("made_to_measure", _TAILORED),
    ("durability", _DURABILITY),
    ("anytime", _ANYTIME),
)
# Kinds a passage must state itself: a figure or a similar sentence does not carry them.
_SAME_KIND = frozenset(
    {
        "price_value",
        "limited_time",
        "scarcity",
        "satisfaction",
        "promise",
        "sourcing",
        "launch",
        "made_to_measure",
        "durability",
        "anytime",
    }
)
_SENTENCE = re.compile(r"[^.!?。！？;；\n]+(?:[.!?。！？;；]+|$)|[^\n]+")
_STOP = frozenset(
    (  # noqa: SIM905 - a word list reads better as one string
        "the and for with our your you this that from are was were has have had will can all its into out "
        "more than just also been each who what when how why not but per any off yes sure okay without"
    ).split()
)


@dataclass(frozen=True)
class Claim:
    """A sentence that asserts something checkable."""

    text: str
    span: tuple[int, int]
    kinds: tuple[str, ...]
    figures: tuple[str, ...]
    units: tuple[str, ...] = ()


_UNIT = re.compile(r"[\s-]*(?:([a-z]+)|([\u4e00-\u9fff]))")
_NOT_UNITS = frozenset(("a an and or to of for in on at by with from per than the").split())  # noqa: SIM905


def figures_measured(text: str) -> list[tuple[str, str, frozenset[str]]]:
    """``(figure, unit, what)`` for each figure of :func:`figures_with_units`, ``what`` the content words
    (:func:`content_units`) of up to four words after its unit, and of the Chinese run just before the
    figure: what it measures ("3 g of oat beta-glucan"
    -> ("3", "g", {"oat", "beta", "gluca"})). Figures with no unit are left out."""
    folded, _ = _dates(fold_str(text))
    out = []
    pairs = figures_with_units(text)
    for (value, unit), m in zip(pairs, _FIGURE.finditer(folded), strict=False):
        if not unit:
            continue
        u = _UNIT.match(folded, m.end())
        after = folded[u.end() if u else m.end() :][:60]
        words = re.findall(r"[a-z][a-z-]+|[\u4e00-\u9fff]{1,4}", after)[:4]
        # Chinese names the measure before the figure: "膳食纤维高达8克"
        before = re.findall(r"[\u4e00-\u9fff]+", folded[max(0, m.start() - 8) : m.start()])
        what = frozenset(content_units(" ".join(words + before[-1:])))
        if what:
            out.append((value, unit, what))
    return out


def figures_with_units(text: str) -> list[tuple[str, str]]:
    """``(figure, unit)`` pairs: "60 days" -> ("60", "day"), "70%" -> ("70%", ""), "30天" -> ("30", "天").

    Figures are canonical (thousands separators dropped); the unit is the word or Chinese character
    right after the figure (first three letters), or "" when there is none.
    """
    folded, out = _dates(fold_str(text))
    for m in _FIGURE.finditer(folded):
        whole = m.group(1).replace(",", "")
        fraction = (m.group(2) or "").rstrip("0")  # "3.50" is "3.5", "2.0" is "2"
        value = f"{whole}.{fraction}" if fraction else whole
        if m.group(3):  # "1.2万" is 12000
            scaled = Decimal(value) * _MULTIPLIERS[m.group(3)]
            value = format(scaled.normalize(), "f")
        unit = ""
        if m.group(4):
            value += "%"
        else:
            u = _UNIT.match(folded, m.end())
            if u and u.group(1) and u.group(1) not in _NOT_UNITS:
                unit = u.group(1)[:3]
            elif u and u.group(2):
                unit = u.group(2)
        out.append((value, unit))
    return out


_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()  # noqa: SIM905
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?"
_DATES = (  # (pattern, group of year, month, day): bounded, nothing to backtrack over
    (re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)"), (1, 2, 3)),
    (re.compile(r"(?<!\d)(\d{4})\s?年\s?(\d{1,2})\s?月\s?(\d{1,2})\s?[日号]"), (1, 2, 3)),
    (re.compile(rf"\b{_MONTH}\s(\d{{1,2}})(?:st|nd|rd|th)?,?\s(\d{{4}})(?!\d)"), (3, 1, 2)),
    (re.compile(rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?\s{_MONTH},?\s(\d{{4}})(?!\d)"), (3, 2, 1)),
)


def _dates(folded: str) -> tuple[str, list[tuple[str, str]]]:
    """Full dates in ``folded`` as ``(YYYY-MM-DD, "date")`` figures, and the text with them blanked:
    "Dec 31, 2025", "31 December 2025", "2025-12-31" and "2025年12月31日" are one figure, the same one."""
    found: list[tuple[int, str]] = []
    chars = list(folded)
    for pattern, (y, m, d) in _DATES:
        for match in pattern.finditer("".join(chars)):
            month = match.group(m)
            number = _MONTHS.index(month[:3]) + 1 if month[:3] in _MONTHS else int(month)
            day = int(match.group(d))
            if 1 <= number <= 12 and 1 <= day <= 31:
                found.append((match.start(), f"{match.group(y)}-{number:02d}-{day:02d}"))
                chars[match.start() : match.end()] = " " * (match.end() - match.start())
    return "".join(chars), [(value, "date") for _, value in sorted(found)]


def figures_in(text: str) -> list[str]:
    """Figures in canonical form: thousands separators dropped, percentages marked ("12,800" -> "12800")."""
    return [value for value, _ in figures_with_units(text)]


# Units that change what a figure means: "60 days" is not "60 participants". Other words after a
# figure ("60 people" / "60 participants") are taken as the same count.
_MEASURES = frozenset(
    re.split(
        r"\s+",
        "sec min hou day wee mon yea ml lit kg gra mg lb pou oun km mil met cm mm usd rmb yua dol eur "
        "tim poi per ste cup 秒 分 时 天 日 周 月 年 元 块 角 克 斤 升 米 里 倍 点 次 杯 步 岁 号",
    )
)


def _states(known: set[tuple[str, str]], figure: str, unit: str, loose: bool = False) -> bool:
    """Whether ``known`` figures state ``figure``: a bare "70" is stated by "70%"; units must agree, or
    with ``loose`` differ only in the counted noun ("60 people" / "60 participants")."""
    for value, known_unit in known:
        same = value == figure or (not figure.endswith("%") and value == figure + "%")
        compatible = unit == known_unit or not unit or not known_unit
        if loose:
            compatible = compatible or (unit not in _MEASURES and known_unit not in _MEASURES)
        if same and compatible:
            return True
    return False


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text`` (ends of sentences and lines split; "2.5 km" and
    "hearthline.example.com" do not)."""
    spans = []
    for m in _SENTENCE.finditer(text):
        start, end = m.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end - start > 1:
            spans.append((start, end))
    # "2.5 km" is one sentence: glue back pieces that a decimal point split; so is a web or e-mail address
    # ("hearthline.example.com", "classes@hearthline.example.com": a dot with a letter or digit on each
    # side and no space: split, its "example." was taken for a sentence said twice and dropped, 2026-12-06).
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if (
            merged
            and text[merged[-1][1] - 1] == "."
            and (
                (text[merged[-1][1] - 2 : merged[-1][1] - 1].isdigit() and text[start : start + 1].isdigit())
                or (
                    merged[-1][1] == start
                    and text[merged[-1][1] - 2 : merged[-1][1] - 1].isascii()
                    and text[merged[-1][1] - 2 : merged[-1][1] - 1].isalnum()
                    and text[start : start + 1].isascii()
                    and text[start : start + 1].isalnum()
                )
            )
        ):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def extract_claims(text: str) -> list[Claim]:
    claims = []
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        if sentence.lstrip().startswith("#"):  # a hashtag line asserts nothing
            continue
        folded = fold_str(sentence)
        pairs = list(dict.fromkeys(figures_with_units(sentence)))
        kinds = tuple(kind for kind, pattern in _KINDS if pattern.search(folded))
        if "durability" in kinds and _TERM_OF.search(folded):
            kinds = tuple(k for k in kinds if k != "durability")
        if pairs:
            kinds = ("figure", *kinds)
        if kinds:
            claims.append(
                Claim(sentence, (start, end), kinds, tuple(f for f, _ in pairs), tuple(u for _, u in pairs))
            )
    return claims


@dataclass(frozen=True)
class Considered:
    id: str
    text: str
    score: float


class Evidence(Protocol):
    """Where claims are looked up: retrieved passages, or a whole brand index."""

    facts: list[str]
    products: dict[str, list[str]]  # product name -> its facts: which product a figure belongs to

    def consider(self, claims: list[str], k: int) -> list[list[Considered]]: ...


class Embedder(Protocol):
    def embed(self, texts: list[str]) -> np.ndarray: ...


@dataclass
class PassageEvidence:
    """A fixed set of passages (the campaign's), embedded once."""

    passages: list[tuple[str, str]]
    embedder: Embedder
    facts: list[str] = field(default_factory=list)
    products: dict[str, list[str]] = field(default_factory=dict)
    _vectors: np.ndarray | None = None

    def consider(self, claims: list[str], k: int) -> list[list[Considered]]:
        if not self.passages or not claims:
            return [[] for _ in claims]
        if self._vectors is None:
            self._vectors = self.embedder.embed([text for _, text in self.passages])
        scores = self.embedder.embed(claims) @ self._vectors.T
        out = []
        for row in scores:
            top = np.argsort(-row)[:k]
            out.append([Considered(self.passages[i][0], self.passages[i][1], float(row[i])) for i in top])
        return out


class _Searchable(Protocol):
    def search(self, query: str, k: int) -> list: ...  # type: ignore[type-arg]


@dataclass
class IndexEvidence:
    """A brand's whole knowledge index (the standalone ``brandforge check --brand``)."""

    index: _Searchable
    facts: list[str] = field(default_factory=list)
    products: dict[str, list[str]] = field(default_factory=dict)

    def consider(self, claims: list[str], k: int) -> list[list[Considered]]:
        return [
            [
                Considered(hit.passage.id, hit.passage.text, float(hit.score))
                for hit in self.index.search(claim, k)
            ]
            for claim in claims
        ]


def content_units(text: str) -> set[str]:
    """The content words of ``text`` (folded, first five letters, no stop words) and its Chinese character
    pairs: what :func:`coverage` compares."""
    folded = fold_str(text)
    units = {w[:5] for w in re.findall(r"[a-z]{3,}", folded) if w not in _STOP}
    for run in re.findall(r"[\u4e00-\u9fff]+", folded):
        units |= {run[i : i + 2] for i in range(len(run) - 1)} if len(run) > 1 else {run}
    return units


def coverage(claim: str, passage: str) -> float:
    """Share of the claim's content words (Chinese: character pairs) that the passage also has."""
    need = content_units(claim)
    return len(need & content_units(passage)) / len(need) if need else 1.0


_ROW_SPLIT = re.compile(r"[\n。！？!?；;]|(?<=\.)\s")
_NEGATION = re.compile(r"\b(?:not|no|never|cannot|none|nothing)\b|n't\b|[不没无未非别]")
MIN_ROW_UNITS = 3
"""Content units a claim needs before one passage row that has them all states it."""


def row_states(claim: str, passage: str) -> bool:
    """Whether one row (line or sentence) of ``passage`` has every content unit of ``claim`` (at least
    :data:`MIN_ROW_UNITS`), negated alike: "Yes, you can skip a single delivery." is stated by "- You can
    skip a single delivery, pause for up to 3 months, …", however far the whole passage's embedding is
    from the short claim (0.33: a Tidewater reply's answer was cut as an unstated offer, 2026-12-04)."""
    need = content_units(claim)
    if len(need) < MIN_ROW_UNITS:
        return False
    negated = bool(_NEGATION.search(fold_str(claim)))
    return any(
        need <= content_units(row) and bool(_NEGATION.search(fold_str(row))) == negated
        for row in _ROW_SPLIT.split(passage)
        if row.strip()
    )


@dataclass(frozen=True)
class ClaimCheck:
    claim: Claim
    considered: list[Considered]
    supported: bool
    supporting: list[str]
    missing_figures: list[str]
    reason: str


def link_claims(
    claims: list[Claim],
    evidence: Evidence,
    *,
    k: int = 3,
    strong: float = 0.75,
    weak: float = 0.45,
    min_coverage: float = 0.5,
) -> list[ClaimCheck]:
    """Decide, per claim, whether the ``k`` closest passages (and the brand facts) support it."""
    if not claims:
        return []
    fact_figures = {pair for fact in evidence.facts for pair in figures_with_units(fact)}
    results = []
    for claim, considered in zip(claims, evidence.consider([c.text for c in claims], k), strict=True):
        passage_figures = {c.id: set(figures_with_units(c.text)) for c in considered}
        units = claim.units or ("",) * len(claim.figures)
        needed = list(zip(claim.figures, units, strict=True))
        stated = {
            (f, u)
            for f, u in needed
            if _states(fact_figures, f, u) or any(_states(known, f, u) for known in passage_figures.values())
        }
        # A count with another noun is accepted from a passage that states another of the claim's figures.
        corroborating = [
            known for known in passage_figures.values() if any(_states(known, *p) for p in stated)
        ]
        missing = [
            f
            for f, u in needed
            if (f, u) not in stated and not any(_states(known, f, u, loose=True) for known in corroborating)
        ]
        if claim.figures:
            supporting = [
                c.id
                for c in considered
                if any(
                    _states(passage_figures[c.id], f, u, loose=True) for f, u in needed if f not in missing
                )
            ] or (["brand facts"] if not missing else [])
        else:
            supporting = [
                c.id
                for c in considered
                if c.score >= strong
                or (c.score >= weak and coverage(claim.text, c.text) >= min_coverage)
                or row_states(claim.text, c.text)
            ]
            # A brand fact, alone or said with its product's name ("Tide Club: free shipping …").
            named = [f"{name} {line}" for name, lines in evidence.products.items() for line in lines]
            if any(coverage(claim.text, f) >= 0.8 for f in [*evidence.facts, *named]):
                supporting.append("brand facts")
        # "…$17 a bag, an affordable option": the price is stated, what it is worth must be too; so must
        # a limited time or a scarcity ("限时优惠" where a passage offers only a sibling discount), where
        # the product comes from and whether it is new.
        for kind, pattern in _KINDS:
            if (
                kind in _SAME_KIND
                and kind in claim.kinds
                and not any(
                    pattern.search(fold_str(t)) for t in [*(c.text for c in considered), *evidence.facts]
                )
            ):
                supporting = []
        names = ", ".join(f"{c.id} ({c.score:.2f})" for c in considered) or "none"
        if missing:
            reason = (
                f"the figure{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)} "
                f"{'are' if len(missing) > 1 else 'is'} stated in none of the passages considered ({names}) "
                "nor in the brand facts"
            )
        elif not supporting:
            reason = (
                f"no passage considered says this ({names}); a {'/'.join(claim.kinds).replace('_', ' ')} "
                "claim needs a source"
            )
        else:
            reason = f"supported by {', '.join(supporting)}"
        results.append(
            ClaimCheck(claim, considered, not missing and bool(supporting), supporting, missing, reason)
        )
    return results


# An award the copy says was won, and its name: "winner of the 2024 Super Fund of the Year award",
# "won a Good Design Award", "荣获2024年国际美妆金奖". "award-winning" names none. Bounded, lazy spans on
# one clause: no nested quantifiers.
_AWARD = re.compile(
    r"\b(?:winner\s+of|won|wins|awarded|received|earned|scooped|took\s+home|picked\s+up)\s+"
    r"(?:the\s+|an?\s+|our\s+)?(?P<en>[^.!?;:,()\n]{0,60}?\b(?:award|awards|prize|medal|trophy))\b"
    r"|(?P<winning>\baward[- ]winning\b)"
    r"|(?:荣获|获得|获评|荣膺|斩获|摘得|夺得|赢得|获)(?P<zh>[^，。！？；,!?;（）()\n]{0,24}?(?:奖项|奖章|奖|称号))",
    re.IGNORECASE,
)
_AWARD_NEGATED = re.compile(r"\b(?:not|never|no)\b|n't\b|没有|没|未|不曾|从不")
_AWARD_GENERIC = frozenset({"award", "prize", "medal", "troph", "winne", "annua"})
_AWARD_ANY = re.compile(r"\baward|\bprize\b|\bmedal|\btroph|奖")
# A prize won in the brand's own draw is no award the brand won: "恭喜尾号8421的用户获得一等奖",
# "Jess won this month's giveaway prize".
_GIVEAWAY = re.compile(
    r"\b(?:giveaway|give-away|draw|raffle|sweepstakes?|competition|contest|lucky)\b|抽奖|抽中|中奖|幸运|"
    r"[一二三四五六七八九十特]等奖|参与奖|鼓励奖|纪念奖|幸运奖"
)


def _award_units(name: str) -> set[str]:
    """What an award's name must share with a document: its content words (Chinese: the character pairs
    of the name read without its punctuation and figures, so "「栖云美妆评选」年度" is "栖云美妆评选年度")."""
    folded = fold_str(name)
    units = {w[:5] for w in re.findall(r"[a-z]{3,}", folded) if w not in _STOP} - _AWARD_GENERIC
    run = "".join(re.findall(r"[\u4e00-\u9fff]", folded))
    units |= {run[i : i + 2] for i in range(len(run) - 1)} if len(run) > 1 else set()
    return units - {"获奖", "大奖", "奖项"}


def unstated_awards(text: str, documents: list[str]) -> list[tuple[int, int, str]]:
    """Awards ``text`` says were won that no one of ``documents`` names: (start, end, name) each. A name
    is stated when one document has all its words (Chinese: character pairs), years and punctuation
    aside; "award-winning", or a name of nothing but generic words, needs a document that mentions an
    award at all. An award said not to have been won ("we have never won an award") is no claim."""
    found = []
    documents_units: list[set[str]] | None = None  # read only once an award is found
    for m in _AWARD.finditer(text):
        clause_start = max(text.rfind(ch, 0, m.start()) for ch in ".!?。！？\n，,;；") + 1
        if _AWARD_NEGATED.search(fold_str(text[clause_start : m.start()])):
            continue
        sentence_start = max(text.rfind(ch, 0, m.start()) for ch in ".!?。！？\n") + 1
        if _GIVEAWAY.search(fold_str(text[sentence_start : m.end()])):
            continue
        name = m.group("en") or m.group("zh") or m.group("winning")
        units = _award_units(name) if not m.group("winning") else set()
        if units:
            documents_units = documents_units or [_award_units(d) for d in documents]
            stated = any(units <= d for d in documents_units)
        else:
            stated = any(_AWARD_ANY.search(fold_str(d)) for d in documents)
        if not stated:
            found.append((m.start(), m.end(), name.strip()))
    return found


# A survey result as the documents give it: "81% said skin felt smoother", "73% of users reported that
# their skin tone looked more even", "81%的受试者表示皮肤更光滑". What was said runs to the clause's end.
_SAID = re.compile(
    r"(?P<share>\d{1,3}(?:\.\d)?)\s?%\s(?:of\s(?:[a-z'-]+\s){0,4})?(?:said|reported|agreed|noticed|felt)\s(?:that\s)?"
    r"(?P<en>[^.!?;:,()\n]{4,80})"
    r"|(?P<share_zh>\d{1,3}(?:\.\d)?)\s?[%％]的?[\u4e00-\u9fff]{0,6}?(?:表示|认为|反馈|觉得|称)(?P<zh>[^，。！？；,!?;（）()\n]{3,30})"
)
_LINKING = dict.fromkeys(("felt", "feels", "feel"), "feel")
_LINKING |= dict.fromkeys(("looked", "looks", "look"), "look")
_RESULT_WORD = re.compile(r"[a-z]+")
_REPORTED_FIGURE = re.compile(
    r"\d\s?[%％]|\bpercent\b|\bper cent\b|\b\d+\s(?:in|out of)\s\d+\b|[一二三四五六七八九]成"
)


def _result_key(said: str) -> tuple[str, ...]:
    """The words a restatement of a result keeps: from its linking verb on ("skin felt smoother" ->
    ("feel", "smoother")), else its last two words; a Chinese result is its characters."""
    words = [w for w in _RESULT_WORD.findall(said) if w not in {"their", "my", "the", "that"}]
    for i, word in enumerate(words):
        if word in _LINKING and i + 1 < len(words):
            return (_LINKING[word], *words[i + 1 : i + 3])
    return tuple(words[-2:])


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the sentence of ``text`` (:func:`sentence_spans`) holding ``start``…``end``."""
    return next(((a, b) for a, b in sentence_spans(text) if a <= start and end <= b), (start, end))


def _documented_results(documents: list[str]) -> list[tuple[str, str, bool]]:
    """The survey results ``documents`` state (:data:`_SAID`): (share, what was said, Chinese) each."""
    found = []
    for document in documents:
        for m in _SAID.finditer(fold_str(document)):
            said = (m.group("en") or m.group("zh") or "").strip().removeprefix("their ").removeprefix("my ")
            found.append((m.group("share") or m.group("share_zh"), said, m.group("zh") is not None))
    return found


def unreported_results(text: str, documents: list[str]) -> list[tuple[int, int, str]]:
    """Study results ``text`` restates without their figures: (start, end, the result as the documents
    give it) each. When the documents state an effect only as what a share of a study's participants
    said ("81% said skin felt smoother"), copy that says it as a fact or a testimonial ("Serum felt
    smoother after using it.") turns a perception study into a claim no one measured; a legal reader
    sends it back (Clearleaf's ad, stop 54, rejected by both blind reviewers). A sentence that gives a
    figure with it (a percentage, "8 in 10") is a report, not a restatement."""
    keys: dict[tuple[str, ...], str] = {}
    for _share, said, chinese in _documented_results(documents):
        key = (said,) if chinese else _result_key(said)
        if len(key) >= 2 or (chinese and len(said) >= 3):
            keys.setdefault(key, said)
    if not keys:
        return []
    folding = fold(text)
    folded = folding.text
    found = []
    for key, said in keys.items():
        if len(key) == 1:  # Chinese: the words as they are
            starts = [m.start() for m in re.finditer(re.escape(key[0]), folded)]
            spans = [(s, s + len(key[0])) for s in starts]
        else:
            words = list(_RESULT_WORD.finditer(folded))
            spans = []
            for i in range(len(words) - len(key) + 1):
                got = [_LINKING.get(w.group(), w.group()) for w in words[i : i + len(key)]]
                if tuple(got) == key:
                    spans.append((words[i].start(), words[i + len(key) - 1].end()))
        for start, end in spans:
            head, tail = _sentence_bounds(folded, start, end)
            if not _REPORTED_FIGURE.search(folded[head:tail]):
                found.append((*folding.span(start, end), said))
    return found


# A share given with what was perceived: "81% of people … felt softer", "73% saw more even tone".
_SHARE_PERCEIVED = re.compile(
    r"(?<![\d.])(?P<share>\d{1,3}(?:\.\d)?)\s?%\s(?:[\w%'-]+\s){0,10}?"
    r"(?:felt|feel|feels|looked|look|looks|said|say|reported|noticed|saw|see|agreed|found)\b"
)


def misquoted_results(text: str, documents: list[str]) -> list[tuple[int, int, str]]:
    """Study shares ``text`` gives with another result than the documents give for them: (start, end,
    the result as the documents give it) each. "81% said skin felt smoother" in the documents and "81% of
    people who used our serum felt softer" in an ad of stop 55 (seed 10): the figure is the study's, the
    result is not, so the claim is one no one measured. English only; a share the documents give for
    several results is left alone."""
    results: dict[str, set[str]] = {}
    for share, said, chinese in _documented_results(documents):
        if not chinese:
            results.setdefault(share, set()).add(said)
    if not results:
        return []
    folding = fold(text)
    found = []
    for m in _SHARE_PERCEIVED.finditer(folding.text):
        given = results.get(m.group("share"))
        if not given or len(given) != 1:
            continue
        (said,) = given
        head, tail = _sentence_bounds(folding.text, m.start(), m.end())
        sentence_words = set(_RESULT_WORD.findall(folding.text[head:tail]))
        last = _RESULT_WORD.findall(said)[-1:]
        if last and last[0] not in sentence_words:
            found.append((*folding.span(m.start("share"), m.end()), said))
    return found
