"""The story a channel with ``features: story`` retells (the blog): one part of the brand's documents.

Contract: :func:`story_passages` picks the passages (the document that best matches the brief's angle for
the channel, among those a customer may read, in document order, up to a budget of prose); the pipeline's
spotlight step (:class:`agents.retriever.Spotlight`) adds them to the campaign's passages, so they are
evidence for every check, and the copywriter gives the model their prose (:func:`story_source`,
:func:`story_text`: no list items, timeline rows, headings, labelled values or pointers to other
documents). Deterministic: both agents that ask get the same passages for the same brief.
"""

from __future__ import annotations

import re

from agents.channels import ChannelSpec
from agents.retriever import answers_customers, quarantine_reason
from agents.state import CampaignState
from knowledge.chunking import Passage, keep_sentences
from knowledge.index import FaissKnowledgeIndex

# A story's source, in characters: about what the 1.5B model retells into a blog of 1.3x its 300-word
# minimum (it keeps most of what it is given: 1,205 characters of Tidewater's history became 226 words).
# At 2,100 English characters, stop 50's Clearleaf and Tidewater story blogs ended at 253 and 291 words; at
# 2,500, stop 51's Hearthline blog at 292 (the budget counts each passage's prose before lines are dropped).
STORY_CHARS = {"en": 3000, "zh": 900}
_QUESTIONS_DOC = re.compile(r"faq|q&a|questions", re.IGNORECASE)


# A line of a document that is no sentence of prose: a list item or a timeline's row ("- ", "1. ",
# "2012 - ", "2015 年：", "一、"), a labelled value ("客服热线：400-…", "Website: …"), a line that opens on an
# address, a heading (short, no closing mark). Given its lines, the 1.5B model pasted Hearthline's timeline
# and headings into the blog (stop 44's first story run).
_LIST_LINE = re.compile(
    r"^\s*(?:[-*•·>|]|\d{1,2}[.)、]|\d{4}\s*(?:年\s*)?[-–—:：]|[一二三四五六七八九十]+、"
    r"|(?:[^\s,.，。:：]+ ){0,2}[^\s,.，。:：]{1,16}[:：]"
    # a contact line under its heading: "care@clearleaf.example, Monday to Friday, 8 am to 5 pm…" (a
    # paragraph of its own in a Clearleaf story blog of stop 50)
    r"|[\w.+-]+@[\w-]+\.[\w.-]+|(?:https?://|www\.))"
)
_SENTENCE_END = re.compile(r"[.!?。！？…”\"」』）)]$")
# A Chinese timeline row that is a sentence ("2015 年：创始人林澄……创立 Wanderly。"): told as one, its
# year an adverbial ("2015 年，创始人林澄……"). Without them Wanderly's company profile had 560 characters
# of prose, and every story blog of stop 48/49 ended under its 450 (the founding was in the rows). An
# English row ("2013 - Founded in Astoria with a 5 kg roaster.") has no subject to stand as a sentence.
_CN_TIMELINE_ROW = re.compile(r"^(\d{4}\s*年)\s*[:：]\s*(?=\S)")
_CJK_END = re.compile(r"[\u3000-\u9fff\uff00-\uffef]$")
# An English timeline row ("2009 - Granddaughter Nora Brask relaunches the skillets under the Hearthline
# name and starts selling online."): told as a sentence when it can stand as one (:func:`_row_sentence`).
# Without them Hearthline's story never said that the Brask foundry became Hearthline, and both blind
# reviewers of stop 54 read its history as another company's.
_EN_TIMELINE_ROW = re.compile(r"^(\d{4})\s?[-–—:]\s?(?=[A-Z])")
# A row that opens on what was done, without a subject ("Launched the Tide Club subscription."): "we" did
# it, as the documents say of the brand; "Launch of the X" is "we launched the X".
_DONE_FIRST = re.compile(r"^(?:[A-Z][a-z]+ed|Began|Won|Took|Grew|Became|Built|Bought|Made|Moved|Set|Sold)\b")
_LAUNCH_OF = re.compile(r"^(Launch|Opening|Introduction) of\b")
_LAUNCH_DONE = {"Launch": "launched", "Opening": "opened", "Introduction": "introduced"}
# A row with a subject and a verb in the present or the past: a word ending in -s or -ed after its first
# word ("Granddaughter Nora Brask relaunches", "Hearthline reaches", "Industrial orders decline"), or a
# plural subject's plain verb after "and" ("Walter and June Brask open"). "First …" and "Company …" rows
# are headlines ("First Hearth Kitchen cooking classes at the foundry store."), not sentences.
_SUBJECT_VERB = re.compile(
    r"^(?!First\b|Company\b)[A-Z][\w'-]*(?: [\w'.-]+){0,5}? "
    r"(?:[a-z]{3,}(?:s|ed)|open|begin|start|move|join)\b"
)


