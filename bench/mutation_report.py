"""The share of mutants killed, per file and overall, from what `mutmut run`
left in ``mutants/`` (one ``<file>.meta`` JSON beside each mutated file:
``exit_code_by_key`` maps each mutant to its tests' exit code).

    python bench/mutation_report.py [--mutants DIR] [--equivalent docs/mutation.md]
                                    [--earlier DIR]... [--survivors]

A mutant counts as killed when its tests failed (exit 1 or 3) or it made
them hang (a timeout); it survived when they passed or when no test covers
it (no tests). Mutants never run (a partial run) are left out. The mutants
listed in ``--equivalent`` (backticked names in docs/mutation.md) cannot
change behaviour: ``share_without_equivalent`` leaves them out. ``--earlier``
adds the results of an earlier run of the same code (a rerun of its survivors
after tests were added): a mutant killed in either run is killed.

Prints a table, then one JSON object on its last line.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# mutmut 3's exit codes (mutmut/stats.py), grouped as this report counts them
KILLED = {1: "killed", 3: "killed", 36: "timeout", -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout",
          -11: "segfault", -9: "segfault", 37: "caught by type check"}
SURVIVED = {0: "survived", 5: "no tests", 33: "no tests"}
NOT_RUN = {None: "not checked", 2: "interrupted", 34: "skipped"}
MUTANT_NAME = re.compile(r"`(services\.[\w.ǁ]+__mutmut_\d+)`")


def status(exit_code) -> str:
    for table in (KILLED, SURVIVED, NOT_RUN):
        if exit_code in table:
            return table[exit_code]
    return "suspicious"  # anything else: counted as survived


def equivalent_mutants(path: str | None) -> set[str]:
    if not path or not os.path.exists(path):
        return set()
    with open(path, encoding="utf-8") as handle:
        return set(MUTANT_NAME.findall(handle.read()))


def merge(runs: list[dict[str, dict[str, object]]]) -> dict[str, dict[str, object]]:
    """Several runs' results as one, later runs first: a mutant killed in any
    run is killed (tests were only added between runs, the code not changed),
    otherwise the last run that checked it says what it is."""
    merged: dict[str, dict[str, object]] = {}
    for results in runs:
        for source, exit_codes in results.items():
            into = merged.setdefault(source, {})
            for mutant, exit_code in exit_codes.items():
                if exit_code in NOT_RUN or into.get(mutant) in KILLED:
                    into.setdefault(mutant, exit_code)
                else:
                    into[mutant] = exit_code
    return merged


def read_results(mutants_dir: str) -> dict[str, dict[str, object]]:
    """{source file: {mutant name: exit code}} for every mutated file."""
    results = {}
    for folder, _dirs, files in os.walk(mutants_dir):
        for name in sorted(files):
            if not name.endswith(".py.meta"):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as handle:
                meta = json.load(handle)
            source = os.path.relpath(path, mutants_dir)[:-len(".meta")].replace(os.sep, "/")
            results[source] = meta.get("exit_code_by_key", {})
    return results


def summarise(exit_codes: dict[str, object], equivalent: set[str]) -> dict | None:
    """Counts and shares of one file's mutants; None when none was run."""
    counts: dict[str, int] = {}
    survivors, equivalent_here = [], 0
    for mutant, exit_code in exit_codes.items():
        kind = status(exit_code)
        if kind in NOT_RUN.values():
            continue
        counts[kind] = counts.get(kind, 0) + 1
        if exit_code in KILLED:
            continue
        if mutant in equivalent:
            equivalent_here += 1
        else:
            survivors.append(mutant)
    run = sum(counts.values())
    if not run:
        return None
    killed = sum(n for kind, n in counts.items() if kind in KILLED.values())
    return {"mutants": run, "killed": killed, "survived": run - killed, "equivalent": equivalent_here,
            "timeout": counts.get("timeout", 0), "no_tests": counts.get("no tests", 0), "counts": counts,
            "share": round(killed / run, 4),
            "share_without_equivalent": round(killed / (run - equivalent_here), 4) if run > equivalent_here else 1.0,
            "survivors": sorted(survivors)}


def report(mutants_dir: str, equivalent: set[str], earlier: tuple = ()) -> dict:
    files = {}
    results = merge([read_results(folder) for folder in (*earlier, mutants_dir)])
    for source, exit_codes in sorted(results.items()):
        summary = summarise(exit_codes, equivalent)
        if summary is not None:
            files[source] = summary
    total = {key: sum(f[key] for f in files.values())
             for key in ("mutants", "killed", "survived", "equivalent", "timeout", "no_tests")}
    total["share"] = round(total["killed"] / total["mutants"], 4) if total["mutants"] else 0.0
    rest = total["mutants"] - total["equivalent"]
    total["share_without_equivalent"] = round(total["killed"] / rest, 4) if rest else 1.0
    return {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "files": {source: {key: value for key, value in f.items() if key != "survivors"}
                      for source, f in files.items()},
            "overall": total, "survivors": {source: f["survivors"] for source, f in files.items() if f["survivors"]}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", default=os.path.join(ROOT, "mutants"), help="mutmut's mutants/ folder")
    parser.add_argument("--equivalent", default=os.path.join(ROOT, "docs", "mutation.md"),
                        help="a file naming the equivalent mutants in backticks")
    parser.add_argument("--earlier", action="append", default=[],
                        help="the mutants/ folder (or its .meta files) of an earlier run of the same code: "
                             "its kills count too")
    parser.add_argument("--survivors", action="store_true", help="list the surviving mutants' names")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.mutants):
        print(f"no {args.mutants}: run `make mutation` first", file=sys.stderr)
        return 2
    result = report(args.mutants, equivalent_mutants(args.equivalent), tuple(args.earlier))
    print(f"{'file':48} {'mutants':>8} {'killed':>7} {'survived':>9} {'equiv.':>7} {'timeout':>8} {'share':>7}")
    for source, f in list(result["files"].items()) + [("overall", result["overall"])]:
        print(f"{source:48} {f['mutants']:8d} {f['killed']:7d} {f['survived']:9d} {f['equivalent']:7d} "
              f"{f['timeout']:8d} {f['share']:7.1%}")
    if args.survivors:
        for source, names in result["survivors"].items():
            print(f"\n{source}:")
            for name in names:
                print(f"  {name}")
    if not args.survivors:
        result = {key: value for key, value in result.items() if key != "survivors"}
    print(json.dumps(result, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
