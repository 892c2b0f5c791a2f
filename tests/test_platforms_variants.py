"""Every exporter takes a list of variants: with two (as issue 15 will give), each platform
holds both, where it draws from (a Moodle category, a Canvas group, variant_seed, config)."""

import io
import json
import xml.etree.ElementTree as ET
import zipfile

import pytest

import symderiv.platforms as platforms
from symderiv.platforms import Variant
from symderiv.solve import solve_set
from symderiv.spec import load

KEY = """
[meta]
title = "One gate"

[[problem]]
id = "g1"
kind = "graph"
points = 2
statement = "Let $f = 3 x^2$. Find $\\\\partial f/\\\\partial x$ at $x = {x}$."
inputs = ["x"]
output = "f"
wrt = ["x"]
[problem.nodes]
f = "3*x**2"
[problem.values]
x = {x}
"""


@pytest.fixture
def two_variants(write_toml, monkeypatch):
    first = write_toml(KEY.format(x=2), "gate.toml")
    second = write_toml(KEY.format(x=3), "gate-v2.toml")

    def variants(path, problem_set, solutions):
        other = load(second)
        return [Variant("1", problem_set, tuple(solutions)),
                Variant("2", other, tuple(solve_set(other, None)))]

    monkeypatch.setattr(platforms, "variants", variants)
    return first


def test_moodle_category_holds_both(two_variants):
    from symderiv.platforms.moodle import export_moodle

    (data,) = export_moodle(two_variants).files.values()
    quiz = ET.fromstring(data)
    kinds = [q.get("type") for q in quiz.findall("question")]
    assert kinds == ["category", "stack", "stack"]
    names = [q.find("name/text").text for q in quiz.findall("question[@type='stack']")]
    assert names == ["g1: Question g1 (variant 1)", "g1: Question g1 (variant 2)"]
    tas = [q.find("questionvariables/text").text for q in quiz.findall("question[@type='stack']")]
    # the value at x, the derivative, and the node's output (a graph publishes every node's)
    assert tas == ["ta1: 12;\nta2: 6*x;\nta3: 3*x^2;", "ta1: 18;\nta2: 6*x;\nta3: 3*x^2;"]
    texts = [q.find("questiontext/text").text for q in quiz.findall("question[@type='stack']")]
    assert r"at \(x = 2\)" in texts[0] and r"at \(x = 3\)" in texts[1]


def test_canvas_group_holds_both(two_variants):
    from symderiv.platforms.canvas import export_canvas

    (data,) = export_canvas(two_variants).files.values()
    archive = zipfile.ZipFile(io.BytesIO(data))
    (name,) = [n for n in archive.namelist() if n != "imsmanifest.xml"]
    q = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
    (group,) = ET.fromstring(archive.read(name)).find(f".//{q}section").findall(f"{q}section")
    assert group.find(f".//{q}selection_number").text == "1"
    items = group.findall(f"{q}item")
    # one item per variant, its answers (the value, the derivative, the node's output) as blanks
    firsts = [[m.text for m in lid.iter(f"{q}mattext")][1]
              for i in items for lid in i.iter(f"{q}response_lid")]
    assert firsts == ["12", "6*x", "3*x**2", "18", "6*x", "3*x**2"]


