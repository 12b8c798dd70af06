"""A synthetic month of mentions with planted topics and a planted negative spike, for bench/monitoring.py
and the monitoring tests.

Contract: :func:`synthetic_month` assembles texts from hand-written fragments (zh and en) with a seeded
random generator, so any number of mentions can be made, each with its planted topic and sentiment known;
:func:`write_mentions` writes them as the monitor's input. Not realistic prose: the realistic sets are
the example months (examples/monitor/) and the blind set (evals/monitor/).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

SPIKE_DAY = 18  # day of the month of the planted negative spike
TZ = timezone(timedelta(hours=8))

# topic -> (sentiment, zh fragments: openers, cores, closers; en the same)
TOPICS: dict[str, tuple[str, list[list[str]], list[list[str]]]] = {
    "guides": (
        "positive",
        [
            ["这次雨崩", "跟 Wanderly 走雨崩", "第二次报 Wanderly", "刚从雨崩回来"],
            [
                "藏族向导一路照顾我们",
                "当地向导讲了好多村子的故事",
                "向导小哥背着我的包走了一段",
                "领队和向导配合得特别好",
            ],
            ["，太暖了", "，强烈推荐", "，下次还跟", "，感动"],
        ],
        [
            [
                "Just back from Yubeng with Wanderly:",
                "Second trip with Wanderly and",
                "Honest review:",
                "Wanderly trek recap -",
            ],
            [
                "our Tibetan guide looked after everyone",
                "the local guides told stories about every village",
                "the guide carried my pack on the steep part",
                "the leader and local guide were a great team",
            ],
            ["10/10.", "would book again.", "so grateful.", "highly recommend."],
        ],
    ),
    "price": (
        "negative",
        [
            ["Wanderly 的价格", "看了一下 Wanderly", "同样的路线 Wanderly", "说实话 Wanderly"],
            ["比别家贵了快一千", "团费真的偏高", "性价比不太行", "这个价钱有点劝退"],
            ["，再考虑吧", "，学生党望而却步", "，不值", "。"],
        ],
        [
            [
                "Wanderly pricing:",
                "Looked at Wanderly again,",
                "Same route but Wanderly",
                "Honestly Wanderly",
            ],
            [
                "costs almost a thousand more than others",
                "is really overpriced",
                "is poor value for money",
                "prices are hard to justify",
            ],
            ["- passing for now.", "not worth it.", "sadly.", "no thanks."],
        ],
    ),
    "family": (
        "positive",
        [
            ["带娃参加了土楼线", "Wanderly 的土楼亲子游", "土楼五天", "暑假带孩子去了土楼"],
            [
                "孩子学做擂茶学得超认真",
                "住在百年土楼里孩子兴奋坏了",
                "客家阿姨教小朋友做擂茶",
                "孩子说这是最好玩的一次旅行",
            ],
            ["，推荐给有娃家庭", "，满意", "，回来还在念叨", "😊"],
        ],
        [
            [
                "Took the kids on the Tulou trip -",
                "Wanderly's Tulou family tour:",
                "Five days in the Tulou",
                "Family trip report:",
            ],
            [
                "the kids loved learning to make lei cha",
                "sleeping in a 100-year-old earth house thrilled them",
                "a Hakka auntie taught the children lei cha",
                "my son says it was his favourite trip",
            ],
            ["great for families.", "very happy.", "they still talk about it.", "😊"],
        ],
    ),
    "altitude": (
        "neutral",
        [
            ["请问", "想问一下", "有人知道", "咨询一下"],
            [
                "雨崩最高海拔多少，会高反吗",
                "走雨崩需要什么样的体能",
                "高反的话需要提前吃药吗",
                "没怎么运动过能走雨崩吗",
            ],
            ["？", "？谢谢", "？在线等", "？"],
        ],
        [
            ["Question:", "Does anyone know", "Quick question -", "Asking for a friend:"],
            [
                "how high does the Yubeng trek go",
                "what fitness level the Yubeng trek needs",
                "whether altitude sickness is common on Yubeng",
                "if a beginner can do the Yubeng trek",
            ],
            ["?", "? thanks", "? cheers", "?"],
        ],
    ),
    "refund": (
        "negative",
        [
            ["雨崩团因为大雪取消了", "16号的团被取消", "Wanderly 取消了我们的团", "雪天取消行程"],
            ["退款到现在还没到账", "客服电话一直打不通", "说好的退款拖了一周", "私信也没人回"],
            ["，太失望了", "，避雷", "，要投诉了", "，无语"],
        ],
        [
            [
                "Our Yubeng group was cancelled for snow and",
                "Wanderly cancelled our trip and",
                "Trip cancelled on the 16th,",
                "Snow cancellation:",
            ],
            [
                "the refund still hasn't arrived",
                "customer service never picks up",
                "the promised refund is a week late",
                "nobody answers messages",
            ],
            ["- very disappointed.", "avoid.", "filing a complaint.", "unbelievable."],
        ],
    ),
}
MISC = [
    "禾木的早晨好安静",
    "在喀纳斯拍到了很美的照片",
    "有人一起拼十月的团吗",
    "Wanderly 新出了秋季路线",
    "Kanas in autumn looks unreal",
    "Anyone joining the October departure?",
    "Photos from Hemu village",
    "Wanderly posted new autumn dates",
]


def synthetic_month(n: int, *, seed: int = 0, year: int = 2026, month: int = 11) -> list[dict[str, object]]:
    """``n`` mentions over the 30 days of the month, zh and en about equally; on :data:`SPIKE_DAY` the
    refund topic has about six times its daily share. Each has ``planted_topic`` and ``planted_sentiment``
    keys besides the mention fields (drop them before giving the file to the monitor)."""
    rng = random.Random(seed)
    names = list(TOPICS)
    rows: list[dict[str, object]] = []
    base = max(n // 36, 1)
    per_day = [base] * 30
    per_day[SPIKE_DAY - 1] = base * 7
    scale = n / sum(per_day)
    counts = [int(c * scale) for c in per_day]
    for i in range(n - sum(counts)):  # the rounding remainder, one more on each of the first days
        counts[i % 30 if i % 30 != SPIKE_DAY - 1 else (i + 1) % 30] += 1
    for day, count in enumerate(counts, start=1):
        for _ in range(count):
            zh = rng.random() < 0.5
            spike = day == SPIKE_DAY and rng.random() < 0.8
            if rng.random() < 0.1 and not spike:
                text, topic, sentiment = rng.choice(MISC), "misc", "neutral"
            else:
                topic = "refund" if spike else rng.choice(names)
                sentiment, zh_parts, en_parts = TOPICS[topic]
                parts = zh_parts if zh else en_parts
                joiner = "" if zh else " "
                text = joiner.join(rng.choice(p) for p in parts)
            when = datetime(year, month, day, rng.randrange(8, 23), rng.randrange(60), tzinfo=TZ)
            rows.append(
                {
                    "id": f"s{len(rows) + 1:05d}",
                    "text": text,
                    "time": when.isoformat(),
                    "source": rng.choice(["weibo", "xiaohongshu", "x", "reddit"]),
                    "planted_topic": topic,
                    "planted_sentiment": sentiment,
                }
            )
    return rows


def write_mentions(rows: list[dict[str, object]], path: Path) -> Path:
    """The mentions as a JSONL file the monitor reads (planted labels left out)."""
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(
                json.dumps({k: v for k, v in row.items() if not k.startswith("planted_")}, ensure_ascii=False)
                + "\n"
            )
    return path