_FOUNDED = re.compile(r"^(?:Founded|Established|Incorporated|Registered)\b(?= (?:in|on|at|as|by)\b)")


def _row_sentence(year: str, rest: str, text: str) -> str | None:
    """An English timeline row's text as a sentence of its year, or None where it cannot stand as one.
    Its first word keeps its capital where ``text`` (the whole passage) writes it so mid-sentence (a
    name: "Hearthline reaches 210 employees."), and loses it otherwise ("industrial orders decline")."""
    launch = _LAUNCH_OF.match(rest)
    if launch:
        return f"In {year} we {_LAUNCH_DONE[launch.group(1)]}{rest[launch.end() :]}"
    if _FOUNDED.match(rest):
        return f"In {year} we were {rest[0].lower()}{rest[1:]}"
    if _DONE_FIRST.match(rest):
        return f"In {year} we {rest[0].lower()}{rest[1:]}"
    if _SUBJECT_VERB.match(rest):
        first = rest.split(" ", 1)[0]
        named = re.search(rf"[a-z,;] {re.escape(first)}\b", text) is not None
        common = first in {"The", "A", "An", "Our", "Its", "Their"}
        common = common or (re.match(r"[A-Z][a-z'-]* [a-z]", rest) is not None and not named)
        return f"In {year}, {rest[0].lower() + rest[1:] if common else rest}"
    return None


# A sentence that points to another document or another part of one ("详见《暑期编程日营》。", "简要信息：
# 7–12 岁……", "(see the warranty terms)", "Percentages below are by weight …" over a table left out): in
# the brand's documents a cross-reference, in a blog a loose end (stop 44's Qingyu and Clearleaf stories).
_REFERENCE = re.compile(
    r"详见|参见|规则见|见《|简要信息|\((?:see|details in|as in) [^()]{1,60}\)|\bsee (?:the|our) [^.]{0,40}"
    r"\b(?:terms|page|section|faq|sheet|policy|table)\b"
    r"|\b(?:listed|shown|panel|table|percentages|figures|details) (?:below|above)\b|\bthe following\b"
    r"|下表|如下|见下|以下(?:是|为|列出)",
    re.IGNORECASE,
)
# A sentence about the brand's own marketing, written for its writers inside a customer document: "All
# marketing claims for this product must match the Drug Facts panel below.", "Every ad, email, and product
# page is reviewed by our in-house regulatory lead" (Clearleaf's, retold into a story blog of stop 44, one
# of them read as an instruction to a reviewer by the classifier).
_ABOUT_MARKETING = re.compile(
    r"\b(?:marketing claims?|claim language|every ad|ad copy|our copy|copy that|before publication"
    r"|all (?:marketing )?claims)\b|文案|广告语|宣传用语|对外宣传",
    re.IGNORECASE,
)
# A sentence that opens by pointing back at the one before: "它们针对的是课程服务本身……" after "以下是我们对
# 每一期学期班的服务承诺。", which goes as a pointer (stop 45's Qingyu story blog kept the orphan).
# ("Open Wednesday to Sunday, …" after a street address that went: the store's hours, no subject.)
_POINTS_BACK = re.compile(r"\s*(?:它们|它|这些|上述|以上|They\b|These\b|Those\b|It\b|Both\b|Such\b|Open\b)")
# A sentence that is a street address and nothing else: "400 Canal Street, Hamilton, Ohio." under a
# "Foundry store" heading, a paragraph of its own in stop 50's Hearthline story blog (both blind reviewers
# rejected the blog). Bounded repeats only: no backtracking on a long line.
_ADDRESS_ONLY = re.compile(
    r"\s*\d{1,5}[A-Za-z]? (?:[A-Z][\w'-]{0,30} ){1,4}"
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Place|Pl|Square|Sq|Quay|Pier|Highway)"
    r"\.?(?:, [A-Z][\w' -]{0,30}){0,4}\.?\s*$"
)
# A sentence on the terms of a shop rather than the brand's story: "All prices are in US dollars.",
# "Shipping is free on orders of $75.00 or more …" (the opening of Hearthline's catalogue, retold into a
# story blog of stop 54 that both blind reviewers rejected as a fact dump: "a price convention with no
# price after it").
_STORE_TERMS = re.compile(
    r"\ball prices\b|\bprices (?:are|include|shown)\b|\bshipping is\b|\bships? (?:free|for a flat)\b"
    r"|\bfree shipping\b|价格均|所有价格|包邮|运费",
    re.IGNORECASE,
)
# A label and its value: "Warranty: limited lifetime." (a Hearthline story blog of stop 54, read as a
# form field). A colon before a sentence is no label: "我们的做法很简单：班要小，……", "创始人许然说：……".
_LABEL = re.compile(r"\s*(?:[^\s,.，。:：]+ ){0,2}[^\s,.，。:：]{1,16}[:：]\s*")
_VALUE_MAX = 30


