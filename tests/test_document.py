"""The document level: sheets (no solutions, nothing solved, the statement's figure), question
headings and order, the key's header box, file permissions, and over every problem file and
fixture the forbidden program text and the 0-overfull layout check."""

import os
import re
import shutil
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from symderiv import kinds
from symderiv.check import check
from symderiv.check.report import label_words, render_feedback
from symderiv.cli import main
from symderiv.export import key_json, write_atomic
from symderiv.render import render_document
from symderiv.sheet import render_sheet
from symderiv.solve import solve_set
from symderiv.spec import load

from .conftest import EXAMPLES, PROBLEMS, ROOT

FIXTURES = sorted((ROOT / "tests" / "data").glob("*.toml"))
SEED = ROOT / "problems" / "submissions" / "ama564_a1_student.toml"
SEED_KEY = ROOT / "problems" / "ama564_a1.toml"

THREE_TEXT_PROBLEMS = r'''
[meta]
title = "Order"

[[problem]]
id = "zeta"
kind = "text"
title = "Question 2: the second one"
statement = "Say why."
answer = "Because."

[[problem]]
id = "alpha"
kind = "text"
statement = "Say how."
answer = "Thus."

[[problem]]
id = "mid"
kind = "text"
title = "Question 1: the first one"
points = 4
answer = "So."
'''


def _no_solving(monkeypatch):
    """Every kind's solver raises: a sheet that calls one fails the test."""
    for name in kinds.KINDS:
        def refuse(problem, _name=name):
            raise AssertionError(f"the sheet solved {problem.id} ({_name})")
        monkeypatch.setattr(kinds.kind_module(name), "solve", refuse)


# --- sheets -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PROBLEMS + EXAMPLES + FIXTURES,
                         ids=[p.stem for p in PROBLEMS + EXAMPLES + FIXTURES])
