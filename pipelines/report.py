"""A campaign as one self-contained HTML page a brand manager or legal reviewer reads (``brandforge report``).

Contract: :func:`campaign_html` turns a :class:`~agents.state.Campaign` into one HTML document with no
network access and no external assets (styles inline, no scripts, system fonts). It shows

- each piece as its channel shows it (a results-page ad, a feed card, an inbox row and the mail, an
  article, a chat), with every field's length against its limit, counted as the channel counts it;
- which passage backs which sentence: a sentence is attributed to the cited passage that shares most of
  its content words (:func:`policy.claims.content_units`: at least two, and :data:`SOURCE_MIN_COVERAGE`
  of them; the brand's name and hashtags do not count); hovering or
  focusing it shows that passage and its document, and a footnote number links to it for print;
- every standing finding highlighted at its span, with rule, explanation, suggested fix and legal
  reference on hover or focus, and listed under the piece with the fixed ones;
- what revisions changed (a word diff of each round and of the checks' last edits), the brief and the run
  summary (model, prompt versions, calls, tokens, time).

Everything a model, a brand folder or a file supplied is escaped (Jinja autoescape, and
:func:`markupsafe.escape` where this module builds markup). The template gets plain data built here
(:func:`report_data`), never live objects, and is rendered with ``StrictUndefined``. The studio pages of
the service reuse :func:`piece_view` and the template's preview macros.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from pydantic import ValidationError

from agents.channels import HASHTAG, ChannelSpec, FieldSpec, count_chars, count_words, load_channels, zh_chars
from agents.state import Campaign, Piece, RetrievedPassage
from core.errors import InputError, format_validation_error
from core.files import read_regular_file
from policy.claims import content_units, sentence_spans
from policy.findings import ComplianceFinding

TEMPLATES = Path(__file__).parent / "templates"
Lang = Literal["en", "zh"]
# A sentence is shown as backed by a cited passage when the passage has at least this share of the
# sentence's content words (Chinese: character pairs). Below it the sentence is left unattributed.
SOURCE_MIN_COVERAGE = 0.4
# Word diffs beyond this many tokens a side are shown as before and after instead (difflib is quadratic).
MAX_DIFF_TOKENS = 4000
_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W\u3400-\u9fff\uf900-\ufaff]+|\s+|[^\w\s]", re.UNICODE)
_SEVERITY_ORDER = {"block": 0, "warn": 1, "info": 2}

UI: dict[Lang, dict[str, str]] = {
    "en": {
        "title": "Campaign report",
        "status_ok": "Ready for review",
        "status_blocked": "Some pieces are blocked",
        "status_incomplete": "Incomplete run",
        "verdict_pass": "Passed",
        "verdict_revised": "Passed after fixes",
        "verdict_blocked": "Blocked",
        "brief": "Brief",
        "audience": "Audience insight",
        "tone": "Tone",
        "key_messages": "Key messages",
        "angles": "Channel angles",
        "no_brief": "The strategist produced no brief.",
        "instruction": "Instruction for this campaign",
        "pieces": "Pieces",
        "fields": "Fields",
        "field": "Field",
        "length": "Length",
        "limit": "Limit",
        "chars": "characters",
        "words": "words",
        "words_zh": "words (Chinese: 1.5 characters a word)",
        "hashtags": "hashtags",
        "over": "over the limit",
        "under": "under the minimum",
        "within": "within limits",
        "no_limit": "no limit",
        "findings": "Findings",
        "no_findings": "No findings.",
        "fixed": "fixed",
        "standing": "standing",
        "rule": "Rule",
        "suggestion": "Suggested fix",
        "legal": "Legal reference",
        "evidence": "Passages considered",
        "supports": "supports",
        "does_not_support": "does not support",
        "history": "What changed",
        "drafted": "First draft",
        "round": "Round",
        "asked_by_reviewer": "sent back by the reviewer",
        "asked_by_compliance": "sent back by compliance",
        "requests": "Requests",
        "last_edits": "Last edits by the checks (sentences dropped, text cut to fit)",
        "no_changes": "Delivered as first drafted.",
        "unchanged": "The rewrite changed nothing.",
        "scorecard": "Checks",
        "sources": "Sources",
        "sources_note": "Passages cited in this campaign. Underlined sentences are backed by the passage "
        "whose number follows them.",
        "quarantined": "Withheld passages (instruction-like text; clean these documents)",
        "run": "Run",
        "pipeline": "Pipeline",
        "backend": "Backend",
        "model": "Model",
        "prompts": "Prompt versions",
        "calls": "Model calls",
        "failed_calls": "failed",
        "tokens": "Tokens (prompt / completion)",
        "time": "Time",
        "seconds": "s",
        "failure": "The run stopped",
        "sponsored": "Sponsored",
        "now": "now",
        "customer": "Customer",
        "to_you": "to me",
        "source": "Source",
        "cites": "Cites",
        "no_citations": "cites no passage",
        "legend": "Legend",
        "legend_source": "backed by a cited passage (hover or focus for it)",
        "legend_block": "blocking finding",
        "legend_warn": "warning",
        "layer": "decided by",
        "question": "Question",
        "before": "Before",
        "after": "After",
        "channel_search_ad": "Search ad",
        "channel_social_post": "Social post",
        "channel_email": "E-mail",
        "channel_blog": "Blog article",
        "channel_cs_reply": "Customer-service reply",
        "empty": "(empty)",
    },
    "zh": {
        "title": "营销活动报告",
        "status_ok": "可以送审",
        "status_blocked": "部分内容被拦截",
        "status_incomplete": "运行未完成",
        "verdict_pass": "通过",
        "verdict_revised": "修改后通过",
        "verdict_blocked": "已拦截",
        "brief": "创意简报",
        "audience": "受众洞察",
        "tone": "语气",
        "key_messages": "核心信息",
        "angles": "各渠道角度",
        "no_brief": "策略环节没有产出简报。",
        "instruction": "本次活动的要求",
        "pieces": "内容",
        "fields": "字段",
        "field": "字段",
        "length": "长度",
        "limit": "限制",
        "chars": "字符",
        "words": "词",
        "words_zh": "词（中文按每词 1.5 个字计）",
        "hashtags": "话题标签",
        "over": "超出上限",
        "under": "不足下限",
        "within": "符合限制",
        "no_limit": "不限",
        "findings": "审查发现",
        "no_findings": "没有发现问题。",
        "fixed": "已修正",
        "standing": "未解决",
        "rule": "规则",
        "suggestion": "修改建议",
        "legal": "法规依据",
        "evidence": "参考过的段落",
        "supports": "支持",
        "does_not_support": "不支持",
        "history": "修改记录",
        "drafted": "初稿",
        "round": "第几轮",
        "asked_by_reviewer": "审稿人退回",
        "asked_by_compliance": "合规检查退回",
        "requests": "修改要求",
        "last_edits": "检查环节的最后修改（删去的句子、为符合长度的截断）",
        "no_changes": "按初稿交付。",
        "unchanged": "改写没有改动任何内容。",
        "scorecard": "检查项",
        "sources": "来源",
        "sources_note": "本次活动引用的段落。带下划线的句子由其后编号的段落支持。",
        "quarantined": "被隔离的段落（含类似指令的文字，请清理这些文档）",
        "run": "运行信息",
        "pipeline": "流水线",
        "backend": "后端",
        "model": "模型",
        "prompts": "提示词版本",
        "calls": "模型调用",
        "failed_calls": "失败",
        "tokens": "Token（提示 / 生成）",
        "time": "用时",
        "seconds": "秒",
        "failure": "运行中断",
        "sponsored": "广告",
        "now": "刚刚",
        "customer": "顾客",
        "to_you": "发给我",
        "source": "来源",
        "cites": "引用",
        "no_citations": "未引用段落",
        "legend": "图例",
        "legend_source": "有引用段落支持（悬停或聚焦可查看）",
        "legend_block": "拦截问题",
        "legend_warn": "警告",
        "layer": "判定方式",
        "question": "问题",
        "before": "修改前",
        "after": "修改后",
        "channel_search_ad": "搜索广告",
        "channel_social_post": "社交媒体帖子",
        "channel_email": "电子邮件",
        "channel_blog": "博客文章",
        "channel_cs_reply": "客服回复",
        "empty": "（空）",
    },
}
PREVIEWS = frozenset({"search_ad", "social_post", "email", "blog", "cs_reply"})


def report_lang(campaign: Campaign, lang: str | None = None) -> Lang:
    """The report's language: ``lang`` when given ("en" or "zh"), else the brand's locale."""
    chosen = lang or campaign.brand.locale
    return "zh" if chosen.lower().startswith("zh") else "en"


@dataclass(frozen=True)
class _Source:
    number: int
    passage: RetrievedPassage


class Sources:
    """Footnote numbers for passages, in order of first citation across a page."""

    def __init__(self, passages: Iterable[RetrievedPassage]) -> None:
        self.by_id = {p.id: p for p in passages}
        self.numbers: dict[str, int] = {}

    def number(self, passage_id: str) -> int | None:
        if passage_id not in self.by_id:
            return None
        return self.numbers.setdefault(passage_id, len(self.numbers) + 1)

    def cited(self) -> list[_Source]:
        return [_Source(n, self.by_id[pid]) for pid, n in sorted(self.numbers.items(), key=lambda kv: kv[1])]


def _tip(body: Markup, tip_id: str) -> Markup:
    return Markup('<span class="tip" role="tooltip" id="{}">{}</span>').format(tip_id, body)


def _source_tip(source: _Source, ui: dict[str, str]) -> Markup:
    return Markup('<span class="tip-head">{} {} · {}</span>{}').format(
        ui["source"], source.number, source.passage.doc, source.passage.text
    )


def _finding_tip(f: ComplianceFinding, ui: dict[str, str]) -> Markup:
    parts = [Markup('<span class="tip-head">{} · {}</span>{}').format(f.rule_id, f.severity, f.explanation)]
    if f.suggestion:
        parts.append(
            Markup('<span class="tip-line"><b>{}:</b> {}</span>').format(ui["suggestion"], f.suggestion)
        )
    if f.legal_reference:
        parts.append(
            Markup('<span class="tip-line"><b>{}:</b> {}</span>').format(ui["legal"], f.legal_reference)
        )
    return Markup("").join(parts)


def _located(f: ComplianceFinding, text: str) -> tuple[int, int] | None:
    """Where ``f`` is in ``text``: its span when that still holds ``matched``, else the first place
    ``matched`` occurs; None when neither (a field-level finding, or text changed since)."""
    if f.span is not None:
        start, end = f.span
        if 0 <= start < end <= len(text) and (f.matched is None or text[start:end] == f.matched):
            return start, end
    if f.matched:
        at = text.find(f.matched)
        if at >= 0:
            return at, at + len(f.matched)
    return None


def field_html(
    text: str,
    *,
    field_id: str,
    findings: list[tuple[ComplianceFinding, str]],
    sources: list[_Source],
    ui: dict[str, str],
    brand_names: tuple[str, ...] = (),
) -> Markup:
    """``text`` as markup: sentences backed by one of ``sources`` underlined, with a footnote marker whose
    tooltip is the passage; each located finding (with its anchor id) a ``<mark>`` with its tooltip;
    hashtags styled. Newlines are kept by the stylesheet (``white-space: pre-line``)."""
    if not text:
        return Markup('<span class="empty">{}</span>').format(ui["empty"])
    sentences = sentence_spans(text)
    attributed = {
        i: source
        for i, (start, end) in enumerate(sentences)
        if (source := _backing(text[start:end], sources, brand_names)) is not None
    }
    marks = [(span, f, anchor) for f, anchor in findings if (span := _located(f, text)) is not None]
    tags = [m.span() for m in HASHTAG.finditer(text)]
    cuts = {0, len(text)}
    for start, end in sentences + [m[0] for m in marks] + tags:
        cuts |= {start, end}
    bounds = sorted(cuts)

    def sentence_at(pos: int) -> int | None:
        return next((i for i, (s, e) in enumerate(sentences) if s <= pos < e and i in attributed), None)

    out: list[Markup] = []
    open_sentence: int | None = None
    started: set[int] = set()
    for a, b in itertools.pairwise(bounds):
        here = sentence_at(a)
        if here != open_sentence:
            if open_sentence is not None:
                out.append(_close_sentence(field_id, open_sentence, attributed[open_sentence], ui))
            if here is not None:
                out.append(
                    Markup('<span class="sent" tabindex="0" aria-describedby="{}-s{}">').format(
                        field_id, here
                    )
                )
            open_sentence = here
        piece: Markup = escape(text[a:b])
        if any(s <= a and b <= e for s, e in tags):
            piece = Markup('<span class="tag">{}</span>').format(piece)
        covering = [(i, f, anchor) for i, ((s, e), f, anchor) in enumerate(marks) if s <= a and b <= e]
        if covering:
            worst = min(covering, key=lambda c: _SEVERITY_ORDER.get(c[1].severity, 3))[1].severity
            tips = [
                _tip(_finding_tip(f, ui), f"{anchor}-tip") for i, f, anchor in covering if i not in started
            ]
            new = [anchor for i, _, anchor in covering if i not in started]
            started |= {i for i, _, _ in covering}
            if new:
                described = " ".join(f"{anchor}-tip" for anchor in new)
                opening = '<mark class="finding sev-{}" id="{}-at" tabindex="0" aria-describedby="{}">'
                piece = Markup(opening + "{}{}</mark>").format(
                    worst, new[0], described, piece, Markup("").join(tips)
                )
            else:
                piece = Markup('<mark class="finding sev-{}">{}</mark>').format(worst, piece)
        out.append(piece)
    if open_sentence is not None:
        out.append(_close_sentence(field_id, open_sentence, attributed[open_sentence], ui))
    return Markup("").join(out)


def _backing(sentence: str, sources: list[_Source], brand_names: tuple[str, ...]) -> _Source | None:
    """The source that shares most of ``sentence``'s content units (at least two, and at least
    :data:`SOURCE_MIN_COVERAGE` of them), or None. Hashtags and the brand's own names are not content:
    every passage of a brand names it."""
    claim = HASHTAG.sub(" ", sentence)
    for name in brand_names:
        claim = re.sub(re.escape(name), " ", claim, flags=re.IGNORECASE) if name else claim
    need = content_units(claim)
    if len(need) < 2:
        return None
    best, shared = None, 0
    for source in sources:
        common = len(need & content_units(source.passage.text))
        if common > shared:
            best, shared = source, common
    return best if shared >= 2 and shared / len(need) >= SOURCE_MIN_COVERAGE else None


def _close_sentence(field_id: str, index: int, source: _Source, ui: dict[str, str]) -> Markup:
    tip_id = f"{field_id}-s{index}"
    return Markup('</span><sup class="cite"><a href="#source-{}" aria-label="{} {}">[{}]</a>{}</sup>').format(
        source.number, ui["source"], source.number, source.number, _tip(_source_tip(source, ui), tip_id)
    )


def _metric(spec: FieldSpec | None, text: str, ui: dict[str, str]) -> dict[str, Any]:
    """A field's length as the channel counts it, against its limits."""
    if spec is None:
        return {"count": f"{count_chars(text)} {ui['chars']}", "limit": ui["no_limit"], "state": "ok"}
    if spec.max_words or spec.min_words:
        words = count_words(text)
        unit = ui["words_zh"] if re.search(r"[\u4e00-\u9fff]", text) else ui["words"]
        low = f"{spec.min_words}–" if spec.min_words else "≤ "
        limit = f"{low}{spec.max_words or '∞'} {ui['words']}"
        if spec.max_words and re.search(r"[\u4e00-\u9fff]", text):
            limit += f" ({zh_chars(spec.min_words or 0)}–{zh_chars(spec.max_words)} {ui['chars']})"
        state = "over" if spec.max_words and words > spec.max_words else "ok"
        state = "under" if spec.min_words and words < spec.min_words else state
        count = f"{words} {unit}"
    else:
        chars = count_chars(text)
        limit = f"≤ {spec.max_chars} {ui['chars']}" if spec.max_chars else ui["no_limit"]
        state = "over" if spec.max_chars and chars > spec.max_chars else "ok"
        count = f"{chars} {ui['chars']}"
    if spec.max_hashtags is not None or spec.min_hashtags:
        n = len(HASHTAG.findall(text))
        count += f", {n} {ui['hashtags']}"
        most = spec.max_hashtags if spec.max_hashtags is not None else "∞"
        limit += f", {spec.min_hashtags or 0}–{most} {ui['hashtags']}"
        if spec.max_hashtags is not None and n > spec.max_hashtags:
            state = "over"
        elif spec.min_hashtags and n < spec.min_hashtags and state == "ok":
            state = "under"
    return {"count": count, "limit": limit, "state": state}


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def diff_html(before: str, after: str) -> Markup:
    """A word diff (one token per CJK character) with ``<del>`` and ``<ins>``."""
    a, b = _tokens(before), _tokens(after)
    if len(a) > MAX_DIFF_TOKENS or len(b) > MAX_DIFF_TOKENS:
        return Markup("<del>{}</del><ins>{}</ins>").format(before, after)
    out: list[Markup] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape("".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(Markup("<del>{}</del>").format("".join(a[i1:i2])))
        if j2 > j1:
            out.append(Markup("<ins>{}</ins>").format("".join(b[j1:j2])))
    return Markup("").join(out)


def _changes(before: dict[str, str], after: dict[str, str], order: list[str]) -> list[dict[str, Any]]:
    names = order + [n for n in {**before, **after} if n not in order]
    return [
        {"field": n, "html": diff_html(before.get(n, ""), after.get(n, ""))}
        for n in names
        if before.get(n, "") != after.get(n, "")
    ]


def _history(piece: Piece, order: list[str], ui: dict[str, str]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    last = piece.drafted or (piece.revisions[0].before if piece.revisions else {})
    for rev in piece.revisions:
        before = rev.before or last
        after = rev.after or before
        steps.append(
            {
                "title": f"{ui['round']} {rev.round}: {ui['asked_by_' + rev.by]}",
                "requests": rev.requests,
                "changes": _changes(before, after, order),
                "unchanged": ui["unchanged"] if before == after and rev.after else "",
            }
        )
        last = after
    if last and last != piece.fields:
        steps.append(
            {
                "title": ui["last_edits"],
                "requests": [],
                "changes": _changes(last, piece.fields, order),
                "unchanged": "",
            }
        )
    return steps


def _finding_view(f: ComplianceFinding, anchor: str, located: bool, sources: Sources) -> dict[str, Any]:
    evidence = []
    for e in f.evidence:
        number = sources.number(e.passage)
        evidence.append(
            {"number": number, "passage": e.passage, "score": f"{e.score:.2f}", "supports": e.supports}
        )
    return {
        "anchor": anchor,
        "located": located,
        "rule_id": f.rule_id,
        "category": f.category,
        "severity": f.severity,
        "layer": f.layer,
        "field": f.field,
        "matched": f.matched,
        "explanation": f.explanation,
        "suggestion": f.suggestion,
        "legal_reference": f.legal_reference,
        "rationale": f.rationale,
        "fixed": f.fixed,
        "evidence": evidence,
    }


def piece_view(
    piece: Piece,
    index: int,
    *,
    spec: ChannelSpec | None,
    sources: Sources,
    brand_name: str,
    ui: dict[str, str],
    delivered: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Plain data for one piece's preview, metrics, findings, history and scorecard. ``delivered``: the
    fields as the pipeline delivered them, when ``piece.fields`` is a later (human) edit; the history
    then ends there."""
    pid = f"piece{index}"
    order = [f.name for f in spec.fields] if spec else list(piece.fields)
    names = order + [n for n in piece.fields if n not in order]
    cited: list[_Source] = []
    for c in piece.citations:
        number = sources.number(c)
        if number is not None:
            cited.append(_Source(number, sources.by_id[c]))
    ordered = sorted(
        piece.compliance.findings, key=lambda f: (f.fixed, _SEVERITY_ORDER.get(f.severity, 3), f.field or "")
    )
    anchors = {id(f): f"{pid}-f{i}" for i, f in enumerate(ordered)}
    fields: dict[str, dict[str, Any]] = {}
    located: set[int] = set()
    for name in names:
        text = piece.fields.get(name, "")
        here = [(f, anchors[id(f)]) for f in ordered if f.field == name and not f.fixed]
        located |= {id(f) for f, _ in here if _located(f, text) is not None}
        field_spec = next((s for s in spec.fields if s.name == name), None) if spec else None
        fields[name] = {
            "name": name,
            "text": text,
            "html": field_html(
                text, field_id=f"{pid}-{name}", findings=here, sources=cited, ui=ui, brand_names=(brand_name,)
            ),
            **_metric(field_spec, text, ui),
        }
    verdict = piece.compliance.verdict
    scorecard = None
    if piece.scorecard:
        scorecard = {
            "score": f"{piece.scorecard.score:.0%}",
            "groups": [
                {"name": g, "passed": c.passed, "applied": c.applied, "failed": c.failed}
                for g, c in piece.scorecard.groups.items()
            ],
        }
    return {
        "id": pid,
        "channel": piece.channel,
        "label": ui.get(f"channel_{piece.channel}", piece.channel),
        "preview": piece.channel if piece.channel in PREVIEWS else "generic",
        "brand": brand_name,
        "verdict": verdict,
        "verdict_label": ui[f"verdict_{verdict}"],
        "fields": fields,
        "inputs": piece.inputs,
        "citations": [{"number": s.number, "doc": s.passage.doc} for s in cited],
        "findings": [_finding_view(f, anchors[id(f)], id(f) in located, sources) for f in ordered],
        "history": _history(
            piece if delivered is None else piece.model_copy(update={"fields": delivered}), names, ui
        ),
        "scorecard": scorecard,
    }


def _message_html(text: str, citations: list[str], sources: Sources, ui: dict[str, str]) -> Markup:
    marks = [
        Markup('<sup class="cite"><a href="#source-{}" aria-label="{} {}">[{}]</a></sup>').format(
            n, ui["source"], n, n
        )
        for c in citations
        if (n := sources.number(c)) is not None
    ]
    return escape(text) + Markup("").join(marks)


def report_data(
    campaign: Campaign, *, lang: Lang, channels: dict[str, ChannelSpec] | None = None
) -> dict[str, Any]:
    """Plain data for the report template (strings, numbers, lists, dicts and escaped markup)."""
    ui = UI[lang]
    specs = channels if channels is not None else load_channels()
    sources = Sources(campaign.passages)
    brief = None
    if campaign.brief:
        brief = {
            "audience_insight": campaign.brief.audience_insight,
            "tone": campaign.brief.tone,
            "key_messages": [
                _message_html(m.text, m.citations, sources, ui) for m in campaign.brief.key_messages
            ],
            "angles": [
                {"channel": ui.get(f"channel_{c}", c), "text": t}
                for c, t in campaign.brief.channel_angles.items()
            ],
        }
    pieces = [
        piece_view(p, i, spec=specs.get(p.channel), sources=sources, brand_name=campaign.brand.name, ui=ui)
        for i, p in enumerate(campaign.pieces)
    ]
    prompts: dict[str, str] = {}
    for t in campaign.trace:
        prompts.setdefault(t.prompt, t.agent)
    stats = campaign.stats
    failure = None
    if campaign.failure:
        failure = f"{campaign.failure.step} ({campaign.failure.reason}): {campaign.failure.message}"
    elif campaign.backend_error:
        failure = campaign.backend_error
    return {
        "lang": lang,
        "html_lang": "zh-CN" if lang == "zh" else "en",
        "ui": ui,
        "brand": campaign.brand.model_dump(),
        "status": campaign.status,
        "status_label": ui[f"status_{campaign.status}"],
        "counts": {
            v: sum(p.compliance.verdict == v for p in campaign.pieces) for v in ("pass", "revised", "blocked")
        },
        "brief": brief,
        "instruction": campaign.instruction,
        "pieces": pieces,
        "sources": [
            {"number": s.number, "doc": s.passage.doc, "text": s.passage.text, "id": s.passage.id}
            for s in sources.cited()
        ],
        "quarantined": [q.model_dump() for q in campaign.quarantined],
        "run": {
            "pipeline": campaign.pipeline,
            "backend": campaign.backend,
            "model": campaign.model,
            "prompts": [{"prompt": p, "agent": a} for p, a in sorted(prompts.items())],
            "calls": stats.llm_calls,
            "failed_calls": sum(not t.ok for t in campaign.trace),
            "prompt_tokens": stats.prompt_tokens,
            "completion_tokens": stats.completion_tokens,
            "seconds": f"{stats.seconds:.1f}",
            "llm_seconds": f"{stats.llm_seconds:.1f}",
            "failure": failure,
        },
    }


MAX_CAMPAIGN_BYTES = 64 * 1024 * 1024


def load_campaign(path: str | Path) -> Campaign:
    """A campaign JSON file (what ``brandforge campaign --format json`` writes), validated. Bad input is an
    InputError naming the file and, for a wrong document, the fields."""
    source = Path(path)
    raw = read_regular_file(source, MAX_CAMPAIGN_BYTES, what="campaign JSON file")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text; expected a campaign JSON file", source=source) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); expected the JSON that "
            "`brandforge campaign --format json` writes",
            source=source,
        ) from None
    try:
        return Campaign.model_validate(data)
    except ValidationError as exc:
        listed = format_validation_error(exc)
        fields = str(listed).split(":\n", 1)[-1]
        error = InputError(
            f"not a campaign (expected the JSON of `brandforge campaign --format json`):\n{fields}",
            source=source,
        )
        error.field = listed.field
        raise error from None


def environment() -> Environment:
    """The Jinja environment for report and studio pages: autoescaped, strict about missing names."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def campaign_html(
    campaign: Campaign, *, lang: str | None = None, channels: dict[str, ChannelSpec] | None = None
) -> str:
    """The self-contained HTML report of ``campaign`` (language: ``lang`` or the brand's locale).
    ``channels`` gives the specs for the length limits (default: the built-in channels)."""
    data = report_data(campaign, lang=report_lang(campaign, lang), channels=channels)
    return environment().get_template("report.html.j2").render(**data, css=stylesheet())


def stylesheet() -> Markup:
    """The pages' stylesheet (our own file, inlined into a ``<style>`` element)."""
    return Markup((TEMPLATES / "report.css").read_text(encoding="utf-8"))