def _labelled_value(sentence: str) -> bool:
    label = _LABEL.match(sentence)
    if label is None or label.group().rstrip(" :：").endswith(("说", "says", "said")):
        return False
    value = sentence[label.end() :].strip()
    return len(value) <= _VALUE_MAX and not re.search(r"[,，;；、]", value)


_SEE_ALSO = re.compile(
    r"[ \t]*[(（](?:see|details in|详见|参见|规则见|见)[^()（）]{1,60}[)）]", re.IGNORECASE
)


def story_text(text: str) -> str:
    """The prose of a passage a story retells: its lines that are sentences, not list items, table rows
    ("| Skillet | Top diameter | … | Price |", which a Hearthline story blog of stop 52 carried), timeline
    rows (one that is a sentence is told as one: :data:`_CN_TIMELINE_ROW`, :func:`_row_sentence`),
    headings (a line of under 60 characters without a closing mark) or a line that introduces what
    follows ("Refunds depend on how many days before the class date you cancel:", its table left out),
    and without the sentences that
    point to another document, speak of the brand's own marketing, give a street address alone, are a
    labelled value or state a shop's terms (:data:`_STORE_TERMS`)."""
    lines: list[str] = []
    row_before = ""  # the kind of timeline row kept last ("zh", "en"): the next of its kind runs on with it
    # years the prose around the rows already tells ("In 1962 Walter and June Brask opened …"): their
    # rows would say it twice
    told_years = set(
        re.findall(
            r"\b\d{4}\b", "\n".join(ln for ln in text.splitlines() if not _EN_TIMELINE_ROW.match(ln.strip()))
        )
    )
    for line in text.splitlines():
        line = line.strip()
        row = bool(_SENTENCE_END.search(line) and _CN_TIMELINE_ROW.match(line))
        if row:
            line = _CN_TIMELINE_ROW.sub(r"\1，", line)
        english = _EN_TIMELINE_ROW.match(line) if _SENTENCE_END.search(line) else None
        if english:
            year = english.group(1)
            told = None if year in told_years else _row_sentence(year, line[english.end() :], text)
            row = told is not None
            line = told or line
        if not line or _LIST_LINE.match(line) or line.count("|") >= 2:  # a list item or a table row
            continue
        if line.endswith((":", "：")) or (not _SENTENCE_END.search(line) and len(line) < 60):
            continue
        kind = ("en" if english else "zh") if row else ""
        if kind and kind == row_before:  # one paragraph of the years, not a line each (stop 49's seed-8 blog)
            lines[-1] += (" " if english else "") + line
        else:
            lines.append(line)
        row_before = kind
    # a parenthetical pointer goes, and a sentence that is one, and the sentence after a dropped one that
    # points back at it
    prose = _SEE_ALSO.sub("", "\n".join(lines))
    dropped = False

    def keep(sentence: str) -> bool:
        nonlocal dropped
        points_back = dropped and _POINTS_BACK.match(sentence) is not None
        dropped = bool(
            _REFERENCE.search(sentence)
            or _labelled_value(sentence)
            or _STORE_TERMS.search(sentence)
            or _ABOUT_MARKETING.search(sentence)
            or _ADDRESS_ONLY.match(sentence)
            or points_back
        )
        return not dropped

    return keep_sentences(prose, keep)


