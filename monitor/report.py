"""``RUN_DIR/report.html``: the monitoring run as a page a brand manager opens instead of the JSON.

Contract: :func:`render_report` turns :class:`~monitor.insights.Insights` and the mentions into one
self-contained HTML file: styles inline, charts as inline SVG drawn here (volume and sentiment per day
with alert days marked, share of voice, sentiment by aspect, topics), no scripts, and a Content Security
Policy that forbids loading anything. Texts are the masked ones and are escaped by the template
(autoescape). English or Chinese labels (``lang``). Every chart also has its numbers in a table or in
text, so a screen reader and a printout lose nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from monitor.alerts import EMERGING_DAYS, NEGATIVE_RULE, VOLUME_RULE
from monitor.insights import Insights, MentionResult

TEMPLATES = Path(__file__).resolve().parent / "templates"
COLORS = {"positive": "#2f7d4f", "neutral": "#9aa3ad", "negative": "#c0392b"}

UI: dict[str, dict[str, str]] = {
    "en": {
        "title": "Brand monitoring",
        "colon": ": ",
        "period": "Period",
        "mentions": "mentions",
        "bad_lines": "lines not read (see errors.jsonl)",
        "alerts": "Alerts",
        "no_alerts": "No spike in this period.",
        "volume_spike": "Volume spike",
        "negative_spike": "Negative spike",
        "baseline": "baseline",
        "threshold": "threshold",
        "over_time": "Volume and sentiment by day",
        "share_of_voice": "Share of voice",
        "by_aspect": "Sentiment by aspect",
        "topics": "Topics",
        "emerging": "emerging",
        "praise": "Top praise",
        "complaints": "Top complaints",
        "positive": "positive",
        "neutral": "neutral",
        "negative": "negative",
        "topic": "Topic",
        "size": "Size",
        "sentiment": "Sentiment",
        "examples": "Examples",
        "aspect": "Aspect",
        "brand": "Brand",
        "share": "Share",
        "net": "Net",
        "method": "How this was computed",
        "day": "Day",
        "other": "other",
        "model_label": "label written by the model",
        "terms_label": "label from the topic's words",
        "rule": "Rule",
        "masked": "Personal data (phones, e-mails, ID numbers) is masked in every text.",
        "no_topic": "no topic",
    },
    "zh": {
        "colon": "：",
        "title": "品牌舆情监测",
        "period": "时间范围",
        "mentions": "条提及",
        "bad_lines": "行未能读取（见 errors.jsonl）",
        "alerts": "预警",
        "no_alerts": "本期没有异常峰值。",
        "volume_spike": "声量激增",
        "negative_spike": "负面激增",
        "baseline": "基线",
        "threshold": "阈值",
        "over_time": "每日声量与情感",
        "share_of_voice": "声量份额",
        "by_aspect": "各方面的情感",
        "topics": "话题",
        "emerging": "新兴",
        "praise": "好评摘录",
        "complaints": "主要投诉",
        "positive": "正面",
        "neutral": "中性",
        "negative": "负面",
        "topic": "话题",
        "size": "数量",
        "sentiment": "情感",
        "examples": "示例",
        "aspect": "方面",
        "brand": "品牌",
        "share": "份额",
        "net": "净值",
        "method": "计算方法",
        "day": "日期",
        "other": "其他",
        "model_label": "标签由模型撰写",
        "terms_label": "标签取自话题高频词",
        "rule": "规则",
        "masked": "所有文本中的个人信息（电话、邮箱、证件号）均已遮盖。",
        "no_topic": "无话题",
    },
}


# The built-in aspects (monitor/data/aspects.yaml) as a Chinese reader names them; a brand's own aspects
# (brand.yaml monitor.aspects) are shown as the brand wrote them.
ASPECT_NAMES = {
    "zh": {
        "price": "价格",
        "quality": "质量",
        "service": "服务",
        "delivery": "配送",
        "safety": "安全",
        "refund": "退款",
        "itinerary": "行程",
        "guide": "向导",
        "accommodation": "住宿",
        "food": "餐饮",
        "booking": "预订",
        "transport": "交通",
        "packaging": "包装",
        "scent": "气味",
        "skin_reaction": "肤感反应",
        "taste": "口味",
        "freshness": "新鲜度",
        "subscription": "订阅",
    }
}


def aspect_name(aspect: str, lang: str) -> str:
    """How the report names ``aspect`` in ``lang`` ("refund" -> "退款"); unknown ones as written."""
    return ASPECT_NAMES.get(lang, {}).get(aspect, aspect.replace("_", " "))


def _day_chart(insights: Insights) -> dict[str, Any]:
    """Stacked bars per day (negative at the bottom), in SVG units; alert days flagged."""
    days = insights.sentiment_by_day
    width, height, left, bottom = 760, 220, 36, 24
    top = max((d.mentions for d in days), default=0) or 1
    step = (width - left - 8) / max(len(days), 1)
    bar = max(step * 0.75, 1.0)
    alert_days = {a.day for a in insights.alerts}
    bars = []
    for n, d in enumerate(days):
        x = left + n * step
        y = height - bottom
        segments = []
        for label in ("negative", "neutral", "positive"):
            value = getattr(d, label)
            h = (height - bottom - 10) * value / top
            y -= h
            if value:
                segments.append(
                    {
                        "y": round(y, 1),
                        "h": round(h, 1),
                        "color": COLORS[label],
                        "label": label,
                        "value": value,
                    }
                )
        bars.append(
            {
                "x": round(x, 1),
                "w": round(bar, 1),
                "day": d.day,
                "short": d.day[5:],
                "total": d.mentions,
                "segments": segments,
                "alert": d.day in alert_days,
                "tick": n % max(1, len(days) // 10) == 0,
            }
        )
    grid = [
        {"y": round(height - bottom - (height - bottom - 10) * f, 1), "value": round(top * f)}
        for f in (0.5, 1.0)
    ]
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "grid": grid,
        "base": height - bottom,
        "left": left,
    }


def _method(insights: Insights, lang: str) -> list[str]:
    """The report's "how this was computed" paragraphs in the report's language (insights.json keeps
    them in English, as data)."""
    m = insights.method
    if lang != "zh":
        first = f"{m.sentiment}. {m.classifier}; {m.embedder}"
        first += f"; {m.model}: {m.model_decided} / {m.uncertain}." if m.model else "."
        return [first, f"{m.topics}. {m.emerging}.", *m.alerts]
    first = "情感：每条提及由逻辑回归分类器判断（多语言向量、字符 n-gram 和情感词典得分）"
    first += (
        f"；分类器把握不足的 {m.uncertain} 条交给语言模型 {m.model}，由它判定 {m.model_decided} 条"
        if m.model
        else "；本次未使用语言模型"
    )
    first += f"。分类器 {m.classifier}；向量模型 {m.embedder}。"
    return [
        first,
        "话题：在向量上做球面 k-means，k 按轮廓系数选取，不足 4 条的簇归入“其他”。"
        f"新兴话题：最近 {EMERGING_DAYS} 天至少 5 条，且日均达到此前的 2 倍（或此前没有）。",
        "提及量预警：" + VOLUME_RULE.describe_zh("提及量") + "。",
        "负面预警：" + NEGATIVE_RULE.describe_zh("负面提及量") + "。",
    ]


def render_report(insights: Insights, mentions: list[MentionResult], *, lang: str = "en") -> str:
    lang = "zh" if lang == "zh" else "en"
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    by_id = {m.id: m for m in mentions}
    topic_names = {t.id: t.label for t in insights.topics}

    def quote(mention_id: str) -> dict[str, Any]:
        m = by_id.get(mention_id)
        if m is None:
            return {"id": mention_id, "text": "", "day": "", "source": "", "sentiment": "neutral"}
        return {"id": m.id, "text": m.text[:400], "day": m.day, "source": m.source, "sentiment": m.sentiment}

    data = insights.model_dump()
    rules = {"volume_spike": VOLUME_RULE, "negative_spike": NEGATIVE_RULE}
    for alert in data["alerts"]:
        if lang == "zh":
            what = "提及量" if alert["kind"] == "volume_spike" else "负面提及量"
            alert["rule"] = rules[alert["kind"]].describe_zh(what)
        alert["quotes"] = [quote(x) for x in alert["examples"][:3]]
        alert["topic_labels"] = [topic_names.get(t, str(t)) for t in alert["topics"]]
        alert["aspects"] = [aspect_name(a, lang) for a in alert.get("aspects", [])]
    for topic in data["topics"]:
        topic["quotes"] = [quote(x) for x in topic["examples"][:2]]
        topic["aspects"] = [aspect_name(a, lang) for a in topic.get("aspects", [])]
    for row in data["sentiment_by_aspect"]:
        row["aspect"] = aspect_name(row["aspect"], lang)
    for item in (*data["top_praise"], *data["top_complaints"]):
        item["topic_label"] = topic_names.get(item["topic"], UI[lang]["no_topic"])
    top_voice = max((b.mentions for b in insights.share_of_voice), default=0) or 1
    return env.get_template("report.html.j2").render(
        ui=UI[lang],
        html_lang="zh-CN" if lang == "zh" else "en",
        i=data,
        chart=_day_chart(insights),
        colors=COLORS,
        top_voice=top_voice,
        method=_method(insights, lang),
    )