def test_prairielearn_seed_picks_the_variant(two_variants, tmp_path):
    import importlib.util

    from symderiv.platforms.prairielearn import export_prairielearn

    files = export_prairielearn(two_variants).files
    (server,) = [k for k in files if k.endswith("server.py")]
    path = tmp_path / "server.py"
    path.write_bytes(files[server])
    spec = importlib.util.spec_from_file_location("gate_server", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    got = []
    for seed in (0, 1, 2, 3):
        data = {"params": {}, "correct_answers": {}, "variant_seed": seed}
        module.generate(data)
        got.append((data["params"]["variant"], data["correct_answers"]["ans1"]))
    assert got == [("1", 12.0), ("2", 18.0), ("1", 12.0), ("2", 18.0)]
    info = json.loads(files[server.replace("server.py", "info.json")])
    assert info["singleVariant"] is False


def test_gradescope_config_has_both(two_variants):
    from symderiv.platforms.gradescope import export_gradescope

    (data,) = export_gradescope(two_variants).files.values()
    archive = zipfile.ZipFile(io.BytesIO(data))
    config = json.loads(archive.read("config.json"))
    assert sorted(config["variants"]) == ["1", "2"]
    assert config["variants"]["2"]["key"] == "key/2/gate-v2.toml"
    assert b"x = 3" in archive.read("key/2/gate-v2.toml")
    assert [t["max_score"] for t in config["variants"]["2"]["tests"]] == [0.6667, 0.6667, 0.6666]


# ---------------------------------------------------------------------------------------------
# issue 15's variants: `symderiv export <platform> KEY --n 3` on the AMA564 assignment

import re
from fractions import Fraction
from pathlib import Path

import sympy as sp
from click.testing import CliRunner

from symderiv.cli import main

AMA = Path(__file__).resolve().parent.parent / "problems" / "ama564_a1.toml"
IDS = ["v01", "v02", "v03"]
NET = ["forward.yhat", "grad.W2", "grad.b2", "grad.W1", "grad.b1"]  # what 1(b) asks for
Q = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"


def _numbers(value) -> list[Fraction]:
    """The entries of a JSON key's value (a sympy string), row by row."""
    v = sp.parse_expr(value["sympy"])
    entries = list(v) if isinstance(v, sp.MatrixBase) else [v]
    return [Fraction(str(sp.Rational(e))) for e in entries]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The 3 variants' JSON keys (`symderiv variants --n 3`) and every platform's export with
    --n 3, twice."""
    tmp = tmp_path_factory.mktemp("ama")
    runner = CliRunner()
    made = runner.invoke(main, ["variants", str(AMA), "--n", "3", "-o", str(tmp / "variants")])
    assert made.exit_code == 0, made.output
    keys = {}
    for vid in IDS:
        data = json.loads((tmp / "variants" / vid / "ama564_a1-key.json").read_text())
        keys[vid] = {p["id"]: p["answers"] for p in data["problems"]}
    return keys, [_export_all(tmp / "a")], tmp


def _export_all(tmp) -> dict[str, bytes]:
    runner = CliRunner()
    files = {}
    for platform in ("moodle", "canvas", "prairielearn", "gradescope"):
        out = tmp / platform
        result = runner.invoke(main, ["export", platform, str(AMA), "--n", "3", "-o", str(out)])
        assert result.exit_code == 0, result.output
        files.update({p.relative_to(out).as_posix(): p.read_bytes()
                      for p in out.rglob("*") if p.is_file()})
    return files


@pytest.mark.slow
def test_the_variants_differ(exported):
    keys, _, _ = exported
    yhats = [_numbers(keys[v]["1b"]["forward.yhat"]) for v in IDS]
    assert len({tuple(y) for y in yhats}) == 3


@pytest.mark.slow
def test_exports_are_deterministic(exported, tmp_path):
    _, (first,), _ = exported
    from symderiv import memo

    memo.clear()  # solve every variant again, not from the cache
    second = _export_all(tmp_path)
    assert sorted(first) == sorted(second) and len(first) > 5
    assert all(first[k] == second[k] for k in first)


@pytest.mark.slow
def test_moodle_category_holds_the_three_variants(exported):
    keys, (files,), _ = exported
    quiz = ET.fromstring(files["ama564_a1-moodle.xml"])
    questions = quiz.findall("question")
    categories = [q.find("category/text").text for q in questions if q.get("type") == "category"]
    assert categories == ["$course$/top/AMA564 Assignment 1/1a Question 1(a): derivatives of "
                          "activation functions", "$course$/top/AMA564 Assignment 1/1b Question "
                          "1(b): forward pass and back-propagation", "$course$/top/AMA564 "
                          "Assignment 1/3 Question 3: gradient descent on an L-smooth function"]
    # 1(b) varies: its 3 variants; 1(a) and 3 do not: one question each, not 3 copies
    names = [q.find("name/text").text[:3] for q in questions if q.get("type") != "category"]
    assert names == ["1a:", "1b:", "1b:", "1b:", "3: "]
    assert questions[1].find("name/text").text == \
        "1a: Question 1(a): derivatives of activation functions"  # no variant: it does not vary
    net = [q for q in questions if q.get("type") == "stack"
           and q.find("name/text").text.startswith("1b:")]
    assert [q.find("name/text").text[-5:-1] for q in net] == [" v01", " v02", " v03"]
    for vid, question in zip(IDS, net):
        lines = question.find("questionvariables/text").text.splitlines()
        assert len(lines) == len(NET)
        for line, label in zip(lines, NET):  # "ta2: matrix([0, 13/10]);"
            got = [Fraction(n) for n in re.findall(r"-?\d+(?:/\d+)?", line.split(":", 1)[1])]
            assert got == _numbers(keys[vid]["1b"][label]), (vid, label)
        # the variant's own statement
        assert question.find("questionnote/text").text == f"1b variant {vid}"


def test_canvas_group_draws_one_of_the_three(exported):
    keys, (files,), _ = exported
    archive = zipfile.ZipFile(io.BytesIO(files["ama564_a1-canvas-qti.zip"]))
    (name,) = [n for n in archive.namelist() if n != "imsmanifest.xml"]
    groups = ET.fromstring(archive.read(name)).find(f".//{Q}section").findall(f"{Q}section")
    # 1(b) varies: its 3 variants; 1(a) and 3 do not: one item each, not 3 copies
    assert [len(g.findall(f"{Q}item")) for g in groups] == [1, 3, 1]
    assert {g.find(f".//{Q}selection_number").text for g in groups} == {"1"}
    assert groups[0].find(f"{Q}item").get("title") == "1a"  # the same in every variant
    net = groups[1]
    for vid, item in zip(IDS, net.findall(f"{Q}item")):
        assert item.get("title") == f"1b (variant {vid})"
        blanks = [[m.text for m in lid.iter(f"{Q}mattext")][1]
                  for lid in item.iter(f"{Q}response_lid")]
        expected = [n for label in NET for n in _numbers(keys[vid]["1b"][label])]
        assert [Fraction(b) for b in blanks] == expected, vid


def test_prairielearn_seed_picks_each_variant(exported, tmp_path):
    import importlib.util

    keys, (files,), _ = exported
    server = tmp_path / "server.py"
    server.write_bytes(files["ama564_a1-prairielearn/questions/ama564_a1/1b/server.py"])
    spec = importlib.util.spec_from_file_location("ama_1b_server", server)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    info = json.loads(files["ama564_a1-prairielearn/questions/ama564_a1/1b/info.json"])
    assert info["singleVariant"] is False
    info = json.loads(files["ama564_a1-prairielearn/questions/ama564_a1/1a/info.json"])
    assert info["singleVariant"] is True  # 1(a) does not vary
    for seed in range(6):
        data = {"params": {}, "correct_answers": {}, "variant_seed": seed}
        module.generate(data)
        vid = IDS[seed % 3]
        assert data["params"]["variant"] == vid
        for i, label in enumerate(NET, 1):
            got = data["correct_answers"][f"ans{i}"]
            flat = [got] if isinstance(got, float) else [v for row in got for v in row]
            assert flat == [float(n) for n in _numbers(keys[vid]["1b"][label])], (vid, label)


def _grade(tmp_path, zip_bytes_, sid: str, answers: str) -> dict:
    import os
    import subprocess
    import sys

    root = tmp_path / "autograder"
    source = root / "source"
    source.mkdir(parents=True)
    with zipfile.ZipFile(io.BytesIO(zip_bytes_)) as z:
        z.extractall(source)
    (root / "submission").mkdir()
    (root / "submission" / "answers.toml").write_text(answers, encoding="utf-8")
    (root / "submission_metadata.json").write_text(json.dumps(
        {"users": [{"email": f"{sid}@example.edu", "sid": sid, "name": "S"}]}), encoding="utf-8")
    env = dict(os.environ, SYMDERIV_AUTOGRADER_ROOT=str(root), SYMDERIV_PYTHON=sys.executable)
    env.pop("PYTHONPATH", None)  # symderiv must come from the zip
    run = subprocess.run(["bash", str(source / "run_autograder")], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def _answer(value) -> str:
    numbers = [str(n) for n in _numbers(value)]
    return numbers[0] if len(numbers) == 1 else "[" + ", ".join(numbers) + "]"


def test_gradescope_config_maps_students_to_variants(exported):
    keys, (files,), _ = exported
    archive = zipfile.ZipFile(io.BytesIO(files["ama564_a1-gradescope.zip"]))
    config = json.loads(archive.read("config.json"))
    assert config["students"] == {v: v for v in IDS}
    assert sorted(config["variants"]) == IDS
    for vid in IDS:
        entry = config["variants"][vid]
        assert (entry["key"], entry["lock"]) == ("key/ama564_a1.toml", "key/variants.lock.json")
        assert entry["total"] == 10.0  # 1a 3, 1b 3, 2 2, 3 2
        assert [t["label"] for t in entry["tests"] if t["label"].startswith("1b/")] == \
            [f"1b/{label}" for label in NET]
    # the lock holds every variant's drawn values (no names), for the problem file shipped
    lock = json.loads(archive.read("key/variants.lock.json"))
    assert [v["id"] for v in lock["variants"]] == IDS
    assert {v["name"] for v in lock["variants"]} == {""}
    assert archive.read("key/ama564_a1.toml") == AMA.read_bytes()


@pytest.mark.slow
def test_gradescope_grades_a_student_against_their_variant(exported, tmp_path):
    keys, (files,), _ = exported
    zipped = files["ama564_a1-gradescope.zip"]
    v1, v2 = keys["v01"]["1b"], keys["v02"]["1b"]
    assert _numbers(v1["forward.yhat"]) != _numbers(v2["forward.yhat"])
    answers = ("[answers]\n"
               f'"1b/forward.yhat" = "{_answer(v1["forward.yhat"])}"\n'  # right for v01 only
               f'"1b/grad.b2" = "{_answer(v2["grad.b2"])}"\n'
               f'"1b/grad.b1" = "{_answer(v2["grad.b1"])}"\n')
    results = _grade(tmp_path / "s2", zipped, "v02", answers)
    status = {t["name"]: t["status"] for t in results["tests"]}
    assert status["1b/forward.yhat"] == "failed"
    assert (status["1b/grad.b2"], status["1b/grad.b1"]) == ("passed", "passed")
    assert results["score"] == 1.2  # 0.6 + 0.6
    assert "(variant v02)" in results["output"]
    # the same answers from a student of variant 1: ŷ is right there
    results = _grade(tmp_path / "s1", zipped, "v01", answers)
    assert {t["name"]: t["status"] for t in results["tests"]}["1b/forward.yhat"] == "passed"
    # a student with no variant: a clear message and 0
    results = _grade(tmp_path / "s9", zipped, "s999", answers)
    assert results["score"] == 0.0
    assert "No variant of this assignment is assigned to you (s999)" in results["output"]


@pytest.mark.slow
def test_roster_and_its_lock_export_the_same(tmp_path):
    """--roster draws what `symderiv variants --roster` drew; --lock rebuilds those variants
    from the recorded values: every platform gets the same bytes either way."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\ns101,Ada Lovelace\ns102,Alan Turing\n", encoding="utf-8")
    runner = CliRunner()
    made = runner.invoke(main, ["variants", str(AMA), "--roster", str(roster),
                                "-o", str(tmp_path / "v")])
    assert made.exit_code == 0, made.output
    lock = tmp_path / "v" / "variants.lock.json"
    for platform in ("moodle", "canvas", "prairielearn", "gradescope"):
        outs = []
        for option, value in (("--roster", roster), ("--lock", lock)):
            out = tmp_path / option.strip("-") / platform
            result = runner.invoke(main, ["export", platform, str(AMA), option, str(value),
                                          "-o", str(out)])
            assert result.exit_code == 0, result.output
            outs.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()})
        assert outs[0] == outs[1], platform
    (data,) = outs[0].values()
    archive = zipfile.ZipFile(io.BytesIO(data))
    config = json.loads(archive.read("config.json"))
    assert config["students"] == {"s101": "s101", "s102": "s102"}
    assert b"Ada" not in archive.read("key/variants.lock.json")  # no names in the zip


