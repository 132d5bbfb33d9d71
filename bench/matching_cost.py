"""Benchmark: what matching costs a command, with few and with many open cases.

Run from the repository root (no broker needed)::

    .venv/bin/python bench/matching_cost.py                       # 200 and 8,000 open reports
    .venv/bin/python bench/matching_cost.py --reports 200 8000 20000 --items 400 --reps 200

For each pool size, one ``CaseIndex`` (the lost_and_found service's read
model) is filled through ``apply`` with that many open lost-item reports
whose loss windows all fall in one busy week (a holiday) and ``--items``
unclaimed items, generated from a seeded mix of realistic Chinese desk text
(kinds of item, colours, brands, stickers and contents, the gazetteer's
places). Then, ``--reps`` times, a new found item is turned in the same week
and its suggestions are asked for, as ``turn_in_by_visitor`` does: the time
of ``apply`` (the item enters the pool) plus ``suggestions("item", id, 5)``
is one turn-in's matching cost; a new report's ``suggestions("report", ...)``
likewise. The pools are measured in turns, side by side (the machine is
shared and noisy). Each new case is removed again, so every repetition sees
the same pool.

With ``--planted FILE`` (cases in the format of ``bench/matching.py``), each
case's report and items are also planted among as many generated open
reports as the largest pool has, in the days around the case, and the case's
expected item asks for its suggestions: does the case's own report still come
first (``planted_top1``, ``planted_top5``)? That is the narrowed candidate
search of a busy window judged on quality, not speed.

Prints one line per pool size, then one JSON object on the last line with the
median and 90th-percentile milliseconds per pool size and
``turn_in_ratio_largest_over_smallest``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
from types import SimpleNamespace

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from services.lost_and_found import matching  # noqa: E402
from services.lost_and_found.case_index import CaseIndex  # noqa: E402

CST = dt.timezone(dt.timedelta(hours=8))
WEEK = dt.datetime(2026, 10, 1, 8, 0, tzinfo=CST)  # National Day week
KINDS = {  # kind: (category, brands, extra words)
    "手机": ("phone", ["苹果", "华为", "小米", "OPPO", "vivo", "三星", "荣耀"], ["手机壳", "透明壳", "无壳", "碎屏"]),
    "钱包": ("wallet", ["LV", "古驰", "蔻驰", ""], ["长款", "短款", "内有身份证", "内有银行卡", "少量现金"]),
    "双肩包": ("bag", ["耐克", "阿迪达斯", "北面", "迪卡侬", ""], ["内有水杯", "内有外套", "拉链坏了", "挂小熊挂件"]),
    "雨伞": ("umbrella", ["天堂", ""], ["长柄", "折叠", "木质伞柄", "伞骨断了一根"]),
    "充电宝": ("electronics", ["罗马仕", "小米", "Anker", "街电"], ["10000mAh", "20000mAh", "带线", "贴了贴纸"]),
    "帽子": ("clothing", ["MLB", "耐克", ""], ["棒球帽", "渔夫帽", "遮阳帽", "NY刺绣"]),
    "保温杯": ("other", ["象印", "膳魔师", "哈尔斯"], ["带提绳", "贴纸", "杯内有茶"]),
    "钥匙": ("key", ["大众", "丰田", ""], ["一串", "车钥匙", "钥匙扣", "挂件"]),
    "身份证": ("document", [""], ["透明卡套", "居民身份证"]),
    "耳机": ("electronics", ["苹果", "华为", "索尼"], ["AirPods", "保护套", "仅左耳", "充电盒"]),
    "相机": ("camera", ["佳能", "尼康", "索尼", "富士"], ["单反", "微单", "背带", "镜头盖"]),
    "外套": ("clothing", ["优衣库", "始祖鸟", ""], ["冲锋衣", "羽绒服", "M码", "L码", "口袋有纸巾"]),
    "墨镜": ("glasses", ["雷朋", "暴龙", ""], ["茶色镜片", "黑框", "眼镜盒"]),
    "手表": ("watch", ["华为", "苹果", "小天才", "天梭"], ["智能手表", "表带磨损", "圆表盘"]),
    "玩具": ("toy", ["乐高", "迪士尼", ""], ["奥特曼", "毛绒兔子", "小汽车", "名字贴纸"]),
}
COLOURS = ["黑色", "白色", "红色", "蓝色", "粉色", "灰色", "绿色", "黄色", "棕色", "紫色", "银色", "深蓝色"]
NAMES = ["浩浩", "朵朵", "乐乐", "小雨", "糖糖", "萌萌", "李", "王", "陈", "刘"]


def generate(rng: random.Random, places: list[str]):
    kind = rng.choice(list(KINDS))
    category, brands, extras = KINDS[kind]
    colour, brand = rng.choice(COLOURS), rng.choice(brands)
    words = rng.sample(extras, k=min(2, len(extras)))
    detail = f"{rng.choice(['贴了', '写着', '刻着'])}'{rng.choice(NAMES)}'"
    return kind, category, f"{colour}{brand}{kind}，{words[0]}", f"{words[-1]}，{detail}", rng.choice(places)


def report_values(report_id, rng, places, start):
    kind, category, description, features, place = generate(rng, places)
    lost_from = start + dt.timedelta(minutes=rng.randrange(0, 7 * 24 * 60))
    return {"report_id": report_id, "item_name": kind, "category": category, "description": description,
            "features": features, "lost_place": place, "lost_from": lost_from,
            "lost_until": lost_from + dt.timedelta(hours=rng.choice([1, 2, 3, 5]))}


def item_values(item_id, rng, places, start):
    kind, category, description, features, place = generate(rng, places)
    return {"item_id": item_id, "item_name": kind, "category": category, "description": description,
            "found_place": place, "found_at": start + dt.timedelta(minutes=rng.randrange(0, 7 * 24 * 60)),
            "hidden_features": [["特征", features]], "short_code": f"LF-{item_id[-6:].upper()}",
            "retain_until": dt.date(2027, 1, 31)}


def build(reports: int, items: int, seed: int, matcher, places) -> CaseIndex:
    rng = random.Random(seed)
    index = CaseIndex(matcher)
    for n in range(reports):
        index.apply(SimpleNamespace(type="LostItemReported"), report_values(f"r{n:06}", rng, places, WEEK))
    for n in range(items):
        index.apply(SimpleNamespace(type="FoundItemTurnedIn"), item_values(f"i{n:06}", rng, places, WEEK))
    return index


def one_turn_in(index: CaseIndex, values: dict) -> float:
    started = time.perf_counter()
    index.apply(SimpleNamespace(type="FoundItemTurnedIn"), values)
    index.suggestions("item", values["item_id"], 5)
    elapsed = time.perf_counter() - started
    index.pool.remove(matching.ITEM, values["item_id"])
    del index.open_items[values["item_id"]]
    return elapsed * 1000


def one_report(index: CaseIndex, values: dict) -> float:
    started = time.perf_counter()
    index.apply(SimpleNamespace(type="LostItemReported"), values)
    index.suggestions("report", values["report_id"], 5)
    elapsed = time.perf_counter() - started
    index.pool.remove(matching.REPORT, values["report_id"])
    del index.open_reports[values["report_id"]]
    return elapsed * 1000


def planted(path: str, reports: int, seed: int, matcher, places) -> dict:
    """Each case of ``path`` among ``reports`` generated open reports: the rank
    of the case's report in its expected item's suggestions."""
    ranks = []
    with open(path, encoding="utf-8") as handle:
        cases = [json.loads(line) for line in handle if line.strip()]
    for case in cases:
        report = case["report"]
        lost_from = dt.datetime.fromisoformat(report["lost_from"])
        rng = random.Random(seed)
        pool = matching.MatchPool(matcher)
        for n in range(reports):
            values = report_values(f"generated-{n:06}", rng, places, lost_from - dt.timedelta(days=3))
            pool.add_report(matching.LostReportCase(*(values[key] for key in (
                "report_id", "item_name", "category", "description", "features", "lost_place", "lost_from",
                "lost_until"))))
        for item in case["pool"]:
            pool.add_item(matching.FoundItemCase(item["ref"], item["item_name"], item["category"], item["description"],
                                                 item["found_place"], dt.datetime.fromisoformat(item["found_at"]),
                                                 tuple(map(tuple, item["hidden_features"]))))
        pool.add_report(matching.LostReportCase(
            "the-report", report["item_name"], report["category"], report["description"], report["features"],
            report["lost_place"], lost_from, dt.datetime.fromisoformat(report["lost_until"])))
        ranked = [s.id for s in pool.suggest(matching.ITEM, case["expected"], 10)]
        rank = ranked.index("the-report") + 1 if "the-report" in ranked else None
        ranks.append(rank)
        if rank != 1:
            print(f"planted {case['id']}: the report ranks {rank or 'below 10'}", flush=True)
    return {"planted_cases": len(ranks), "planted_among": reports,
            "planted_top1": round(sum(rank == 1 for rank in ranks) / len(ranks), 4),
            "planted_top5": round(sum(rank is not None and rank <= 5 for rank in ranks) / len(ranks), 4)}


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, nargs="+", default=[200, 8000])
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--planted", help="cases file (bench/matching.py format) to plant in the largest pool")
    args = parser.parse_args(argv)

    matcher = matching.load_matcher()
    places = sorted({place.name for place in matcher.gazetteer.places.values()}
                    | {alias for place in matcher.gazetteer.places.values() for alias in place.aliases[:2]})
    started = time.perf_counter()
    indexes = {size: build(size, args.items, args.seed, matcher, places) for size in args.reports}
    build_seconds = time.perf_counter() - started
    rng = random.Random(args.seed + 1)
    turn_in = {size: [] for size in args.reports}
    report = {size: [] for size in args.reports}
    candidates = {size: [] for size in args.reports}
    gc.collect()
    for rep in range(args.reps):
        new_item = item_values(f"new-item-{rep}", rng, places, WEEK)
        new_report = report_values(f"new-report-{rep}", rng, places, WEEK)
        order = args.reports if rep % 2 == 0 else list(reversed(args.reports))
        for size in order:  # the same case against every pool, in turns
            turn_in[size].append(one_turn_in(indexes[size], new_item))
            report[size].append(one_report(indexes[size], new_report))
            pool = indexes[size].pool
            probe = matcher.item_profile(matching.FoundItemCase(
                new_item["item_id"], new_item["item_name"], new_item["category"], new_item["description"],
                new_item["found_place"], new_item["found_at"]))
            candidates[size].append(len(pool.candidates(probe)))
    result = {"items": args.items, "reps": args.reps, "seed": args.seed,
              "build_seconds": round(build_seconds, 1), "python": platform.python_version(),
              "machine": platform.machine(), "cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 2)}
    for size in args.reports:
        result[f"turn_in_p50_ms_{size}"] = round(statistics.median(turn_in[size]), 3)
        result[f"turn_in_p90_ms_{size}"] = round(percentile(turn_in[size], 0.9), 3)
        result[f"report_p50_ms_{size}"] = round(statistics.median(report[size]), 3)
        result[f"report_p90_ms_{size}"] = round(percentile(report[size], 0.9), 3)
        result[f"scored_candidates_p50_{size}"] = statistics.median(candidates[size])
        print(f"{size:>7} open reports: turn-in p50 {result[f'turn_in_p50_ms_{size}']:.2f} ms "
              f"p90 {result[f'turn_in_p90_ms_{size}']:.2f} ms, report p50 {result[f'report_p50_ms_{size}']:.2f} ms, "
              f"candidates scored for a turn-in p50 {result[f'scored_candidates_p50_{size}']}", flush=True)
    smallest, largest = min(args.reports), max(args.reports)
    result["turn_in_ratio_largest_over_smallest"] = round(
        result[f"turn_in_p50_ms_{largest}"] / result[f"turn_in_p50_ms_{smallest}"], 2)
    result["report_ratio_largest_over_smallest"] = round(
        result[f"report_p50_ms_{largest}"] / result[f"report_p50_ms_{smallest}"], 2)
    if args.planted:
        result |= planted(args.planted, max(args.reports), args.seed, matcher, places)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