def test_sheet_solves_nothing_and_holds_no_solution(path, tmp_path, monkeypatch):
    _no_solving(monkeypatch)
    result = CliRunner().invoke(main, ["render", str(path), "--sheet", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    sheet = (tmp_path / f"{path.stem}-sheet.tex").read_text(encoding="utf-8")
    assert "begin{solution}" not in sheet and "\\printanswers" not in sheet
    assert "Answer key" not in sheet and "\\textbf{Questions}" in sheet
    for problem in load(path).problems:  # every question is there, headed by its name
        assert f"\\questionheading{{{problem.title or 'Question ' + problem.id}" in sheet


def test_sheet_leaves_out_the_key_text(tmp_path):
    # the prose answer of a text problem and the numbers of a derivation never reach the sheet
    ps = load(ROOT / "tests" / "data" / "small.toml")
    key = render_document(ps, solve_set(ps))
    sheet = render_sheet(ps)
    answer = next(p for p in ps.problems if p.kind == "text").spec.answer
    assert answer.strip() in key and answer.strip() not in sheet
    assert "\\begin{align" in key and "\\begin{align" not in sheet


def test_sheet_draws_the_figure_the_kind_offers(monkeypatch):
    # the kind's sheet_figure(problem) is drawn with the diagram macro, right after the statement
    network = kinds.kind_module("mlp")
    seen = []

    def figure(problem):
        seen.append(problem.id)
        return SimpleNamespace(nodes=(("u1", 0, 0, r"x_{1}"), ("u2", 2.6, 0, r"\hat{y}")), edges=(), notes=())

    monkeypatch.setattr(network, "sheet_figure", figure, raising=False)
    ps = load(SEED_KEY)
    sheet = render_sheet(ps)
    assert seen == [p.id for p in ps.problems if p.kind == "mlp"] == ["1b"]
    mlp = sheet.index("\\questionheading{Question 1(b)")
    nxt = sheet.index("\\questionheading{Question 2:")
    picture = sheet.index("\\begin{tikzpicture}")
    assert mlp < sheet.index("the figure below shows its architecture") < picture < nxt
    assert sheet.count("\\begin{tikzpicture}") == 1
    assert "{$x_{1}$}" in sheet and "{$\\hat{y}$}" in sheet
    assert "Figure: the network described in the question." in sheet


def test_sheet_without_a_figure_function_draws_nothing(monkeypatch):
    for name in kinds.KINDS:
        monkeypatch.delattr(kinds.kind_module(name), "sheet_figure", raising=False)
    sheet = render_sheet(load(SEED_KEY))
    assert "tikzpicture" not in sheet and "Figure" not in sheet


def test_question_text_templates_appear_on_key_and_sheet(tmp_path, monkeypatch, write_toml):
    # a kind's "<kind>.question.tex.j2" is question text: it belongs on both documents
    from symderiv import render

    templates = tmp_path / "templates"
    shutil.copytree(render.template_dir(), templates)
    (templates / "kinds" / "text.question.tex.j2").write_text(
        "Extra question text for (((p.id))).\n", encoding="utf-8")
    monkeypatch.setattr(render, "template_dir", lambda: templates)
    ps = load(write_toml(THREE_TEXT_PROBLEMS))
    for text in (render_sheet(ps), render_document(ps, solve_set(ps))):
        assert [m.group(1) for m in re.finditer(r"Extra question text for (\w+)\.", text)] == [
            "zeta", "alpha", "mid"]


# --- headings, order, header box --------------------------------------------------------------


def test_questions_are_headed_by_their_names_in_file_order(write_toml):
    ps = load(write_toml(THREE_TEXT_PROBLEMS))
    for text in (render_sheet(ps), render_document(ps, solve_set(ps))):
        headings = re.findall(r"\\questionheading\{([^}]*)\}", text)
        assert headings == ["Question 2: the second one", "Question alpha", "Question 1: the first one"]
        assert "\\renewcommand{\\questionlabel}{}" in text  # no running number beside the name
        assert "\\question[4]\n\\questionheading{Question 1: the first one}" in text


def test_key_header_box_says_in_words_how_answers_were_checked():
    ps = load(ROOT / "tests" / "data" / "small.toml")
    sols = solve_set(ps)
    key = render_document(ps, sols)
    box = key[key.index("\\fbox"):key.index("\\begin{questions}")]
    assert "checked before it was printed, symbolically and\nnumerically" in box
    assert "prose" in box  # the fixture has a prose answer
    assert "sympy" not in box.lower() and "diff" not in box and "machine" not in box
    # the JSON key, for autograders, keeps the detailed checks
    checks = [c for p in key_json(ps, sols)["problems"] for c in p["checks"]]
    assert "derivatives against the definition of the derivative (difference quotients) at " \
        "random points" in checks


def test_key_without_prose_does_not_mention_it():
    ps = load(ROOT / "tests" / "data" / "small.toml")
    sols = [s for s in solve_set(ps) if s.verified]
    box = render_document(ps, sols).split("\\begin{questions}")[0]
    assert "prose" not in box


def test_feedback_labels_are_read_out():
    assert label_words("1a/leaky_relu.limit(+oo)") == r"1a: Leaky ReLU, limit at $+\infty$"
    assert label_words("2b/half_squared.derivative") == "2b: Half squared error, derivative"
    assert label_words("Q4/steps_to_tolerance[alpha=0.5]") == r"Q4: steps to tolerance ($\alpha$ = 0.5)"
    assert label_words("Q2.1/gradient") == "Q2.1: gradient"


# --- permissions ------------------------------------------------------------------------------


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_respect_the_umask(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        target = tmp_path / "out" / "key.tex"
        write_atomic(target, "x\n")
        write_atomic(target, "y\n")  # replacing keeps the umask's mode too
        assert target.stat().st_mode & 0o777 == mode
        assert target.read_text() == "y\n"
        result = CliRunner().invoke(main, ["render", str(PROBLEMS[0]), "--sheet", "-o",
                                           str(tmp_path / "cli")])
        assert result.exit_code == 0, result.output
        assert (tmp_path / "cli" / f"{PROBLEMS[0].stem}-sheet.tex").stat().st_mode & 0o777 == mode
    finally:
        os.umask(old)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["key.tex"]  # no temporaries


def test_lark_comes_from_the_index():
    assert not list(ROOT.glob("*.whl"))
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'"lark>=1\.\d+"', pyproject)


# --- every document: forbidden program text, overfull boxes -------------------------------------

FORBIDDEN = ["_squared", "half_", "Symbol(", "Sum(", "**", "sympy", "\\texttt", "(("]
TEXT_RELU = re.compile(r"relu")  # registry spelling; the mathematical name is ReLU


def forbidden_in(tex: str) -> list[str]:
    """Forbidden patterns in a rendered .tex, outside its first (generated-by comment) line."""
    lines = tex.splitlines()
    assert lines[0].startswith("% Generated by symderiv")
    hits = []
    for number, line in enumerate(lines[1:], start=2):
        found = [p for p in FORBIDDEN if p in line]
        if TEXT_RELU.search(line):
            found.append("relu")
        hits.extend(f"line {number}: {p!r} in {line.strip()[:120]}" for p in found)
    return hits


def test_forbidden_in_finds_each_pattern():
    head = "% Generated by symderiv from sympy_relu((.toml\n"
    assert forbidden_in(head + "ReLU and $\\sigma(x)$\n") == []
    for bad in ["loss = half\\_squared", "\\texttt{x}", "Sum(f[k], (k, 1, T))", "x**2",
                "f = \\text{relu}", "sympy.diff", "((w^T x) - y)", "Symbol('beta')"]:
        assert forbidden_in(head + bad + "\n"), bad


@pytest.fixture(scope="module")
def documents():
    """Every problem file and fixture as key and sheet, and the seed's feedback sheet."""
    docs = {}
    for path in PROBLEMS + FIXTURES:
        ps = load(path)
        docs[ps.stem] = render_document(ps, solve_set(ps))
        docs[ps.stem + "-sheet"] = render_sheet(ps)
    docs[SEED.stem + "-feedback"] = render_feedback(check(SEED_KEY, SEED))
    return docs


@pytest.mark.slow
def test_no_program_text_in_any_document(documents):
    hits = {name: forbidden_in(tex) for name, tex in documents.items()}
    assert {name: h for name, h in hits.items() if h} == {}


@pytest.mark.pdf
@pytest.mark.slow  # 20 documents through pdflatex: CI runs it, the fast loop does not
def test_no_overfull_box_in_any_document(documents, tmp_path):
    from symderiv.latex_build import compile_pdf

    overfull = {}
    for name, tex in documents.items():
        logs: list[str] = []
        compile_pdf(tex, name, tmp_path, logs=logs)
        boxes = [line for line in logs[0].splitlines() if line.startswith("Overfull")]
        if boxes:
            overfull[name] = boxes
    assert overfull == {}
    assert len(documents) == 2 * len(PROBLEMS + FIXTURES) + 1


# problems/examples/: one test per file, so that the files solve in parallel and the slow ones
# (over ~3 s of CPU, as in test_examples.py) stay out of the fast subset
SLOW_EXAMPLES = {"cs224n_word2vec", "d2l_backprop_numeric", "udl_backprop_symbolic",
                 "matrix_softmax_logistic", "hessians_normal_equations", "udl_activation_experiment"}
EXAMPLE_PARAMS = [pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem in SLOW_EXAMPLES else [])
                  for p in EXAMPLES]


@lru_cache(maxsize=None)
def _example_documents(path: Path) -> dict[str, str]:
    ps = load(path)
    return {ps.stem: render_document(ps, solve_set(ps)), ps.stem + "-sheet": render_sheet(ps)}


@pytest.mark.parametrize("path", EXAMPLE_PARAMS)
@pytest.mark.slow
def test_no_program_text_in_any_example_document(path):
    hits = {name: forbidden_in(tex) for name, tex in _example_documents(path).items()}
    assert {name: h for name, h in hits.items() if h} == {}


@pytest.mark.pdf
@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLE_PARAMS)
def test_no_overfull_box_in_any_example_document(path, tmp_path):
    from symderiv.latex_build import compile_pdf

    overfull = {}
    for name, tex in _example_documents(path).items():
        logs: list[str] = []
        compile_pdf(tex, name, tmp_path, logs=logs)
        boxes = [line for line in logs[0].splitlines() if line.startswith("Overfull")]
        if boxes:
            overfull[name] = boxes
    assert overfull == {}


