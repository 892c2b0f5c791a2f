"""The four seed files export to all four platforms, byte-identical on a second run."""

import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from symderiv.platforms.canvas import export_canvas
from symderiv.platforms.gradescope import export_gradescope
from symderiv.platforms.moodle import export_moodle
from symderiv.platforms.prairielearn import export_prairielearn

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "problems").glob("*.toml"))

# what each seed gives each platform: Moodle questions (one per problem with an answer in
# Maxima, per variant or instance), Canvas items (one per problem and variant or instance with
# an answer Canvas takes: numbers, numeric matrices, expressions without pieces),
# PrairieLearn folders (one per problem), Gradescope tests (every counted label, issue 15's
# points: for a network its output and parameter gradients). E.g. ama564_a1 in Gradescope:
# 1a's 9 labels, 1b's output and 4 gradients, 2's and 3's conclusions: 16; on Canvas 1a, 1b
# and 3 (2's answer is an inequality). A symbolic network's or matrix gradient's answers
# (matrix expressions) are asked at a concrete size: INSTANCES (3) numeric instances.
EXPECTED = {
    "ama564_a1": {"moodle": 3, "canvas": 3, "prairielearn": 3, "gradescope": 16},
    # cs189_hw in Gradescope: 2b's 1 label, 2c's 3, 2def's output and 4 gradients, 3's dE/dx and
    # its 8 node outputs: 18 (2(g) is a training experiment: measured, not exported); 2def is
    # symbolic: 3 instances on Moodle and Canvas (2b, 2c, 3 one each), one PrairieLearn folder
    "cs189_hw": {"moodle": 6, "canvas": 6, "prairielearn": 4, "gradescope": 15 + 3},
    # three symbolic networks (the text parts 1.1a and 1.2c are prose): 3 instances each
    "dsga1008_hw1": {"moodle": 9, "canvas": 9, "prairielearn": 3, "gradescope": 15},
    # Q1, Q4 and the four matrix gradients Q2.1-Q3 at 3 instances each: 2 + 12
    "nndl_hw1": {"moodle": 14, "canvas": 14, "prairielearn": 6, "gradescope": 21},
}
# solving a seed and exporting it everywhere takes 1.5-3 s of CPU: the whole suite runs them
PARAMS = [pytest.param(p, marks=pytest.mark.slow, id=p.stem)
          for p in SEEDS]


def _count(platform, files):
    if platform == "moodle":
        (data,) = files.values()
        quiz = ET.fromstring(data)
        return len([q for q in quiz.findall("question") if q.get("type") != "category"])
    if platform == "canvas":
        (data,) = files.values()
        archive = zipfile.ZipFile(io.BytesIO(data))
        (name,) = [n for n in archive.namelist() if n != "imsmanifest.xml"]
        ET.fromstring(archive.read("imsmanifest.xml"))
        return len(list(ET.fromstring(archive.read(name)).iter(
            "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}item")))
    if platform == "prairielearn":
        return sum(name.endswith("/server.py") for name in files)
    (data,) = files.values()
    import json
    config = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("config.json"))
    return len(config["variants"]["1"]["tests"])


@pytest.mark.parametrize("seed", PARAMS)
def test_seed_exports_everywhere(seed):
    exporters = {"moodle": export_moodle, "canvas": export_canvas,
                 "prairielearn": export_prairielearn, "gradescope": export_gradescope}
    counts = {}
    for platform, run in exporters.items():
        first = run(seed)
        assert first.files and all(first.files.values())
        assert not [s for s in first.skipped if s.reason.startswith("not solved")]
        # every matrix expression is exported at a concrete size (none left out for it)
        assert not [s for s in first.skipped if "matrix expression" in s.reason], first.skipped
        assert run(seed).files == first.files  # byte-identical
        counts[platform] = _count(platform, first.files)
        if platform == "moodle":
            checked = _instances_are_the_key(seed, first.files)
            assert checked == {"cs189_hw": 15, "dsga1008_hw1": 45, "nndl_hw1": 12}.get(
                seed.stem, 0)
        if platform == "prairielearn":
            _generate_gives_the_key(seed, first.files)
        if platform == "canvas":
            _canvas_items_are_the_key(seed, first.files)
    assert counts == EXPECTED[seed.stem]