def test_variant_options_are_checked(tmp_path):
    runner = CliRunner()
    both = runner.invoke(main, ["export", "moodle", str(AMA), "--n", "2", "--lock", "x.json",
                                "-o", str(tmp_path)])
    assert both.exit_code == 2
    assert "give one of --n, --roster and --lock, not --n and --lock" in both.stderr
    plain = Path(__file__).resolve().parent.parent / "problems" / "nndl_hw1.toml"
    none = runner.invoke(main, ["export", "canvas", str(plain), "--n", "2", "-o", str(tmp_path)])
    assert none.exit_code == 2
    assert "no problem has a [problem.vary] table" in none.stderr


def test_a_problem_unsolved_in_one_variant_is_left_out(two_variants, monkeypatch):
    """A platform must not draw a variant without a key: a problem unsolved in any variant
    leaves every variant, and stderr's line names the variant."""
    from symderiv.errors import SymderivError
    from symderiv.platforms.moodle import export_moodle
    from symderiv.solve import Unsolved

    ps = load(two_variants)
    (good,) = solve_set(ps, None)
    broken = Unsolved(good.problem, "out of time", "out of time", SymderivError("out of time"))

    def drawn(path, **options):
        assert options["count"] == 2
        return [Variant("v01", ps, (good,)), Variant("v02", ps, (broken,))]

    monkeypatch.setattr(platforms, "drawn_variants", drawn)
    result = export_moodle(two_variants, count=2)
    quiz = ET.fromstring(result.files["gate-moodle.xml"])
    assert quiz.findall("question") == []
    assert [s.line("Moodle") for s in result.skipped] == [
        "problem g1: not exported to Moodle: not solved in variant v02: out of time"]


