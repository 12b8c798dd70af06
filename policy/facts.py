"""Facts bound to their conditions: a figure the documents state, but for another case than the claim's.

Contract: :func:`condition_conflicts` takes a claim whose figures the evidence states (see
:mod:`policy.claims`) and the evidence *rows* it was checked against — each line or sentence of the
passages considered, each brand fact — and says, in plain words, where the claim attaches a stated figure
to a condition that the rows give it for another case. Three kinds:

- **a condition range**: a refund ladder's "15–29 days before departure: 70%" row states 70%; a claim that
  gives 70% for 10 days, or 40% (the 7–14 day row) for 20 days, binds the figure to the wrong row. A row
  conditions a result figure (a percentage or an amount of money) on a measure (days, weeks, months,
  years, hours, age) with a range ("15–29 days", "15 至 29 天"), an open bound ("30+ days", "at least 30
  days", "7 天以内", "≤2 天") or a single value; the claim's own value of that measure must fall inside
  one of the rows that state the figure;
- **a qualifier**: "adults $65 / children 8–15 $35": a claim that gives $65 for a child, or the second
  child's price for the first. Qualifiers come in contrasting groups (adult / child / senior / student;
  first / second; online / in person); the claim must share one with a row that states the figure
  whenever all those rows name one of the group;
- **a product**: a figure stated only in another product's facts ("2-year limited warranty" is the
  induction burner's, not the Dutch oven's), when the claim names exactly which product it is about.

:func:`feature_conflicts` does the same for words rather than figures: a sentence about one product (or
about "every route") that gives it a phrase only another product's sheet has ("喀纳斯秋季 8天由藏族向导带队"
where the Tibetan guides are the Yubeng trek's; "Harbor Light with free shipping" where free shipping is
the subscription's).

A sentence that names no product is read as being about the product its paragraph has been speaking of
(:func:`sentence_subjects`): "这条线路由摄影领队带队……喀纳斯。每团最多 10 人" gives the Kanas route the
Yubeng trek's group size, although the second sentence names neither.

Conservative by design: a row that says nothing about a measure, qualifier or product never conflicts,
so a claim is flagged only when every row that states its figure ties it to something else. The patterns
are bounded (no nested quantifiers) and run on short rows and sentences.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from policy.claims import content_units, coverage, sentence_spans
from policy.text import fold_str

# A row (or the heading that leads it) that lists what the warranty or policy leaves out.
EXCLUDES = re.compile(
    r"\bnot\s+covered\b|\bisn't\s+covered\b|\bexclu\w+|\bnot\s+included\b|\bdoes\s+not\s+cover\b"
    r"|不在(?:保修|质保|保障)?范围|不(?:予|提供)?(?:保修|质保|退换|退款)|不包括|不含|除外"
)
# What the documents offer when a case is not covered ("If the damage isn't covered (…), our customer care
# team can offer 20% off one replacement"): a second part of the answer when the customer asks "what are
# my options" (Hearthline's question; its reply of 2026-12-05 gave the exclusion alone).
REMEDY = re.compile(
    r"\b(?:if|when)\b[^.!?\n]{0,80}?\b(?:isn't|is not|not|aren't|are not|doesn't|does not) cover"
    r"|(?:如果|若)[^。！？\n]{0,30}?(?:不在[^。！？\n]{0,6}范围|不(?:予|提供)?(?:保修|质保))",
    re.IGNORECASE,
)
ASKS_OPTIONS = re.compile(
    r"\bwhat (?:are|about) my options\b|\bwhat (?:can|should) I do\b|\bwhat are the options\b"
    r"|\bis there anything\b|怎么办|有什么办法|有什么选择|还能怎么",
    re.IGNORECASE,
)

_SPLIT_ROWS = re.compile(r"[\n;；。!?！？]|\.(?=\s|$)")
_NUM = r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
# measure words (folded) -> measure
_MEASURE_WORDS = {
    "day": "day", "days": "day", "天": "day", "日": "day", "business days": "day", "working days": "day",
    "工作日": "day", "week": "week", "weeks": "week", "周": "week", "星期": "week", "个星期": "week",
    "month": "month", "months": "month", "个月": "month", "year": "year", "years": "year", "年": "year",
    "hour": "hour", "hours": "hour", "小时": "hour", "个小时": "hour", "岁": "age", "years old": "age",
    "year-old": "age", "year olds": "age",
}  # fmt: skip
_UNIT = (  # "3 个工作日": a measure word may stand between the figure and the unit
    r"[\s-]?(?:个\s?)?(business days|working days|years old|year-old|year olds|days?|weeks?|months?|"
    r"years?|hours?|工作日|个星期|个小时|个月|天|日|周|星期|年|小时|岁)"
)
_RANGE = re.compile(rf"{_NUM}\s?(?:-|–|—|~|～|至|到|to)\s?{_NUM}{_UNIT}")
_AT_LEAST_AFTER = re.compile(rf"{_NUM}{_UNIT}\s?(?:\+|以上|及以上|或以上|or more|or longer|and over|and up)")
_AT_LEAST_BEFORE = re.compile(rf"(?:at least|more than|over|≥|>=|>|超过|不少于|大于|满)\s?{_NUM}{_UNIT}")
_AT_MOST_AFTER = re.compile(
    rf"{_NUM}{_UNIT}\s?(?:以内|之内|及以内|以下|或以下|内|or less|or fewer|or under|or sooner)"
)
_AT_MOST_BEFORE = re.compile(
    rf"(?:within|up to|less than|under|fewer than|no more than|≤|<=|<|不足|少于|不到|不超过)\s?{_NUM}{_UNIT}"
)
_SINGLE = re.compile(rf"{_NUM}{_UNIT}")
_MONTH_DAY = re.compile(r"\d{1,2}\s?月\s?\d{1,2}\s?[日号]")
# Result figures: a percentage, or money.
_PERCENT = re.compile(rf"{_NUM}\s?(?:%|％|percent\b|per cent\b)")
_MONEY = re.compile(rf"[$¥€£]\s?{_NUM}|{_NUM}\s?(?:元|块钱|美元|欧元|英镑|usd\b|rmb\b|dollars?\b|yuan\b)")
# Words that state a refund share without a figure.
_FULL = re.compile(
    r"全额退|退还全部|全部退还|full refund|refund in full|fully refund|100% refund|all of your money back"
)
_NONE = re.compile(
    r"不予退|不退费|不退款|不能退|无法退|no refund|non-refundable|not refundable|cannot be refunded"
)
_FOLD_DIGITS = re.compile(r"(?<=\d),(?=\d{3})")

_QUALIFIERS: dict[str, dict[str, tuple[str, ...]]] = {
    "who": {
        "adult": ("adult", "adults", "grown-up", "成人", "大人", "成年人"),
        "child": ("child", "children", "kid", "kids", "儿童", "孩子", "小朋友", "小孩", "童"),
        "senior": ("senior", "seniors", "长者", "老人", "老年"),
        "student": ("student", "students", "学生"),
    },
    "order": {
        "first": ("first", "第一个", "首个", "第一位"),
        "second": ("second", "additional", "第二个", "第二位", "二孩", "第二"),
    },
    "mode": {
        "online": ("online", "live-stream", "线上", "网课", "直播"),
        "offline": ("offline", "in person", "in-person", "线下", "到店", "面授"),
    },
}


@dataclass(frozen=True)
class Interval:
    measure: str
    low: Decimal
    high: Decimal | None  # None: no upper bound
    text: str

    def contains(self, value: Decimal) -> bool:
        return self.low <= value and (self.high is None or value <= self.high)


def _dec(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None


def _measure(word: str) -> str:
    return _MEASURE_WORDS.get(word.strip(), _MEASURE_WORDS.get(word.strip().rstrip("s"), ""))


def intervals(text: str) -> list[Interval]:
    """The conditions on a measure that ``text`` states: ranges, open bounds and single values."""
    folded = _MONTH_DAY.sub(lambda m: " " * len(m.group()), fold_str(text))
    found: list[Interval] = []
    taken: list[tuple[int, int]] = []

    def free(span: tuple[int, int]) -> bool:
        return all(span[1] <= a or span[0] >= b for a, b in taken)

    def add(
        span: tuple[int, int], measure: str, low: Decimal | None, high: Decimal | None, whole: str
    ) -> None:
        if measure and low is not None and free(span):
            found.append(Interval(measure, low, high, whole.strip()))
            taken.append(span)

    for m in _RANGE.finditer(folded):
        add(m.span(), _measure(m.group(3)), _dec(m.group(1)), _dec(m.group(2)), m.group())
    for m in _AT_LEAST_AFTER.finditer(folded):
        add(m.span(), _measure(m.group(2)), _dec(m.group(1)), None, m.group())
    for m in _AT_LEAST_BEFORE.finditer(folded):
        add(m.span(), _measure(m.group(2)), _dec(m.group(1)), None, m.group())
    for m in _AT_MOST_AFTER.finditer(folded):
        add(m.span(), _measure(m.group(2)), Decimal(0), _dec(m.group(1)), m.group())
    for m in _AT_MOST_BEFORE.finditer(folded):
        add(m.span(), _measure(m.group(2)), Decimal(0), _dec(m.group(1)), m.group())
    for m in _SINGLE.finditer(folded):
        value = _dec(m.group(1))
        add(m.span(), _measure(m.group(2)), value, value, m.group())
    return found


def results(text: str) -> set[str]:
    """The result figures of ``text``: percentages ("70%") and amounts of money ("$65" -> "$65")."""
    folded = _FOLD_DIGITS.sub("", fold_str(text))
    out = {f"{_canon(m.group(1))}%" for m in _PERCENT.finditer(folded)}
    if _FULL.search(folded):
        out.add("100%")
    if _NONE.search(folded):
        out.add("0%")
    for m in _MONEY.finditer(folded):
        out.add(f"${_canon(m.group(1) or m.group(2))}")
    return out


def _canon(number: str) -> str:
    value = _dec(number)
    if value is None:
        return number
    return format(value.normalize(), "f")


def qualifiers(text: str) -> dict[str, set[str]]:
    """The contrasting qualifiers ``text`` names, by group ("who": {"child"}, ...)."""
    folded = fold_str(text)
    words = set(re.findall(r"[a-z][a-z\-]*", folded))
    out: dict[str, set[str]] = {}
    for group, members in _QUALIFIERS.items():
        for member, forms in members.items():
            for form in forms:
                hit = (form in words) if form.isascii() and " " not in form else (form in folded)
                if hit:
                    out.setdefault(group, set()).add(member)
                    break
    return out


def rows_of(texts: list[str]) -> list[str]:
    """Evidence rows: the lines and sentences of passages and facts (a table row is a line)."""
    rows = []
    for text in texts:
        rows += [r.strip() for r in _SPLIT_ROWS.split(text) if r and r.strip()]
    return rows


def rows_for_case(case: str, rows: list[str]) -> list[str]:
    """The rows that give a result figure for the case ``case`` describes ("I cancel 20 days before
    departure": the 15-29 day row): each states a percentage or an amount, conditions it on a measure the
    case gives a single value of, and contains that value; a row naming a qualifier of a group the case
    names (adult, child, ...) must share it. Empty when the case gives no value or no row matches, so the
    caller falls back to the passages. What a customer's answer should quote, and what a wrong figure's
    fix points to."""
    values = [i for i in intervals(case) if i.low == i.high]
    if not values:
        return []
    quals = qualifiers(case)
    found = []
    for row in rows:
        if not results(row):
            continue
        conditions = [i for i in intervals(row) if any(i.measure == v.measure for v in values)]
        if not conditions or not all(
            any(i.contains(v.low) for i in conditions if i.measure == v.measure)
            for v in values
            if any(i.measure == v.measure for i in conditions)
        ):
            continue
        row_quals = qualifiers(row)
        if any(row_quals.get(group) and not (members & row_quals[group]) for group, members in quals.items()):
            continue
        found.append(row)
    found = list(dict.fromkeys(found))
    # Rows that give different figures for the case (a refund row and a processing-time row that both
    # contain "8 days"): the one that reads closest to the case, alone.
    if len({frozenset(results(row)) for row in found}) > 1:
        found = [max(found, key=lambda row: coverage(case, row))]
    return found


def case_rows(cases: list[str], texts: list[str]) -> list[str]:
    """:func:`rows_for_case` for each of ``cases`` (a customer's questions) over the rows of ``texts`` (the
    passages that answer them), in order, once each: what the copywriter quotes and the answer is held to."""
    rows = rows_of(texts)
    return list(dict.fromkeys(row for case in cases for row in rows_for_case(case, rows)))


def mentioned_products(text: str, products: dict[str, list[str]]) -> set[str]:
    """The products whose name, or a distinctive short form of it, ``text`` names."""
    folded = fold_str(text)
    aliases = product_aliases(list(products))
    return {name for name, forms in aliases.items() if any(form in folded for form in forms)}


def product_aliases(names: list[str]) -> dict[str, list[str]]:
    """Folded forms by which copy names each product: the name, the name without a parenthesis, what the
    parenthesis holds, the last two words and (a name of three words or more) all but the last (English) or
    the last three characters (Chinese), each run of three
    or more Chinese characters. A short form two products share names neither. Worked out once per set of
    names: every sentence of every check asks."""
    return {name: list(forms) for name, forms in _aliases(tuple(names)).items()}


@functools.lru_cache(maxsize=64)
def _aliases(names: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    forms: dict[str, list[str]] = {}
    for name in names:
        folded = fold_str(name)
        bare = re.sub(r"[（(][^）)]{0,40}[）)]", "", folded).strip()
        inner = re.findall(r"[（(]([^）)]{2,40})[）)]", folded)
        words = bare.split()
        candidates = [folded, bare, *inner]
        if len(words) >= 3:
            # "10-inch cast-iron skillet" (the name after its first word, the brand's as a rule), "cast-iron
            # skillet" (its last two), "10-inch skillet" (its second and last)
            candidates += [" ".join(words[1:]), " ".join(words[-2:])]
            # "Tide Club" for "Tide Club subscription": the name without its last word (a Tidewater e-mail
            # of stop 41 welcomed the reader "to Tide Club" and then gave Breakwater Blend's price)
            candidates.append(" ".join(words[:-1]))
        if len(words) >= 4:
            candidates.append(f"{words[1]} {words[-1]}")
        cjk = re.sub(r"[^\u4e00-\u9fff]", "", bare)
        if len(cjk) >= 4:
            candidates.append(cjk[-3:])
        # "新疆·喀纳斯秋季 8天" is written "喀纳斯秋季 8天": each Chinese part of three or more.
        candidates += re.findall(r"[\u4e00-\u9fff]{3,}", bare)
        forms[name] = [c for c in dict.fromkeys(candidates) if len(c) >= 3]
    counts = _form_counts(forms)
    return {name: tuple(f for f in found if counts[f] == 1) for name, found in forms.items()}


def _form_counts(forms: dict[str, list[str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for found in forms.values():
        for form in found:
            counts[form] = counts.get(form, 0) + 1
    return counts


@functools.lru_cache(maxsize=64)
def product_families(names: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """Short forms several products share, each with the products it names: "cast-iron skillet" for the
    10-inch and 12-inch skillets. Copy that says "our cast-iron skillets" speaks of that family (not of
    every product, and not of one). A form every product shares names no family."""
    families: dict[str, set[str]] = {}
    for name in names:
        words = fold_str(name).split()
        if len(words) >= 3:
            families.setdefault(" ".join(words[-2:]), set()).add(name)
    return {
        form: frozenset(members)
        for form, members in families.items()
        if 1 < len(members) < len(names) and len(form) >= 5
    }


def condition_conflicts(
    claim: str,
    rows: list[str],
    products: dict[str, list[str]] | None = None,
) -> list[str]:
    """Why ``claim`` binds a stated figure to the wrong condition, qualifier or product (empty: it does
    not, as far as the rows tell). ``rows`` come from :func:`rows_of`; ``products`` maps each product's
    name to its facts."""
    problems: list[str] = []
    claim_results = results(claim)
    claim_intervals = [i for i in intervals(claim) if i.low == i.high]
    claim_quals = qualifiers(claim)
    for figure in sorted(claim_results):
        stating = [row for row in rows if figure in results(row)]
        if not stating:
            continue
        for value in claim_intervals:
            conditioned = [[i for i in intervals(row) if i.measure == value.measure] for row in stating]
            if not any(conditioned) or any(i.contains(value.low) for found in conditioned for i in found):
                continue
            # A row that states the figure without this condition, and reads closer to the claim than the
            # conditioned rows, may be the one the claim means (a force-majeure refund has no day ladder).
            pairs = list(zip(stating, conditioned, strict=True))
            free = [coverage(claim, row) for row, found in pairs if not found]
            tied = [coverage(claim, row) for row, found in pairs if found]
            if not free or max(free) < max(tied):
                ranges = "; ".join(dict.fromkeys(i.text for found in conditioned for i in found))
                problems.append(
                    f"{_show(figure)} is what the documents give for {ranges}, not for {value.text}"
                )
        for group, members in claim_quals.items():
            row_quals = [qualifiers(row).get(group, set()) for row in stating]
            if all(row_quals) and not any(members & found for found in row_quals):
                named = ", ".join(sorted({m for found in row_quals for m in found}))
                asked = ", ".join(sorted(members))
                problems.append(f"{_show(figure)} is what the documents give for {named}, not for {asked}")
    problems += part_conflicts(claim, rows)
    problems += clause_conflicts(claim, rows)
    problems += unit_conflicts(claim, rows)
    if products:
        problems += product_conflicts(claim, rows, products)
    return list(dict.fromkeys(problems))


# A figure's unit word in the documents: "24 课时" (class periods), "45 分钟", "12 weeks".
_AFTER_FIGURE = re.compile(rf"(?<![\d.,]){_NUM}[\s-]?(?:个\s?)?([\u4e00-\u9fff]{{1,2}}|[a-z]{{2,12}})")


def unit_conflicts(claim: str, rows: list[str]) -> list[str]:
    """A figure of ``claim`` given in a measure (hours, days, weeks, ages) that the rows never give it in,
    where they give the same number in another unit: "每期课程的时长为 24 小时" against "每期 24 课时" (a
    Qingyu e-mail of stop 40, seed 7: 24 class periods of 45 minutes became 24 hours). A number the rows
    also give in the claim's own measure is no conflict."""
    problems = []
    stated = [i for row in rows for i in intervals(row)]
    for value in (i for i in intervals(claim) if i.low == i.high):
        if any(i.measure == value.measure and i.contains(value.low) for i in stated):
            continue
        number = format(value.low.normalize(), "f")
        others = {
            f"{m.group(1)} {m.group(2)}"
            for row in rows
            for m in _AFTER_FIGURE.finditer(_FOLD_DIGITS.sub("", fold_str(row)))
            if _dec(m.group(1)) == value.low and _measure(m.group(2)) != value.measure
        }
        if others:
            problems.append(
                f"{value.text}: the documents give {number} as {', '.join(sorted(others))}, "
                "never in that unit"
            )
    return problems


_DURATIONS = frozenset(("day", "week", "month", "year", "hour"))
# Where a claim's sentence turns to another thing: "10 years on the enamel and body, and 1 year on the knob".
_CLAUSE_BREAK = re.compile(r"[,;:()，；：（）]|\b(?:and|but|while|plus|whereas)\b")
_LABEL_WORD = re.compile(r"[a-z][a-z\-]{2,}")


def _label_words(text: str) -> set[str]:
    """The English words of a table row's label, plurals folded ("Factory-second skillets" -> {"factory-
    second", "skillet"})."""
    return {w[:-1] if w.endswith("s") and len(w) > 4 else w for w in _LABEL_WORD.findall(fold_str(text))}


_LIFETIME = "lifetime"
_LIFETIME_WORD = re.compile(r"\blifetime\b|终身")


def _term(value: Interval) -> str:
    return f"{value.low}{value.measure}"


def part_conflicts(claim: str, rows: list[str]) -> list[str]:
    """Why ``claim`` gives a term (a duration: "10-year", "1 year") to a thing that a table row gives
    another term: "10-Year Warranty on the Knob" where the warranty table has "| Dutch oven enamel and
    body | 10 years |" and "| Dutch oven knob | 1 year |" (a Hearthline ad of 2026-12-05). Read clause by
    clause, against table rows (English labels) only: a clause is flagged when it names a word of the
    labels given other terms and none of the labels given its own (a clause naming both is left alone)."""
    table = []
    for row in rows:
        cells = [c.strip() for c in row.strip().strip("|").split("|")] if row.lstrip().startswith("|") else []
        if len(cells) >= 2:
            terms = {_term(i) for c in cells[1:] for i in intervals(c) if i.measure in _DURATIONS}
            terms |= {_LIFETIME for c in cells[1:] if _LIFETIME_WORD.search(fold_str(c))}
            if terms:
                table.append((cells[0], terms))
    if len(table) < 2:
        return []
    problems = []
    for clause in _CLAUSE_BREAK.split(fold_str(claim)):
        said = _label_words(clause)
        values = [_term(i) for i in intervals(clause) if i.measure in _DURATIONS and i.high == i.low]
        # "the lifetime warranty on the knob" (a Hearthline blog of stop 41, seed 7: the table gives the
        # knob 1 year): a lifetime is a term too, of the rows that say "lifetime".
        values += [_LIFETIME] if _LIFETIME_WORD.search(clause) else []
        for figure in values:
            own = [label for label, terms in table if figure in terms]
            other = [label for label, terms in table if figure not in terms]
            if not own or not other:
                continue
            own_words = set().union(*(_label_words(label) for label in own))
            other_words = set().union(*(_label_words(label) for label in other)) - own_words
            wrong = sorted(said & other_words)
            if wrong and not said & (own_words - other_words):
                labels = "; ".join(label for label in other if _label_words(label) & set(wrong))
                problems.append(
                    f"{_show(figure)} is the term the documents give {'; '.join(own)}, not {labels}"
                )
    return problems


_TIMED = re.compile(r"(\d+(?:\.\d+)?)[\s-]?(minute|min|hour|hr|day|week|month|year)s?\b")
_TIME_UNIT = {"min": "minute", "hr": "hour"}
_CONDITION_WORD = re.compile(r"[a-z][a-z\-]{3,}")
_NOT_CONDITION = frozenset(
    (  # noqa: SIM905 - a word list reads better as one string
        "after before every least most within than that this with your each once then from when "
        "minute hour days week month year up to"
    ).split()
)


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 4 else word


@dataclass(frozen=True)
class _Timed:
    """A clause that states one time term: the term ("40 minute"), the words of the whole clause, and its
    condition (the words after the term: "reapply after 40 minutes of swimming or sweating" -> swimming,
    sweating). Words are stemmed, without the time words themselves."""

    term: str
    words: frozenset[str]
    condition: frozenset[str]


def _timed_clauses(text: str) -> list[_Timed]:
    """The clauses of ``text`` that state one time term each. English only."""
    out = []
    for clause in _CLAUSE_BREAK.split(fold_str(text)):
        found = list(_TIMED.finditer(clause))
        if len(found) == 1:
            m = found[0]
            term = f"{m.group(1)} {_TIME_UNIT.get(m.group(2), m.group(2))}"
            out.append(_Timed(term, _condition_words(clause), _condition_words(clause[m.end() :])))
    return out


def _condition_words(part: str) -> frozenset[str]:
    stems = (_stem(w) for w in _CONDITION_WORD.findall(part))
    return frozenset(w for w in stems if w not in _NOT_CONDITION)


def _plural(term: str) -> str:
    return term if term.startswith("1 ") else f"{term}s"


def clause_conflicts(claim: str, rows: list[str]) -> list[str]:
    """Why ``claim`` binds a time term to the condition a document's sentence gives another term: "reapply
    every 2 hours after swimming or sweating" where the directions say "Reapply after 40 minutes of
    swimming or sweating, … and at least every 2 hours" (a Clearleaf reply of 2026-12-05, seed 7: "wrong
    for a 40-minute water-resistant sunscreen, a health and safety problem", the blind reviewer wrote).
    Only a document sentence with two time terms or more tells. A claim clause is left alone when it also
    gives the other term, or says any word of its own term's clause ("up to 2 hours before for a 50%
    refund": the claim that says "refund" with its 2 hours keeps to its clause however it shortens it)."""
    said = _timed_clauses(claim)
    terms_said = {c.term for c in said}
    problems = []
    for row in rows:
        timed = _timed_clauses(row)
        if len({c.term for c in timed}) < 2:
            continue
        for clause in said:
            own = [c for c in timed if c.term == clause.term]
            if not own or any(clause.words & c.words for c in own):
                continue
            for other in timed:
                # The claim's condition may come before its term too: "reapply after swimming for at
                # least 2 hours" (a Clearleaf reply of stop 41, seed 7).
                wrong = sorted(clause.words & other.condition)
                if other.term != clause.term and other.term not in terms_said and wrong:
                    problems.append(
                        f"{_plural(clause.term)} is not what the documents give for {' or '.join(wrong)}: "
                        f"they give {_plural(other.term)}"
                    )
    return list(dict.fromkeys(problems))


def product_conflicts(
    claim: str, rows: list[str], products: dict[str, list[str]], about: str | None = None
) -> list[str]:
    """Why ``claim``, naming exactly one product (or none, and ``about`` one: the product its paragraph
    speaks of, from :func:`sentence_subjects`), gives it a figure stated only for other products."""
    named = mentioned_products(claim, products)
    carried = not named and about is not None and about in products
    if carried:
        named = {str(about)}
    label = ""
    if not named:  # "our cast-iron skillets": a family of products, when the claim names exactly one
        folded = fold_str(claim)
        families = {m: form for form, m in product_families(tuple(products)).items() if form in folded}
        if len(families) == 1:
            ((family, form),) = families.items()
            named, label = set(family), f"the {form} family"
    if not named and not label and _BRAND_WIDE.search(fold_str(claim)):
        return _brand_wide_conflicts(claim, rows, products)
    if len(named) != 1 and not label:
        return []
    product = label or next(iter(named))
    own = " ".join(x for name in named for x in [name, *products[name]])
    own_figures = _figures(own)
    problems = []
    sheet_ages = any(i.measure == "age" for i in intervals(own))
    for figure in sorted(_figures(claim, single=True)):
        if figure in own_figures or (sheet_ages and figure.endswith("age")):
            continue  # an age is read against the sheet's age ranges (_age_conflicts)
        others = [
            name
            for name, facts in products.items()
            if name not in named and figure in _figures(" ".join(facts))
        ]
        # A passage row may state it for this product (rows naming another product do not count).
        elsewhere = [
            row
            for row in rows
            if figure in _figures(row)
            and not (mentioned_products(row, products) - named)
            and row not in set(rows_of([f for name in others for f in products[name]]))
        ]
        if others and not elsewhere:
            problems.append(
                f"{_show(figure)} is stated for {' / '.join(others)}, not for {product}{_CARRIED * carried}"
            )
    if not label:
        problems += _age_conflicts(claim, rows, products, product, carried)
    return problems


# A sentence about the brand's products as a whole: "our coffee is grown up to 2,200 m", "我们的线路…".
# So is one about the brand itself: "Hearthline is a trusted brand that offers cast-iron cookware with a
# 10-year warranty" (a post of stop 46: the Dutch oven enamel's term, given to all its cookware).
_BRAND_WIDE = re.compile(
    r"\bour\s(?!own\b|team\b|teams\b|staff\b|customers?\b|website\b|site\b|store\b|shop\b)[a-z]"
    r"|\b(?:brand|company|maker)\s(?:that|which|who)\s(?:offers|makes|sells|provides)\b"
    r"|\bwe\s(?:offer|make|sell|provide)\b|我们的|我们(?:所有|全部)"
)


def _brand_wide_conflicts(claim: str, rows: list[str], products: dict[str, list[str]]) -> list[str]:
    """Why ``claim``, speaking of the brand's products as a whole and naming none, gives them all a figure
    only one product's sheet states ("Our coffee is grown up to 2,200 m": Harbor Light's altitude, a
    Tidewater ad of 2026-12-05). A figure a row states without naming a product (a brand fact, a policy)
    is the brand's."""
    if len(products) < 2:
        return []
    problems = []
    for figure in sorted(_figures(claim, single=True)):
        owners = [name for name, facts in products.items() if figure in _figures(" ".join(facts))]
        own_rows = set(rows_of([f for name in owners for f in products[name]]))
        brand_rows = [
            row
            for row in rows
            if figure in _figures(row) and row not in own_rows and not mentioned_products(row, products)
        ]
        if len(owners) == 1 and not brand_rows:
            problems.append(
                f"{_show(figure)} is stated for {owners[0]} only, not for the brand's products as a whole "
                "(the sentence names no product)"
            )
    return problems


def _age_conflicts(
    claim: str, rows: list[str], products: dict[str, list[str]], product: str, carried: bool
) -> list[str]:
    """Ages ``claim`` gives ``product`` outside every age range its own sheet states ("青屿少儿编程为6-14岁
    的孩子开设图形化编程启蒙班": the school's ages, where the class is for 6–8), unless a row that names
    this product alone states them. A brand-wide row ("为 6 至 14 岁的孩子开设小班编程课") states nothing
    for one product whose sheet narrows it."""
    own = [i for i in intervals(" ".join([product, *products[product]])) if i.measure == "age"]
    if not own:
        return []
    own_rows = [row for row in rows if mentioned_products(row, products) == {product}]
    problems = []
    for value in intervals(claim):
        if value.measure != "age" or any(_within(value, i) for i in own):
            continue
        if any(_within(value, i) for row in own_rows for i in intervals(row) if i.measure == "age"):
            continue
        ranges = "; ".join(dict.fromkeys(i.text for i in own))
        problems.append(
            f"ages {value.text} are not what the documents give for {product} ({ranges}){_CARRIED * carried}"
        )
    return problems


def _within(inner: Interval, outer: Interval) -> bool:
    """Whether ``inner`` lies in ``outer``: every value of a range; the bound of an open one ("10 岁以上"
    for a 10–14 class says who may start, not that a 15-year-old fits)."""
    if inner.high is None:
        return outer.contains(inner.low)
    return outer.contains(inner.low) and outer.contains(inner.high)


_CARRIED = " (the sentence names no product; the ones before it speak of this one)"
# "另一条线路", "其他路线", "another tour", "the other trips": the paragraph turns from its product.
_OTHER_PRODUCT = re.compile(r"另一|其他|其它|别的|\banother\b|\bother\b")


def sentence_subjects(
    text: str, products: dict[str, list[str]], topic: str | None = None
) -> list[tuple[int, int, str | None]]:
    """Each sentence span of ``text`` with the one product it is about, or ``None``.

    A sentence that names one product is about it. A sentence that names none is about the product the
    sentences before it in its paragraph spoke of (the heading's, in a section under a Markdown heading
    that names one product). A sentence that names two products, speaks of every product ("每条线路",
    "our tours") or turns to another ("另一条线路", "the other tours") is about none, and so are those that
    follow it in its paragraph until one names a product again. In a text that names one product and
    no other, that product is the subject of every paragraph after the one that first names it (what
    comes before, such as the positioning line, speaks of the brand): a Hearthline e-mail of stop 43 about
    the 10-inch skillet gave it "a limited lifetime warranty on the enamel and body, as well as a one-year
    limited warranty on the knob" (the Dutch oven's) in a paragraph of its own.

    ``topic``: the one product the whole piece names when ``text`` is one of its fields (a search ad's
    description beside headlines naming the 土楼 route); it is the subject from the start, as if the text
    had named it first. A Wanderly ad of stop 52 (seed 10) gave that route "当地藏族向导" (the Yubeng
    trek's) in a description that named no route."""
    subjects: list[tuple[int, int, str | None]] = []
    only = mentioned_products(text, products)
    default: str | None = topic if topic in products else None  # the one product, once the text names it
    heading: str | None = default
    current: str | None = default
    previous_end = 0
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        is_heading = sentence.lstrip().startswith("#")
        if "\n" in text[previous_end:start]:
            current = heading or default  # a new paragraph: back to its section's product
        previous_end = end
        named = mentioned_products(sentence, products)
        folded = fold_str(sentence)
        if len(only) == 1 and named == only and default is None:
            default = next(iter(only))
            heading = heading or default
        if len(named) == 1:
            subject: str | None = next(iter(named))
        elif named or _EVERY_PRODUCT.search(folded) or _OTHER_PRODUCT.search(folded):
            subject = None
        else:
            subject = None if is_heading else current
        if is_heading:
            heading = subject or default
        current = subject
        subjects.append((start, end, subject))
    return subjects


def subject_at(subjects: list[tuple[int, int, str | None]], position: int) -> str | None:
    """The product of the sentence of :func:`sentence_subjects` that holds ``position``."""
    return next((name for start, end, name in subjects if start <= position < end), None)


# "每条线路都……", "这些行程包含了……", "我们的行程……", "every tour we run", "our tours": a sentence about
# all the brand's products at once (when it names none of them).
_EVERY_PRODUCT = re.compile(
    r"(?:每一?|所有的?|全部的?|各|这些|这几)(?:条|个|款|门|期)?(?:线路|路线|行程|产品|课程)"
    r"|我们的(?:线路|路线|行程|产品|课程)"
    r"|\b(?:every|each|all)\s(?:of\s)?(?:our\s|the\s)?(?:routes?|tours?|trips?|products?|courses?|classes?|"
    r"items?|plans?)\b"
    r"|\bour\s(?:routes|tours|trips|products|courses|classes)\b"
)
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_WORD = re.compile(r"[a-z0-9]+")
MIN_FEATURE_CHARS = 4
"""A Chinese phrase shorter than this is too common to belong to one product."""
MIN_FEATURE_UNITS = 2
"""Content units (character pairs, words) of a phrase that the product's own sheet must lack: "领队带队"
shares all but one pair with a sheet that says "领队……共同带队", and is no other product's feature."""


def feature_conflicts(
    sentence: str,
    products: dict[str, list[str]],
    rows: list[str] = (),  # type: ignore[assignment]
    general: list[str] = (),  # type: ignore[assignment]
    about: str | None = None,
) -> list[str]:
    """Why ``sentence`` gives a product (the one it names, every product when it speaks of all of them, or
    ``about`` when it names none: the product its paragraph speaks of, from :func:`sentence_subjects`) a
    phrase that only other products' sheets have (empty: it does not).

    ``products`` maps each name to its description and facts (the sheet). A phrase counts when it is at
    least :data:`MIN_FEATURE_CHARS` Chinese characters or two words, appears in fewer than half of the
    sheets, and has :data:`MIN_FEATURE_UNITS` content units that neither the product's sheet nor
    ``general`` (what the brand says of itself as a whole) has. A passage row in ``rows`` that names the
    product and contains the phrase states it for that product, and the sentence is fine."""
    if len(products) < 2:
        return []
    named = mentioned_products(sentence, products)
    universal = not named and bool(_EVERY_PRODUCT.search(fold_str(sentence)))
    carried = not named and not universal and about is not None and about in products
    if carried:
        named = {str(about)}
    targets = sorted(products) if universal else sorted(named) if len(named) == 1 else []
    if not targets:
        return []
    sheets = {name: fold_str(" ".join([name, *facts])) for name, facts in products.items()}
    shared_units = content_units(" ".join(general))
    names = [fold_str(name) for name in products]
    problems = []
    for target in targets:
        own_units = content_units(sheets[target]) | shared_units
        phrases = _sheet_phrases(sentence, {n: s for n, s in sheets.items() if n != target})
        if not phrases:
            continue  # most sentences: no need to read the rows
        own_rows = [fold_str(r) for r in rows if mentioned_products(r, products) == {target}]
        for phrase in phrases:
            owners = [name for name, sheet in sheets.items() if holds_phrase(sheet, phrase)]
            if (
                not owners
                or target in owners
                or any(holds_phrase(name, phrase) for name in names)  # a product named, not a feature
                or len(owners) * 2 >= len(sheets)
                or len(content_units(phrase) - own_units) < MIN_FEATURE_UNITS
                or any(holds_phrase(row, phrase) for row in own_rows)
            ):
                continue
            where = " / ".join(owners)
            problems.append(
                f"'{phrase}' is in the product sheet of {where}, not of every product"
                if universal
                else f"'{phrase}' is in the product sheet of {where}, not of {target}{_CARRIED * carried}"
            )
    return list(dict.fromkeys(problems))


def holds_phrase(text: str, phrase: str) -> bool:
    """Whether folded ``text`` contains ``phrase``: as characters (Chinese) or as whole words, both read
    as their words alone ("cast-iron" is "cast iron")."""
    if _CJK_RUN.fullmatch(phrase):
        return phrase in text
    return f" {' '.join(_WORD.findall(phrase))} " in f" {' '.join(_WORD.findall(text))} "


def _sheet_phrases(sentence: str, sheets: dict[str, str]) -> list[str]:
    """The longest runs of ``sentence`` (Chinese characters, or whole words) that some sheet contains."""
    folded = fold_str(sentence)
    found = []
    for run in _CJK_RUN.findall(folded):
        i = 0
        while i + MIN_FEATURE_CHARS <= len(run):
            j = i + MIN_FEATURE_CHARS
            if not any(run[i:j] in s for s in sheets.values()):
                i += 1
                continue
            while j < len(run) and any(run[i : j + 1] in s for s in sheets.values()):
                j += 1
            found.append(run[i:j])
            i = j
    words = _WORD.findall(folded)
    texts = {n: f" {' '.join(_WORD.findall(s))} " for n, s in sheets.items()}
    i = 0
    while i + 1 < len(words):
        j = i + 2
        if not any(f" {' '.join(words[i:j])} " in t for t in texts.values()):
            i += 1
            continue
        while j < len(words) and any(f" {' '.join(words[i : j + 1])} " in t for t in texts.values()):
            j += 1
        found.append(" ".join(words[i:j]))
        i = j
    return found


# Quantities that tell one product from another (group size, altitude, distance, nights, weight,
# capacity), folded unit -> canonical unit. Only product binding reads them: they condition no row.
_QUANTITY_UNITS = {
    "人": "people", "位": "people", "名": "people", "people": "people", "guests": "people", "guest": "people",
    "米": "m", "m": "m", "公里": "km", "千米": "km", "km": "km", "miles": "mile", "mile": "mile",
    "晚": "night", "nights": "night", "night": "night", "克": "g", "g": "g", "公斤": "kg", "kg": "kg",
    "oz": "oz", "qt": "qt", "lb": "lb", "lbs": "lb", "inch": "inch", "inches": "inch", "cups": "cup",
    "cup": "cup",
}  # fmt: skip
_QUANTITY = re.compile(
    rf"{_NUM}\s?(人|位|名|米|公里|千米|晚|克|公斤|"
    r"(?:people|guests?|m|km|miles?|nights?|g|kg|oz|qt|lbs?|inch(?:es)?|cups?)\b)"
)


def _figures(text: str, *, single: bool = False) -> set[str]:
    """Result figures, measured values and quantities of ``text`` ("$129", "2year", "10people",
    "3700m"); ``single``: no ranges."""
    measured = {f"{i.low}{i.measure}" for i in intervals(text) if not single or i.low == i.high}
    folded = _FOLD_DIGITS.sub("", fold_str(text))
    quantities = {f"{_canon(m.group(1))}{_QUANTITY_UNITS[m.group(2)]}" for m in _QUANTITY.finditer(folded)}
    return results(text) | measured | quantities


def _show(figure: str) -> str:
    if figure.startswith("$"):
        return f"the amount {figure[1:]}"
    for measure in ("day", "week", "month", "year", "hour", "age"):
        if figure.endswith(measure) and figure[: -len(measure)].replace(".", "").isdigit():
            return f"{figure[: -len(measure)]} {measure}(s)"
    for unit in sorted(set(_QUANTITY_UNITS.values()), key=len, reverse=True):
        if figure.endswith(unit) and figure[: -len(unit)].replace(".", "").isdigit():
            return f"{figure[: -len(unit)]} {unit}"
    return figure