def _generate_gives_the_key(seed, files):
    """Every PrairieLearn question's server.py, run: for each variant (and instance) drawn
    from variant_seed, every answer equals the key's (numbers and matrices to 1e-12, an
    expression read back by SymPy and equal at sample points)."""
    import importlib.util
    import tempfile

    import sympy as sp

    from symderiv.platforms import answers_of, by_problem, load_variants, safe_name
    from symderiv.platforms.instance import concrete
    from symderiv.platforms.maxima import elementary

    _, variant_list, _ = load_variants(seed)
    base = f"{seed.stem}-prairielearn/questions/{safe_name(seed.stem)}"
    for pv in by_problem(variant_list):
        name = f"{base}/{safe_name(pv.problem.id)}/server.py"
        if name not in files:
            continue
        pv = concrete(pv)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "server.py"
            path.write_bytes(files[name])
            spec = importlib.util.spec_from_file_location(f"server_{abs(hash(name))}", path)
            server = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(server)
        assert len(server.VARIANTS) == len(pv.variants)
        for i, (_, solution) in enumerate(pv.variants):
            data = {"params": {}, "correct_answers": {}, "variant_seed": i}
            server.generate(data)
            key = {a.label: a for a in answers_of(pv.problem, solution)}
            got = list(data["correct_answers"].values())
            assert len(got) <= len(key)
            for value, answer in zip(got, [a for a in key.values()
                                           if _pl_takes(a)]):
                if isinstance(value, str):   # pl-symbolic-input's text
                    want = elementary(answer.value)
                    # the exported text (this test's own output), read as the other PL test does
                    back = sp.parse_expr(value, local_dict={s.name: s for s in want.free_symbols})
                    for t in (sp.Rational(3, 7), sp.Rational(-5, 4)):
                        at = {s: t for s in want.free_symbols}
                        assert abs(complex(sp.N((back - want).xreplace(at), 30))) < 1e-20
                    continue
                want = answer.value
                if answer.kind == "number":
                    assert value == pytest.approx(float(sp.N(want, 20)), rel=1e-12)
                    continue
                flat = [float(sp.N(v, 20)) for v in (sp.Matrix(want) if answer.kind == "matrix"
                                                      else want)]
                assert [v for row in value for v in row] == pytest.approx(flat, rel=1e-12), \
                    (pv.problem.id, answer.label)


def _canvas_items_are_the_key(seed, files):
    """Every Canvas item, in its problem's group, one per variant (and instance): a number's
    first accepted text is the key's value (12 digits), an expression's the key's form read
    back, a matrix entry by entry."""
    import sympy as sp

    from symderiv.platforms import answers_of, by_problem, load_variants
    from symderiv.platforms.canvas import _pieces
    from symderiv.platforms.instance import concrete
    from symderiv.platforms.maxima import elementary

    q = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
    (data,) = files.values()
    archive = zipfile.ZipFile(io.BytesIO(data))
    (name,) = [n for n in archive.namelist() if n != "imsmanifest.xml"]
    sections = {sec.get("title"): sec for sec in ET.fromstring(archive.read(name)).iter(f"{q}section")}
    _, variant_list, _ = load_variants(seed)
    checked = 0
    for pv in by_problem(variant_list):
        title = pv.problem.title or f"Question {pv.problem.id}"
        if title not in sections:
            continue
        pv = concrete(pv)
        items = sections[title].findall(f"{q}item")
        assert len(items) == len(pv.variants), title
        for item, (_, solution) in zip(items, pv.variants):
            pieces = [piece for a in answers_of(pv.problem, solution)
                      for piece in _pieces(pv.problem, a, None)]
            lids = list(item.iter(f"{q}response_lid"))
            if lids:
                firsts = [[m.text for m in lid.iter(f"{q}mattext")][1] for lid in lids]
            else:
                firsts = [next(item.iter(f"{q}varequal")).text]
            assert len(firsts) == len(pieces), title
            for text, (_, _, answer) in zip(firsts, pieces):
                if answer.kind == "number":
                    assert float(text) == pytest.approx(float(sp.N(answer.value, 20)), rel=1e-11)
                else:
                    want = elementary(answer.value)
                    back = sp.parse_expr(text.replace("^", "**"),
                                         local_dict={s.name: s for s in want.free_symbols})
                    at = {s: sp.Rational(3, 7) for s in want.free_symbols | back.free_symbols}
                    assert abs(complex(sp.N((back - want).xreplace(at), 30))) < 1e-20, \
                        (text, want)
                checked += 1
    assert checked


def _pl_takes(answer) -> bool:
    """What PrairieLearn exports (the others are named on stderr): numbers, numeric matrices,
    lists, expressions without pieces or functions it lacks."""
    from symderiv.platforms.maxima import Unsupported
    from symderiv.platforms.prairielearn import _entry

    try:
        _entry(answer)
    except Unsupported:
        return False
    return True