@pytest.mark.pdf
def test_compile_pdf_hands_back_the_log_with_its_overfull_boxes(tmp_path):
    from symderiv.latex_build import compile_pdf

    wide = "\\documentclass{article}\\begin{document}\\noindent\\rule{30cm}{1pt}\\end{document}\n"
    logs: list[str] = []
    compile_pdf(wide, "wide", tmp_path, logs=logs)
    assert len(logs) == 1 and "Overfull \\hbox" in logs[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wide.pdf"]  # the log is not left behind


WIDE_KEYS = {
    # a 3×3 weight gradient with six-digit numbers beside its outer product (the table ran
    # past the margin), and a focal loss whose derivation's rule names ran off the page
    "net.toml": (
        '[meta]\ntitle = "t"\n[[problem]]\nid = "1"\nkind = "mlp"\nlayers = [2, 3, 3]\n'
        'hidden = "tanh"\noutput = "softmax"\nloss = "cross_entropy"\nx = [1.0, -2.0]\n'
        'y = [0, 1, 0]\n[problem.params]\nW1 = [[0.1, 0.2], [-0.3, 0.4], [0.5, -0.6]]\n'
        'b1 = [0.0, 0.1, -0.1]\nW2 = [[1, 0, -1], [0.5, 0.5, 0.5], [-1, 1, 0]]\nb2 = [0, 0, 0]\n'),
    "focal.toml": (
        '[meta]\ntitle = "t"\n[[problem]]\nid = "1"\nkind = "derivative"\nfunctions = [\n'
        '  { name = "F", expr = "-(1 - sigmoid(x))**2*log(sigmoid(x))" },\n]\n'),
}


@pytest.mark.pdf
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(WIDE_KEYS))
def test_wide_tables_and_derivations_stay_inside_the_page(name, tmp_path):
    from symderiv.latex_build import compile_pdf

    path = tmp_path / name
    path.write_text(WIDE_KEYS[name], encoding="utf-8")
    ps = load(path)
    tex = render_document(ps, solve_set(ps))
    logs: list[str] = []
    compile_pdf(tex, ps.stem, tmp_path, logs=logs)
    assert [line for line in logs[0].splitlines() if line.startswith("Overfull")] == []
