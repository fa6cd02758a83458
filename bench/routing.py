"""Benchmark of ticket routing: grid lookup by point and place lookup by address text.

Usage: ``python bench/routing.py [--grids 50000] [--names 50000] [--seconds 3] [--json out.json]``

* Grids: a jittered lattice around lon 123.4, lat 42.5 (法库县), each cell an irregular octagon
  (jittered corners plus a jittered midpoint on every edge, shared with the neighbour).  Random
  points over the extent are located one call at a time; a sample is checked against a
  brute-force STRtree answer, whose own rate is reported as the naive baseline.
* Names: a county → township → village → grid tree whose names plus aliases total ``--names``,
  with ~5% of grid names reused by another village.  ``match`` runs over ~30-character addresses
  such as "辽宁省沈阳市法库县XX镇YY村ZZ小区3号楼2单元" in several phrasings.

``run(grids, names)`` returns the figures as a dict for other scripts.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hotline.routing.address import AddressMatcher, Place
from hotline.routing.geo import GridIndex

LON0, LAT0, STEP = 123.4, 42.5, 0.003  # ~250-330 m cells
CHARS = "东南西北中新老大小长平安和兴福旺春秋金银山河湖林松柏桃李杨柳家城屯堡营台岗沟湾庄店桥"
CHARS += "前后上下红绿青白黄石泉井龙凤鹤鸣阳光明丰裕富康宁泰华盛德仁义礼智信忠孝文武"


def make_grids(count: int, seed: int = 7) -> list[tuple[str, shapely.Polygon]]:
    rng = np.random.default_rng(seed)
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    # Jitter small enough that every octagon stays simple (valid) without checking.
    jx = rng.uniform(-0.15, 0.15, (cols + 1, rows + 1)) * STEP
    jy = rng.uniform(-0.15, 0.15, (cols + 1, rows + 1)) * STEP
    vx = LON0 + np.arange(cols + 1)[:, None] * STEP + jx
    vy = LAT0 + np.arange(rows + 1)[None, :] * STEP + jy
    # Edge midpoints, jittered across the edge; each is shared by the two grids on either side.
    hx = (vx[:-1] + vx[1:]) / 2
    hy = (vy[:-1] + vy[1:]) / 2 + rng.uniform(-0.1, 0.1, (cols, rows + 1)) * STEP
    wx = (vx[:, :-1] + vx[:, 1:]) / 2 + rng.uniform(-0.1, 0.1, (cols + 1, rows)) * STEP
    wy = (vy[:, :-1] + vy[:, 1:]) / 2
    grids = []
    for n in range(count):
        i, j = divmod(n, rows)
        ring = [
            (vx[i, j], vy[i, j]),
            (hx[i, j], hy[i, j]),
            (vx[i + 1, j], vy[i + 1, j]),
            (wx[i + 1, j], wy[i + 1, j]),
            (vx[i + 1, j + 1], vy[i + 1, j + 1]),
            (hx[i, j + 1], hy[i, j + 1]),
            (vx[i, j + 1], vy[i, j + 1]),
            (wx[i, j], wy[i, j]),
        ]
        grids.append((f"210124{i:04d}{j:04d}", shapely.Polygon(ring)))
    return grids


def make_places(count: int, seed: int = 7) -> tuple[list[Place], list[tuple[Place, ...]]]:
    """Places with ``count`` names+aliases, and the (town, village, grid) chains of every grid."""
    rnd = random.Random(seed)
    seen: set[str] = set()

    def fresh() -> str:
        while True:
            root = "".join(rnd.choices(CHARS, k=2 if rnd.random() < 0.3 else 3))
            if root not in seen:
                seen.add(root)
                return root

    places = [Place("210124", "法库县", 0, None, ("法库",))]
    towns = [Place(f"T{t:02d}", (r := fresh()) + "镇", 1, "210124", (r,)) for t in range(20)]
    places += towns
    villages = [
        Place(f"{town.code}V{v:02d}", fresh() + "村", 2, town.code)
        for town in towns
        for v in range(30)
    ]
    places += villages
    names = 2 + 2 * len(towns) + len(villages)
    chains: list[tuple[Place, ...]] = []
    town_of = {t.code: t for t in towns}
    used: list[str] = []
    aliases: tuple[str, ...]
    while names < count:
        village = villages[len(chains) % len(villages)]
        if used and rnd.random() < 0.05:
            name, aliases = rnd.choice(used), ()  # reused name: adds no new key
        else:
            root = fresh()
            name = root + rnd.choice(("小区", "花园", "家园", "新城"))
            aliases = (root + "网格",) if names + 1 < count else ()
            used.append(name)
            names += 1 + len(aliases)
        grid = Place(f"{village.code}G{len(chains):05d}", name, 3, village.code, aliases)
        places.append(grid)
        chains.append((town_of[village.parent_code or ""], village, grid))
    return places, chains


def make_addresses(
    chains: Sequence[tuple[Place, ...]], count: int, seed: int = 7
) -> list[tuple[str, str]]:
    """(address, code of the grid it was written for) pairs."""
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        town, village, grid = rnd.choice(chains)
        place = rnd.choice((grid.name, *grid.aliases))
        room = f"{rnd.randint(1, 30)}号楼{rnd.randint(1, 6)}单元{rnd.randint(101, 1802)}室"
        text = rnd.choice(
            (
                f"辽宁省沈阳市法库县{town.name}{village.name}{place}{room}",
                f"沈阳市法库县{town.name}{place}{room}楼道灯不亮",
                f"法库县{village.name}{place}东门外垃圾没人清运",
                f"辽宁沈阳法库{town.aliases[0]}{place}{room}漏水",
            )
        )
        out.append((text, grid.code))
    return out


def rate(batch: Callable[[], int], seconds: float) -> float:
    """Calls per second of ``batch`` (which makes single calls and returns how many), repeated
    for about ``seconds``."""
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        done += batch()
    return done / elapsed


def run(grids: int, names: int, seconds: float = 3.0) -> dict[str, Any]:
    polygons = make_grids(grids)
    start = time.perf_counter()
    index = GridIndex(polygons)
    build = time.perf_counter() - start
    rnd = random.Random(1)
    cols = math.ceil(math.sqrt(grids))
    span_x, span_y = cols * STEP, math.ceil(grids / cols) * STEP
    points = [(LON0 + rnd.random() * span_x, LAT0 + rnd.random() * span_y) for _ in range(50_000)]

    def locate_all() -> int:
        for lon, lat in points:
            index.locate(lon, lat)
        return len(points)

    locate = rate(locate_all, seconds)
    tree = shapely.STRtree([geom for _, geom in polygons])
    codes = [code for code, _ in polygons]

    def naive(point: tuple[float, float]) -> str | None:
        hits = tree.query(shapely.Point(point), predicate="intersects")
        return min((codes[i] for i in hits.tolist()), default=None)

    sample = points[:5_000]
    mismatches = sum(index.locate(*p) != naive(p) for p in sample)

    def naive_all() -> int:
        for point in sample:
            naive(point)
        return len(sample)

    naive_rate = rate(naive_all, min(seconds, 1.0))

    places, chains = make_places(names)
    start = time.perf_counter()
    matcher = AddressMatcher(places)
    match_build = time.perf_counter() - start
    written = make_addresses(chains, 20_000)
    addresses = [text for text, _ in written]

    def match_all() -> int:
        for address in addresses:
            matcher.match(address)
        return len(addresses)

    match = rate(match_all, seconds)
    results = [(matcher.match(text), code) for text, code in written[:5_000]]
    return {
        "grids": len(index),
        "grid_build_s": round(build, 3),
        "locate_per_s": round(locate),
        "naive_strtree_per_s": round(naive_rate),
        "locate_mismatches": f"{mismatches}/{len(sample)}",
        "names": len(matcher),
        "places": len(places),
        "matcher_build_s": round(match_build, 3),
        "match_per_s": round(match),
        "avg_address_chars": round(sum(map(len, addresses)) / len(addresses), 1),
        "decided_right_share": round(sum(r.code == c for r, c in results) / len(results), 3),
        "decided_wrong_share": round(
            sum(r.code not in (None, c) for r, c in results) / len(results), 3
        ),
        "ambiguous_share": round(sum(r.ambiguous for r, _ in results) / len(results), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=50_000)
    parser.add_argument("--names", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=3.0, help="per throughput measurement")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures = run(args.grids, args.names, args.seconds)
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value:>12}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