def passage_texts(passages: list[Passage], index: FaissKnowledgeIndex | None = None) -> list[str]:
    """Each passage's prose as :func:`story_source` gives it, one text per passage: what a story's
    lengthening retells, a passage per call (the copywriter's and the compliance refill's). A passage that
    opens on the end of a list item leaves that end out ("This indicates a low potential for allergic
    reaction…", the end of a product sheet's test item, retold alone into a Clearleaf story blog of stop
    45)."""
    return [" ".join(story_source([p], index)) for p in passages]


def story_source(passages: list[Passage], index: FaissKnowledgeIndex | None = None) -> list[str]:
    """What a story channel's copywriter is given: the prose (:func:`story_text`) of ``passages`` (from
    :func:`story_passages`), one text per run of consecutive passages of a document. The chunker splits a
    paragraph between sentences, so consecutive passages are joined on one line: given them apart, the
    model made "400 Canal Street, Hamilton, Ohio." a paragraph of its own (stop 44's seed-7 blog). For the
    same reason a run whose document's passage before it (looked up in ``index``) ends on a list item
    leaves out its own first line, the end of that item: "Let the bag rest 4 days … before pulling
    espresso." is Breakwater's brew tip, and told alone it became advice for every coffee."""
    runs: list[list[Passage]] = []
    for passage in passages:
        if runs and runs[-1][-1].doc == passage.doc and runs[-1][-1].chunk + 1 == passage.chunk:
            runs[-1].append(passage)
        else:
            runs.append([passage])
    before = {}
    if index is not None:
        wanted = {(run[0].doc, run[0].chunk - 1) for run in runs}
        before = {(p.doc, p.chunk): p for p in index.passages.values() if (p.doc, p.chunk) in wanted}
    texts = []
    for run in runs:
        previous = before.get((run[0].doc, run[0].chunk - 1))
        lines = previous.text.strip().splitlines() if previous is not None else []
        first = run[0].text.strip()
        if lines and _LIST_LINE.match(lines[-1]):  # it opens on the end of that list item
            first = first.split("\n", 1)[1] if "\n" in first else ""
        joined, section = first, run[0].section
        for passage in run[1:]:
            # the same section runs on (Chinese without a space); a new section, or a passage that opens
            # on a heading ("Team and tasting room", glued to the sentence before it in a story of stop
            # 44), starts a new line
            head = passage.text.strip().split("\n", 1)[0]
            opens_on_heading = len(head) < 60 and not _SENTENCE_END.search(head)
            # nor may a heading that ends the passage before run on into this one's first sentence ("Team
            # and tasting room We are a team of 14 people.", a Tidewater story of stop 45)
            last = joined.rsplit("\n", 1)[-1]
            ends_on_heading = len(last) < 60 and not _SENTENCE_END.search(last)
            same = passage.section == section and not opens_on_heading and not ends_on_heading
            sep = ("" if _CJK_END.search(joined) else " ") if same else "\n"
            joined += (sep if joined else "") + passage.text.strip()
            section = passage.section
        prose = story_text(joined)
        if prose:
            texts.append(prose)
    return texts


