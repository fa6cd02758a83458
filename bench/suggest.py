"""Benchmark of suggestions: accuracy on a labelled corpus, latency of one suggestion, and the
cost of training.

Usage: ``python bench/suggest.py [--tickets 100000] [--json out.json]``

* Accuracy: ``bench/data/suggest_corpus.tsv``, 200 appeals in 10 categories written by hand for
  this benchmark (not real appeals: it measures the pipeline, not the model's worth on a
  county's history). A stratified 20% is held out (the split ``hotline suggest train`` makes),
  the model trained on the rest plus the demo catalogue's names and keywords (36 categories);
  top-1 and top-3 on the held-out part, the mean over 10 different splits, and the validation
  curve (share taken and right at each threshold) pooled over those splits.
* Latency: one suggestion as ``POST /v1/suggestions`` computes it in process (vector, scores,
  owner units, the nearest of a 20,000-ticket similar index), p50 and p99 over 2,000 texts; the
  endpoint adds two indexed reads (unit names, the similar tickets' rows).
* Training: ``--tickets`` synthetic closed tickets (the corpus' texts cut and recombined with
  invented places and times, 30 categories, 60 owner units) through ``training.fit``: the
  held-out model, its evaluation and the final model with its similar index, as the command
  runs them. Seconds and the process's peak memory.

``run(tickets)`` returns the figures as a dict for bench/run.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from hotline.suggestion import model as ml  # noqa: E402 - after the path
from hotline.suggestion import training  # noqa: E402

CORPUS = ROOT / "bench" / "data" / "suggest_corpus.tsv"
MIGRATION = (
    ROOT / "migrations" / "versions" / "2026_11_26_e3264517a223_tickets_api_keys_categories.py"
)
SPLITS = 10


def corpus() -> list[ml.Example]:
    out = []
    for line in CORPUS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            code, text = line.split("\t")
            out.append(ml.Example(None, text, code))
    return out


def catalogue() -> list[ml.Example]:
    """The demo catalogue's seed texts (its migration's list)."""
    spec = importlib.util.spec_from_file_location("categories", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return ml.seed_examples((c, n, "", k) for c, n, _en, _g, k in module.CATEGORIES)


def accuracy(examples: list[ml.Example], seed: list[ml.Example]) -> dict[str, Any]:
    train, held = ml.stratified_split(examples)
    first = ml.evaluate(ml.train(train, seed), held)
    top1, top3 = [], []
    curve = {th: [0, 0] for th in ml.CURVE}
    total = 0
    for s in range(SPLITS):
        train, held = ml.stratified_split(examples, seed=s)
        result = ml.evaluate(ml.train(train, seed), held)
        top1.append(result.top1 / result.total)
        top3.append(result.top3 / result.total)
        total += result.total
        for th, (covered, right) in result.curve.items():
            curve[th][0] += covered
            curve[th][1] += right
    return {
        "corpus": len(examples),
        "categories": len({e.category for e in examples}),
        "held_out": first.total,
        "top1": first.top1,
        "top3": first.top3,
        "top1_mean": round(float(np.mean(top1)), 3),
        "top3_mean": round(float(np.mean(top3)), 3),
        "curve": [
            {"threshold": th, "taken": c / total, "right_of_taken": (r / c if c else None)}
            for th, (c, r) in curve.items()
        ],
    }


PLACES = (
    "东湖 西关 北关 南街 新华 兴隆 和平 民主 光明 幸福 东升 太平 五台子 大孤家子 三面船".split()
)
MARKS = ["请尽快处理", "希望有人管管", "要求给个说法"]  # what tells the three parts apart
WHEN = ["昨天", "今天早上", "这几天", "一个星期了", "半个月了", "晚上", "刚才", "好几天了"]


def synthetic(n: int, examples: list[ml.Example], seed: int = 16) -> list[ml.Example]:
    """``n`` closed tickets made of the corpus' texts: halves of two texts of one category,
    a place and a time, in 30 categories (the corpus' 10, each split three ways by a closing
    phrase) and 60 owner units."""
    rnd = random.Random(seed)
    by: dict[str, list[str]] = {}
    for e in examples:
        by.setdefault(e.category, []).append(e.text)
    codes = sorted(by)
    out = []
    for i in range(n):
        base = codes[i % len(codes)]
        part = rnd.randrange(3)
        a, b = rnd.sample(by[base], 2)
        text = (
            f"{rnd.choice(PLACES)}{rnd.choice(('小区', '村', '街'))}{rnd.randint(1, 30)}号"
            f"{rnd.choice(WHEN)}，{a[: len(a) // 2]}{b[len(b) // 2 :]}"
        )
        text += f"，{MARKS[part]}"
        out.append(ml.Example(i + 1, text, f"{base}.{part}", f"unit{(i * 7 + part) % 60:02d}"))
    return out


def latency(examples: list[ml.Example], seed: list[ml.Example]) -> dict[str, Any]:
    history = synthetic(20_000, examples)
    model = ml.train(history, seed, similar=history)
    texts = [e.text for e in synthetic(2_000, examples, seed=99)]
    times = []
    for text in texts:
        started = time.perf_counter()
        vector = model.vector(text)
        scores = model.scores(vector)
        model.owner_units(scores, 5)
        model.nearest(vector, 10)
        times.append((time.perf_counter() - started) * 1000)
    return {
        "suggest_p50_ms": round(float(np.percentile(times, 50)), 2),
        "suggest_p99_ms": round(float(np.percentile(times, 99)), 2),
        "similar_index": 20_000,
    }


def cost(tickets: int, examples: list[ml.Example], seed: list[ml.Example]) -> dict[str, Any]:
    history = synthetic(tickets, examples)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    built, figures = training.fit(history, seed)
    seconds = time.perf_counter() - started
    blob = ml.dumps(built)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "tickets": tickets,
        "train_s": round(seconds, 1),
        "peak_rss_mib": round(peak / 1024, 1),
        "rss_before_mib": round(before / 1024, 1),
        "blob_mib": round(len(blob) / 2**20, 1),
        "synthetic_top1": round(figures["top1"]["numerator"] / figures["top1"]["denominator"], 3),
    }


def run(tickets: int = 100_000) -> dict[str, Any]:
    examples, seed = corpus(), catalogue()
    return {
        **accuracy(examples, seed),
        **latency(examples, seed),
        **cost(tickets, examples, seed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args.tickets)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