@pytest.mark.slow
def test_canvas_follows_the_roster_with_a_quiz_per_student(tmp_path):
    """With --roster (or --lock) Canvas gets one quiz per student, titled by the student's id
    (no names), holding that student's own variant of each problem (no drawing group): the
    instructor assigns each quiz to its student. Without, one quiz whose groups draw."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\ns101,Ada Lovelace\ns102,Alan Turing\n", encoding="utf-8")
    from symderiv.platforms.canvas import export_canvas
    from symderiv.platforms.moodle import export_moodle

    (data,) = export_canvas(AMA, roster=roster).files.values()
    archive = zipfile.ZipFile(io.BytesIO(data))
    manifest = ET.fromstring(archive.read("imsmanifest.xml"))
    cp = "{http://www.imscp.org/xsd/imscp_v1p1}".replace("imscp.org", "imsglobal.org")
    hrefs = [f.get("href") for f in manifest.iter(f"{cp}file")]
    assert len(hrefs) == 2 and sorted(hrefs) == sorted(n for n in archive.namelist()
                                                      if n != "imsmanifest.xml")
    q = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
    quizzes = {}
    for href in hrefs:
        (assessment,) = ET.fromstring(archive.read(href)).iter(f"{q}assessment")
        quizzes[assessment.get("title")] = assessment
    assert sorted(quizzes) == ["AMA564 Assignment 1: s101", "AMA564 Assignment 1: s102"]
    assert b"Ada" not in data and b"Turing" not in data
    for assessment in quizzes.values():
        sections = [s for s in assessment.iter(f"{q}section") if s.get("ident") != "root_section"]
        assert all(len(s.findall(f"{q}item")) == 1 for s in sections)       # one item each
        assert not list(assessment.iter(f"{q}selection_number"))            # nothing drawn
    # each student's quiz has that student's numbers: the varied problem's statements differ
    texts = {t: [m.text for m in a.iter(f"{q}mattext") if m.get("texttype") == "text/html"]
             for t, a in quizzes.items()}
    assert texts["AMA564 Assignment 1: s101"] != texts["AMA564 Assignment 1: s102"]
    # the same statements as that student's Moodle question (the same variant)
    (moodle,) = export_moodle(AMA, roster=roster).files.values()
    for sid, other in (("s101", "s102"), ("s102", "s101")):
        (question,) = [x for x in ET.fromstring(moodle).findall("question")
                       if (x.findtext("name/text") or "").endswith(f"(variant {sid})")]
        statement = question.findtext("questiontext/text").split("</p>", 1)[0]
        assert any(t.startswith(statement) for t in texts[f"AMA564 Assignment 1: {sid}"])
        assert not any(t.startswith(statement) for t in texts[f"AMA564 Assignment 1: {other}"])