# A document that tells the brand's own story, by its file name or its title line: "company_history.txt",
# "company.txt" ("Wanderly 公司简介与发展历程"), "about.md", "品牌故事.md". Stop 45's seed-7 run retold
# Hearthline's product catalogue and warranty as its "story" (the angle asked for the cookware's
# features): a policy dump, not an article.
_BRAND_STORY = re.compile(
    r"company|history|about|story|founder|heritage|公司|简介|历程|品牌故事|关于我们|创始",
    re.IGNORECASE,
)


def tells_the_brand(index: FaissKnowledgeIndex, doc: str) -> bool:
    """Whether ``doc`` tells the brand's own story (:data:`_BRAND_STORY` in its file name or the first
    line of its first passage): the document a story channel retells first."""
    if _BRAND_STORY.search(doc.rsplit("/", 1)[-1]):
        return True
    first = next((p for p in index.passages.values() if p.doc == doc and p.chunk == 0), None)
    title = first.text.strip().split("\n", 1)[0] if first is not None else ""
    return bool(_BRAND_STORY.search(title))


def story_passages(
    index: FaissKnowledgeIndex, query: str, language: str, *, depth: int = 20, documents: int = 4
) -> list[Passage]:
    """The source of a piece that retells one part of the brand's documents (``features: story``: the
    blog): the document of the passage that best matches ``query`` (the brief's angle for the channel)
    among those a customer may read (:func:`answers_customers`; not a list of questions and answers, not
    a document with instruction-like text), and its passages with prose (:func:`story_text`) in document
    order: the best one, those after it, then those before it, up to :data:`STORY_CHARS` of prose for
    ``language``. A document with less prose than that is followed by the next best one, up to
    ``documents`` (Wanderly's company profile has 560 characters of it, and the model retold it into a
    blog of 333, under the 450 asked for), then documents none of whose passages matched, from their start.
    Empty when none qualifies.
    A document that tells the brand's own story (:func:`tells_the_brand`) comes before the others.
    Why: the blind reviewers published none of the 13 blogs the 1.5B model composed from facts and
    product sheets over stops 41-43 (a catalogue of blurbs, facts moved between products); told to
    retell a part of the brand's history it kept its facts and their order."""
    budget = STORY_CHARS.get(language, STORY_CHARS["en"])
    taken: list[Passage] = []
    size = 0
    used: list[str] = []
    found = [hit.passage for hit in index.search(query, depth, "hybrid")]
    # The brand's own story first: a document about the company, where the brand has one, whatever the
    # angle (from its passage that matches best, else from its start); then the others, best match first.
    own = [doc for doc in sorted({p.doc for p in index.passages.values()}) if tells_the_brand(index, doc)]
    starts = [
        next((p for p in found if p.doc == doc), None)
        or min((p for p in index.passages.values() if p.doc == doc), key=lambda p: p.chunk)
        for doc in own
    ]
    starts.sort(key=lambda p: found.index(p) if p in found else len(found))
    # Then any other document, from its start, when those that match hold too little prose: stop 50's
    # Hearthline and Clearleaf stories came to 1,855 and 1,608 characters from the documents among the
    # angle's 20 best passages, and their blogs ended under 300 words.
    rest = [
        min((p for p in index.passages.values() if p.doc == doc), key=lambda p: p.chunk)
        for doc in sorted({p.doc for p in index.passages.values()} - {p.doc for p in found})
    ]
    for best in [*starts, *found, *rest]:
        if (
            best.doc in used
            or not answers_customers(best.doc, best.section)
            or _QUESTIONS_DOC.search(best.doc.rsplit("/", 1)[-1])
            or quarantine_reason(index, best.doc) is not None
        ):
            continue
        chunks = sorted((p for p in index.passages.values() if p.doc == best.doc), key=lambda p: p.chunk)
        order = [p for p in chunks if p.chunk >= best.chunk] + [
            p for p in reversed(chunks) if p.chunk < best.chunk
        ]
        mine: list[Passage] = []
        for passage in order:
            prose = story_text(passage.text)
            if not prose or not answers_customers(passage.doc, passage.section):
                continue
            if taken + mine and size + len(prose) > budget:
                break
            mine.append(passage)
            size += len(prose)
        if mine:
            used.append(best.doc)
            taken += sorted(mine, key=lambda p: p.chunk)
        if size >= budget * 0.8 or len(used) >= documents:
            break
    return taken