def _instances_are_the_key(seed, files):
    """Each STACK question at a concrete size: its question variables read back give teacher's
    answers equal to the key's values at that instance (the key's formula on the drawn numbers,
    verified against the derivative of the loss or of f), written as formulas in Maxima's
    matrix algebra, not as literal matrices."""
    import sympy as sp

    from symderiv.platforms import by_problem, load_variants
    from symderiv.platforms.instance import InstanceBody, concrete
    from symderiv.platforms.maxima import evaluate_program

    (data,) = files.values()
    questions = {}
    for q in ET.fromstring(data).findall("question[@type='stack']"):
        questions.setdefault(q.find("name/text").text.split(":")[0], []).append(q)
    _, variant_list, _ = load_variants(seed)
    checked = 0
    for pv in by_problem(variant_list):
        instances = [s for _, s in concrete(pv).variants if isinstance(s.body, InstanceBody)]
        for solution, q in zip(instances, questions.get(pv.problem.id, [])):
            program = q.find("questionvariables/text").text
            env = evaluate_program(program)
            for k, label in enumerate(solution.body.instance.values, 1):
                text = program.split(f"\nta{k}: ", 1)[1].split(";", 1)[0]
                assert not text.startswith("matrix("), text   # the formula, not its value
                got, want = env[f"ta{k}"], solution.body.instance.values[label]
                got = got if isinstance(got, sp.MatrixBase) else sp.Matrix([[got]])
                assert got.shape == want.shape and all(
                    abs(complex(sp.N(a - b, 30))) < 1e-20 for a, b in zip(got, want)), label
                checked += 1
    return checked


@pytest.mark.slow
def test_lists_of_iterates():
    """NNDL Q4's iterates (a list of numbers): a Maxima list in STACK, entries on Canvas, a row
    of boxes in PrairieLearn."""
    import ast
    import json

    nndl = ROOT / "problems" / "nndl_hw1.toml"
    (moodle,) = export_moodle(nndl).files.values()
    quiz = ET.fromstring(moodle)
    (q4,) = [q for q in quiz.findall("question[@type='stack']")
             if q.find("name/text").text.startswith("Q4")]
    variables = q4.find("questionvariables/text").text.splitlines()
    assert variables[1] == ("ta2: [0, 50, 75, 175/2, 375/4, 775/8, 1575/16, 3175/32, 6375/64, "
                            "12775/128, 25575/256];")
    assert "iterates (\\(\\alpha\\) = 0.5) (a list [a, b, …])" in q4.find("questiontext/text").text
    (canvas,) = export_canvas(nndl).files.values()
    archive = zipfile.ZipFile(io.BytesIO(canvas))
    (name,) = [n for n in archive.namelist() if n != "imsmanifest.xml"]
    q = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
    groups = {g.get("title"): g for g in ET.fromstring(archive.read(name)).iter(f"{q}section")}
    (item,) = groups["Question 4: gradient descent step sizes"].findall(f"{q}item")
    prompt = item.find(f".//{q}mattext").text
    blank = prompt.split("<b>iterates (\\(\\alpha\\) = 2.5), entry 3</b>", 1)[1]
    blank = blank.split("[", 1)[1].split("]", 1)[0]  # the entry's blank, e.g. b28
    (lid,) = [r for r in item.iter(f"{q}response_lid") if r.get("ident") == f"response_{blank}"]
    assert [m.text for m in lid.iter(f"{q}mattext")][1:] == ["-125", "-125.0", "-125.00",
                                                            "-125.000", "-125.0000"]
    files = export_prairielearn(nndl).files
    server = files["nndl_hw1-prairielearn/questions/nndl_hw1/Q4/server.py"].decode()
    variants = json.loads(ast.literal_eval(server.split("VARIANTS = json.loads(", 1)[1].split(")\n", 1)[0]))
    assert variants[0]["answers"]["ans6"]["value"][0][:3] == [0.0, 250.0, -125.0]


@pytest.mark.slow
def test_byte_identical_across_processes(tmp_path):
    """Two processes with different hash seeds write the same bytes on every platform."""
    import os
    import subprocess
    import sys

    script = ("import sys\nfrom click.testing import CliRunner\nfrom symderiv.cli import main\n"
              "for p in ('moodle', 'canvas', 'prairielearn', 'gradescope'):\n"
              "    r = CliRunner().invoke(main, ['export', p, sys.argv[1], '-o', sys.argv[2]])\n"
              "    assert r.exit_code == 0, r.output\n")
    trees = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        subprocess.run([sys.executable, "-c", script, str(ROOT / "problems" / "nndl_hw1.toml"),
                        str(out)], env=env, check=True, timeout=600)
        trees.append({p.relative_to(out).as_posix(): p.read_bytes()
                      for p in sorted(out.rglob("*")) if p.is_file()})
    assert len(trees[0]) == 21  # moodle xml, canvas zip, gradescope zip, 6 x 3 PL files
    assert trees[0] == trees[1]
