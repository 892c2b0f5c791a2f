"""Gradescope autograder: the zip, run_autograder on a fake /autograder tree, results.json."""

import json
import os
import subprocess
import sys
import zipfile
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from symderiv.cli import main
from symderiv.platforms.gradescope import export_gradescope, rounded_shares
from symderiv.platforms.gradescope_grade import variant_for

ROOT = Path(__file__).resolve().parent.parent

KEY = """
[meta]
title = "Sigmoid"

[[problem]]
id = "1"
kind = "derivative"
points = 2
statement = "Differentiate $\\\\sigma(x)$ and find its limits at $\\\\pm\\\\infty$."
functions = ["sigmoid"]
limits = ["+oo", "-oo"]
"""

ANSWERS = """
[answers]
"1/sigmoid.derivative" = "sigmoid(x)*(1 - sigmoid(x))"
"1/sigmoid.limit(+oo)" = "1"
"1/sigmoid.limt(-oo)" = "0"
"""

TEST_KEYS = {"name", "number", "score", "max_score", "status", "output", "output_format",
             "visibility"}


def _autograder(tmp_path, key_path, answers: str | None, **options) -> tuple[dict, dict]:
    """Unpack the zip as /autograder/source in a temp dir, submit, run run_autograder."""
    result = export_gradescope(key_path, **options)
    ((name, data),) = result.files.items()
    root = tmp_path / "autograder"
    source = root / "source"
    source.mkdir(parents=True)
    archive = tmp_path / name
    archive.write_bytes(data)
    with zipfile.ZipFile(archive) as z:
        z.extractall(source)
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    (root / "submission").mkdir()
    if answers is not None:
        (root / "submission" / "answers.toml").write_text(answers, encoding="utf-8")
    (root / "submission_metadata.json").write_text(json.dumps(
        {"users": [{"email": "s@example.edu", "sid": "1234", "name": "S"}]}), encoding="utf-8")
    env = dict(os.environ, SYMDERIV_AUTOGRADER_ROOT=str(root), SYMDERIV_PYTHON=sys.executable)
    env.pop("PYTHONPATH", None)  # symderiv must come from the zip
    run = subprocess.run(["bash", str(source / "run_autograder")], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    return results, config


def _valid(results: dict) -> None:
    assert isinstance(results["score"], float) and isinstance(results["output"], str)
    for number, test in enumerate(results["tests"]):
        assert set(test) == TEST_KEYS
        assert test["status"] in ("passed", "failed") and test["output_format"] == "md"
        assert 0 <= test["score"] <= test["max_score"]
    assert results["score"] == round(sum(t["score"] for t in results["tests"]), 4)


@pytest.mark.slow  # about 4 s: a fresh Python solves and grades (the quick loop runs the two below)
def test_run_autograder_on_a_fake_tree(tmp_path, write_toml):
    key = write_toml(KEY, "sigmoid.toml")
    results, config = _autograder(tmp_path, key, ANSWERS)
    _valid(results)
    tests = {t["name"]: t for t in results["tests"]}
    assert list(tests) == ["1/sigmoid.derivative", "1/sigmoid.limit(+oo)", "1/sigmoid.limit(-oo)"]
    assert [t["number"] for t in results["tests"]] == ["1.1", "1.2", "1.3"]
    # the problem's 2 points split over its 3 labels, adding up to the total
    assert [t["max_score"] for t in results["tests"]] == [0.6667, 0.6667, 0.6666]
    assert round(sum(t["max_score"] for t in results["tests"]), 4) == 2.0
    assert config["variants"]["1"]["total"] == 2.0
    assert tests["1/sigmoid.derivative"]["status"] == "passed"
    assert tests["1/sigmoid.derivative"]["score"] == 0.6667
    assert tests["1/sigmoid.limit(+oo)"]["status"] == "failed"
    assert tests["1/sigmoid.limit(+oo)"]["output"].startswith("**incorrect**")
    assert "the key: `0`" in tests["1/sigmoid.limit(+oo)"]["output"]
    assert tests["1/sigmoid.limit(-oo)"]["output"].startswith("**missing**")
    assert results["score"] == 0.6667
    # feedback reveals the key: after the due date by default
    assert {t["visibility"] for t in results["tests"]} == {"after_due_date"}
    # an unknown label is named in the top-level output, with the nearest label
    assert "1/sigmoid.limt(-oo)" in results["output"]
    assert "did you mean 1/sigmoid.limit(-oo)?" in results["output"]


def test_visibility_and_missing_file(tmp_path, write_toml):
    key = write_toml(KEY, "sigmoid.toml")
    results, _ = _autograder(tmp_path, key, None, visibility="visible")
    _valid(results)
    assert [(t["name"], t["max_score"], t["status"]) for t in results["tests"]] == [
        ("1/sigmoid.derivative", 0.6667, "failed"), ("1/sigmoid.limit(+oo)", 0.6667, "failed"),
        ("1/sigmoid.limit(-oo)", 0.6666, "failed")]
    assert results["score"] == 0.0
    assert "Submit one answers file (answers.toml)" in results["output"]
    assert {t["visibility"] for t in results["tests"]} == {"visible"}
    assert {t["score"] for t in results["tests"]} == {0.0}


def test_bad_answers_file_is_reported(tmp_path, write_toml):
    key = write_toml(KEY, "sigmoid.toml")
    results, _ = _autograder(tmp_path, key, "[answers\n")
    assert results["score"] == 0.0
    assert results["output"].startswith("Your answers file could not be read: ")


def test_variant_of_a_student():
    config = {"variants": {"1": {}, "2": {}}, "students": {"1234": "2"}}
    assert variant_for(config, "1234") == "2"
    assert variant_for(config, "999") is None  # never a guess
    assert variant_for({"variants": {"1": {}}, "students": {}}, "999") == "1"


def test_rounded_shares_add_up():
    shares = rounded_shares([Fraction(10, 7)] * 7)
    assert round(sum(shares), 4) == 10.0 and set(shares) == {1.4286, 1.4285}
    assert rounded_shares([Fraction(1)] * 3) == [1.0, 1.0, 1.0]


def test_zip_is_deterministic_and_cli(tmp_path, write_toml):
    key = write_toml(KEY, "sigmoid.toml")
    out = tmp_path / "out"
    runner = CliRunner()
    first = runner.invoke(main, ["export", "gradescope", str(key), "-o", str(out)])
    assert first.exit_code == 0, first.output
    data = (out / "sigmoid-gradescope.zip").read_bytes()
    assert runner.invoke(main, ["export", "gradescope", str(key), "-o", str(out)]).exit_code == 0
    assert (out / "sigmoid-gradescope.zip").read_bytes() == data
    with zipfile.ZipFile(out / "sigmoid-gradescope.zip") as z:
        names = z.namelist()
        assert names == sorted(names)
        assert {"setup.sh", "run_autograder", "grade.py", "config.json", "requirements.txt",
                "key/1/sigmoid.toml", "symderiv/check/__init__.py",
                "templates/document.tex.j2"} <= set(names)
        assert {i.date_time for i in z.infolist()} == {(2020, 1, 1, 0, 0, 0)}
        assert "sympy==" in z.read("requirements.txt").decode()


@pytest.mark.slow
def test_seed_student_on_gradescope(tmp_path):
    results, config = _autograder(tmp_path, ROOT / "problems" / "ama564_a1.toml",
                                  (ROOT / "problems" / "submissions" /
                                   "ama564_a1_student.toml").read_text(encoding="utf-8"))
    _valid(results)
    assert round(sum(t["max_score"] for t in results["tests"]), 4) == 10.0
    # the counted labels (issue 15's points): 1a's 9, 1b's output and 4 gradients, 2, 3
    assert len(results["tests"]) == 16
    passed = sum(t["status"] == "passed" for t in results["tests"])
    # as `symderiv check` counts for the seed student: 1a 2.33/3, 1b 3/3, 2 2/2, 3 2/2
    assert passed == 14
    assert results["score"] == pytest.approx(9.3333, abs=2e-4)