def channel_story(index: FaissKnowledgeIndex, state: CampaignState, channel: ChannelSpec) -> list[Passage]:
    """The passages a piece of a story channel (``features: story``) retells, in document order: those of
    :func:`story_passages` for the brief's angle for ``channel`` that the spotlight step made the
    campaign's (only the campaign's passages are evidence for the checks); empty for another channel or
    before the brief. The copywriter retells them; the compliance agent titles the piece after them."""
    if channel.features != "story" or state.brief is None:
        return []
    angle = state.brief.channel_angles.get(channel.name, state.brand.positioning)
    campaign = {p.id for p in state.passages if p.kind == "document"}
    return [p for p in story_passages(index, angle, state.brand.language) if p.id in campaign]


# Words a title keeps in lower case unless they open it.
_SMALL_WORDS = frozenset(
    ("a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with")
)
_NUMBERED = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.]|\d{1,2}[.)、]|#+)\s*")


def _title_case(heading: str) -> str:
    words = heading.split()
    return " ".join(
        w if 0 < i < len(words) - 1 and w.casefold() in _SMALL_WORDS else w[:1].upper() + w[1:]
        for i, w in enumerate(words)
    )


def _heading(line: str) -> str | None:
    """``line`` as a heading without its numbering ("二、名字的由来" -> "名字的由来"), or None when it is
    no heading: a sentence, a long line, a labelled value ("Website: …"), an all-capitals line."""
    line = line.strip()
    if (
        not line
        or len(line) >= 40
        or ":" in line
        or "：" in line
        or _SENTENCE_END.search(line)
        or (line.upper() == line and re.search("[A-Z]", line))
    ):
        return None
    heading = _NUMBERED.sub("", line).strip()
    return heading if heading and (heading == line or not _LIST_LINE.match(heading)) else None


def story_headings(story: list[Passage]) -> list[str]:
    """The headings of the parts a story retells, of the document it mostly retells (the first of
    ``story``), in order: its passages' Markdown sections and the heading lines of a plain-text document
    ("Where we came from", "二、名字的由来" without its numbering), each only when prose of its part is in
    the story (:func:`story_text`: "Timeline" heads rows the story leaves out). The document's own title
    (the first line of its first passage) is none: it names the document, not a part of the story."""
    if not story:
        return []
    found: list[str] = []
    current: str | None = None  # a heading that ends one passage heads the next one's prose
    previous = -2
    for passage in (p for p in story if p.doc == story[0].doc):
        if passage.section or passage.chunk != previous + 1:
            current = _heading(passage.section) if passage.section else None
        previous = passage.chunk
        for number, line in enumerate(passage.text.splitlines()):
            if (passage.chunk == 0 and number == 0) or not line.strip():
                continue
            heading = _heading(line)
            if heading is not None:
                current = heading
            elif current is not None and story_text(line) and not _EN_TIMELINE_ROW.match(line.strip()):
                found.append(current)  # (an English row told as a sentence heads no part: "Timeline")
    return list(dict.fromkeys(found))


def story_titles(brand_name: str, language: str, story: list[Passage]) -> list[str]:
    """Titles that say what a story piece retells, for the last resort that must replace its model-written
    title (a fragment, a claim no passage states): "The Hearthline Story: Where We Came From", "Wanderly
    的故事：我们是谁", and the story's name alone. Empty without a story. Stop 44's last resort put a
    product's name over an article about the company instead ("Clearleaf Mineral Sunscreen SPF 30",
    "Wanderly 云南·雨崩徒步 7天"), which both blind reviewers rejected."""
    if not story:
        return []
    if language == "zh":
        spaced = f"{brand_name} " if re.search(r"[A-Za-z0-9]$", brand_name) else brand_name
        name = f"{spaced}的故事"
        return [f"{name}：{h}" for h in story_headings(story)] + [name]
    name = f"The {brand_name} Story"
    return [f"{name}: {_title_case(h)}" for h in story_headings(story)] + [name]
