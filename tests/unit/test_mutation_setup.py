"""`make mutation`: the Makefile target, mutmut's configuration (which files,
which tests, how many children) and the report that counts what mutmut left."""
import glob
import json
import os
import re
import subprocess
import sys
import tomllib

import pytest

from bench import mutation_report
from tests.conftest import ROOT

REQUIRED = ["services/*/domain.py", "services/*/forms.py", "services/lost_and_found/matching.py"]


def read(name: str) -> str:
    with open(os.path.join(ROOT, name), encoding="utf-8") as handle:
        return handle.read()


@pytest.fixture(scope="module")
def config() -> dict:
    return tomllib.loads(read("pyproject.toml"))["tool"]["mutmut"]


def test_the_mutation_target_runs_mutmut_with_two_children_at_most_then_the_report():
    makefile = read("Makefile")
    recipe = re.search(r"^mutation:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe, "no `mutation` target"
    lines = recipe.group(1).splitlines()
    run = next(line for line in lines if "mutmut run" in line)
    assert re.search(r"--max-children 2\b", run)
    assert "VSC_MUTATION=1" in run  # the root conftest then leaves mutmut's threads unpatched
    assert lines.index(run) < next(i for i, line in enumerate(lines) if "bench/mutation_report.py" in line)
    assert re.search(r"^\.PHONY:.*\bmutation\b", makefile, re.M)


def test_mutmut_mutates_the_deciders_folds_and_matching_and_each_pattern_names_a_file(config):
    patterns = config["only_mutate"]
    assert set(REQUIRED) <= set(patterns)
    for pattern in patterns:
        assert glob.glob(os.path.join(ROOT, pattern)), pattern
    assert all(path.startswith(tuple(config["source_paths"])) for path in patterns)


def test_mutmut_runs_the_unit_tests_only_and_is_pinned_for_the_tests_only(config):
    assert config["pytest_add_cli_args_test_selection"] == ["tests/unit"]
    args = config.get("pytest_add_cli_args", [])
    deselected = [value for option, value in zip(args, args[1:]) if option == "--deselect"]
    for test in deselected:  # a few, each an existing unit test
        assert test.startswith("tests/unit/") and os.path.exists(os.path.join(ROOT, test.split("::")[0]))
    assert len(deselected) <= 3
    test_pins = [line for line in read("requirements-test.lock").splitlines() if line.startswith("mutmut==")]
    assert len(test_pins) == 1 and re.fullmatch(r"mutmut==3\.\d+\.\d+", test_pins[0])
    assert not [line for line in read("requirements.lock").splitlines() if line.startswith("mutmut")]
    assert "mutants/" in read(".gitignore").splitlines()


# -- the report ------------------------------------------------------------------------------------
def write_meta(folder, source: str, exit_codes: dict) -> None:
    path = folder / (source + ".meta")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"exit_code_by_key": exit_codes}), encoding="utf-8")


def test_killed_and_timed_out_mutants_count_as_killed_survivors_and_untested_ones_do_not(tmp_path):
    # given one file with two killed, one timed out, one survivor, one untested and one never run
    write_meta(tmp_path, "services/a/domain.py", {"m.a_1": 1, "m.a_2": 3, "m.a_3": 36, "m.a_4": 0, "m.a_5": 33,
                                                  "m.a_6": None})
    # when the report reads it
    summary = mutation_report.report(str(tmp_path), set())
    # then the run mutants are 5, of which 3 killed
    file = summary["files"]["services/a/domain.py"]
    assert (file["mutants"], file["killed"], file["survived"], file["timeout"], file["no_tests"]) == (5, 3, 2, 1, 1)
    assert file["share"] == round(3 / 5, 4)
    assert summary["survivors"]["services/a/domain.py"] == ["m.a_4", "m.a_5"]


def test_the_overall_share_weighs_every_mutant_alike_and_files_never_run_are_left_out(tmp_path):
    write_meta(tmp_path, "services/a/domain.py", {"m.a_1": 1, "m.a_2": 0})
    write_meta(tmp_path, "services/b/forms.py", {f"m.b_{i}": 1 for i in range(8)})
    write_meta(tmp_path, "services/c/domain.py", {"m.c_1": None})
    summary = mutation_report.report(str(tmp_path), set())
    assert set(summary["files"]) == {"services/a/domain.py", "services/b/forms.py"}
    assert summary["overall"]["mutants"] == 10 and summary["overall"]["share"] == round(9 / 10, 4)


def test_mutants_listed_as_equivalent_in_the_docs_are_left_out_of_the_second_share(tmp_path):
    name = "services.a.domain.x_decide__mutmut_7"
    write_meta(tmp_path, "services/a/domain.py", {name: 0, "services.a.domain.x_decide__mutmut_8": 1})
    docs = tmp_path / "mutation.md"
    docs.write_text(f"- `{name}`: swaps two keys of a dict that is only read by key\n", encoding="utf-8")
    summary = mutation_report.report(str(tmp_path), mutation_report.equivalent_mutants(str(docs)))
    file = summary["files"]["services/a/domain.py"]
    assert (file["share"], file["equivalent"], file["share_without_equivalent"]) == (0.5, 1, 1.0)
    assert "services/a/domain.py" not in summary["survivors"]


def test_the_report_prints_one_json_object_on_its_last_line(tmp_path):
    write_meta(tmp_path, "services/a/domain.py", {"m.a_1": 1, "m.a_2": 0, "m.a_3": 1})
    result = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "mutation_report.py"), "--mutants",
                             str(tmp_path), "--equivalent", str(tmp_path / "none.md")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["overall"]["killed"] == 2 and last["files"]["services/a/domain.py"]["mutants"] == 3


def test_a_rerun_of_the_survivors_adds_its_kills_to_the_earlier_run(tmp_path):
    # given a full run with two survivors, then a rerun of the survivors alone after tests were added
    earlier, rerun = tmp_path / "earlier", tmp_path / "rerun"
    write_meta(earlier, "services/a/domain.py", {"m.a_1": 1, "m.a_2": 0, "m.a_3": 0})
    write_meta(rerun, "services/a/domain.py", {"m.a_1": None, "m.a_2": 1, "m.a_3": 0})
    # when the report reads both
    summary = mutation_report.report(str(rerun), set(), (str(earlier),))
    # then the first run's kill stands, the rerun's kill counts and the last survivor remains
    file = summary["files"]["services/a/domain.py"]
    assert (file["mutants"], file["killed"], file["survived"]) == (3, 2, 1)
    assert summary["survivors"]["services/a/domain.py"] == ["m.a_3"]
