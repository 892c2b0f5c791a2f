"""Matrix-expression answers on Moodle (STACK), Canvas and PrairieLearn: numeric instances of
a symbolic network (DS-GA 1008's tables) and of a matrix gradient (NNDL Q2-Q3), each answer
equal to the key at the concrete size, checked here independently: the network's gradients by
SymPy's derivative of the loss written out entry by entry from the exported numbers, the
STACK program read back (and run in Maxima when it is installed)."""

import importlib.util
import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
import sympy as sp

from symderiv.platforms import by_problem, load_variants
from symderiv.platforms.canvas import export_canvas
from symderiv.platforms.instance import INSTANCES, InstanceBody, build, concrete
from symderiv.platforms.maxima import Unsupported, evaluate_program, maxima_matrix
from symderiv.platforms.moodle import export_moodle
from symderiv.platforms.prairielearn import export_prairielearn

ROOT = Path(__file__).resolve().parent.parent
DSGA = ROOT / "problems" / "dsga1008_hw1.toml"
NNDL = ROOT / "problems" / "nndl_hw1.toml"
COUNTED = ["forward.yhat", "grad.W2", "grad.b2", "grad.W1", "grad.b1"]


def _sigmoid(t):
    return 1 / (1 + sp.exp(-t))


ACT = {"relu": lambda t: sp.Max(0, t), "sigmoid": _sigmoid, "identity": lambda t: t}
LOSS = {"half_squared": lambda a, y: (a - y) ** 2 / 2,
        "bce": lambda a, y: -(y * sp.log(a) + (1 - y) * sp.log(1 - a))}
# DS-GA 1008's three networks: (hidden, output, loss)
NETS = {"1.1bcd": ("relu", "identity", "half_squared"), "1.2a": ("sigmoid", "sigmoid", "half_squared"),
        "1.2b": ("sigmoid", "sigmoid", "bce")}


def _by_hand(given, hidden, output, loss):
    """ŷ and the four parameter gradients of a two-layer network from its numbers: the loss
    written out in the parameters' entries and differentiated by SymPy (no back-propagation)."""
    syms = {}
    for name in ("W1", "b1", "W2", "b2"):
        m = given[name]
        syms[name] = sp.Matrix(m.rows, m.cols, lambda i, j: sp.Symbol(f"{name}_{i}_{j}", real=True))
    z1 = syms["W1"] * given["x"] + syms["b1"]
    h1 = z1.applyfunc(ACT[hidden])
    yhat = (syms["W2"] * h1 + syms["b2"]).applyfunc(ACT[output])
    total = sum(LOSS[loss](a, t) for a, t in zip(yhat, given["y"]))
    at = {s: given[name][i, j] for name, m in syms.items()
          for (i, j), s in zip([(i, j) for i in range(m.rows) for j in range(m.cols)], m)}
    out = {"forward.yhat": yhat.xreplace(at)}
    for name, m in syms.items():
        out[f"grad.{name}"] = m.applyfunc(lambda s: sp.diff(total, s).xreplace(at))
    return out


def _close(a, b, tol=1e-12):
    a, b = sp.Matrix(a), sp.Matrix(b)
    return a.shape == b.shape and all(
        abs(complex(sp.N(x, 30)) - complex(sp.N(y, 30))) <= tol * max(1.0, abs(complex(sp.N(y, 30))))
        for x, y in zip(a, b))


def _stack_questions(path):
    (data,) = export_moodle(path).files.values()
    quiz = ET.fromstring(data)
    return [q for q in quiz.findall("question[@type='stack']")]


@pytest.fixture(scope="module")
def dsga_moodle():   # solving DS-GA 1008 and exporting it: ~6 s, so its tests are slow
    return _stack_questions(DSGA)


@pytest.mark.slow
def test_every_network_answer_is_exported_at_a_concrete_size(dsga_moodle):
    """DS-GA 1008: each of its three networks is 3 STACK questions (3 instances), each asking
    ŷ and the four parameter gradients as matrices of numbers."""
    names = [q.find("name/text").text.split(":")[0] for q in dsga_moodle]
    assert names == ["1.1bcd"] * INSTANCES + ["1.2a"] * INSTANCES + ["1.2b"] * INSTANCES
    for q in dsga_moodle:
        inputs = [(i.find("name").text, i.find("type").text) for i in q.findall("input")]
        assert inputs == [(f"ans{k}", "matrix") for k in range(1, 6)]
        nodes = [p.find("node") for p in q.findall("prt")]
        assert [(n.find("answertest").text, n.find("sans").text, n.find("testoptions").text)
                for n in nodes][1] == ("NumRelative", "flatten(args(ans2))", "0.001")
        text = q.find("questiontext/text").text
        assert r"\(\partial \ell / \partial W^{({2})}\) (a matrix): [[input:ans2]]" in text
        assert r"\(K = 2\)" in text and r"\(W^{({1})} = \begin{bmatrix}" in text


@pytest.mark.slow
def test_stack_teacher_answers_are_the_key_at_the_instance(dsga_moodle):
    """The question variables hold the given numbers, the network's definitions and the
    key's formulas in Maxima's matrix algebra; read back, each teacher's answer equals the
    network's derivative computed here from the same numbers."""
    for q in dsga_moodle:
        pid = q.find("name/text").text.split(":")[0]
        program = q.find("questionvariables/text").text
        env = evaluate_program(program)
        truth = _by_hand(env, *NETS[pid])
        for k, label in enumerate(COUNTED, 1):
            assert _close(env[f"ta{k}"], truth[label]), (pid, label)
    first = dsga_moodle[0].find("questionvariables/text").text.splitlines()
    # the first ReLU instance: its numbers and the key's formulas (not literal matrices)
    assert first[:2] == ["W1: matrix([-2, -1], [1, 2], [2, 0]);", "b1: matrix([1/2], [-3/2], [3/2]);"]
    assert first[6:] == [
        "z1: W1 . x + b1;", "h1: matrixmap(lambda([t], max(0, t)), z1);", "z2: W2 . h1 + b2;",
        "yhat: z2;", "dL_dyhat: -y + yhat;",
        "ta1: W2 . matrixmap(lambda([t], max(0, t)), W1 . x + b1) + b2;",
        "ta2: dL_dyhat . transpose(h1);", "ta3: dL_dyhat;",
        "ta4: ((transpose(W2) . dL_dyhat)*matrixmap(lambda([t], signum(t)/2 + 1/2), z1)) . transpose(x);",
        "ta5: (transpose(W2) . dL_dyhat)*matrixmap(lambda([t], signum(t)/2 + 1/2), z1);"]
    env = evaluate_program("\n".join(first))
    assert env["ta1"] == sp.Matrix([4, sp.Rational(1, 2)])
    assert env["ta4"] == sp.Matrix([[-12, 12], [-8, 8], [0, 0]])
    # no pre-activation at ReLU's kink: signum(0)/2 + 1/2 would differ from the key's 0
    assert all(v != 0 for q in dsga_moodle[:INSTANCES]
               for v in evaluate_program(q.find("questionvariables/text").text)["z1"])


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("maxima") is None, reason="Maxima is not installed")
def test_stack_program_runs_in_maxima(dsga_moodle, tmp_path):
    """The question variables as Maxima itself evaluates them (STACK's CAS): each teacher's
    answer, as floats, equals the key's value."""
    for q in dsga_moodle[::INSTANCES]:   # one instance of each network
        program = q.find("questionvariables/text").text
        env = evaluate_program(program)
        script = tmp_path / "q.mac"
        script.write_text("display2d: false$\n" + program + "\n" + "".join(
            f'print("ta{k}", float(flatten(args(ta{k}))))$\n' for k in range(1, 6)))
        out = subprocess.run(["maxima", "--very-quiet", "-b", str(script)], capture_output=True,
                             text=True, timeout=120).stdout
        for k in range(1, 6):
            (line,) = re.findall(rf"^ta{k}\s*\[([^\]]*)\]", out, re.M)
            got = [float(v.replace("E", "e")) for v in line.replace("\n", " ").split(",")]
            want = [float(sp.N(v, 20)) for v in env[f"ta{k}"]]
            assert got == pytest.approx(want, rel=1e-12, abs=1e-15), (k, got, want)


@pytest.mark.slow
def test_prairielearn_and_canvas_ask_the_same_instances(dsga_moodle, tmp_path):
    """PrairieLearn's server.py draws among the same verified instances (variant_seed mod 3)
    and gives their numbers; Canvas asks each instance entry by entry."""
    files = export_prairielearn(DSGA).files
    path = tmp_path / "server.py"
    path.write_bytes(files["dsga1008_hw1-prairielearn/questions/dsga1008_hw1/1.2b/server.py"])
    spec = importlib.util.spec_from_file_location("server_dsga_12b", path)
    server = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(server)
    moodle = [evaluate_program(q.find("questionvariables/text").text) for q in dsga_moodle[6:9]]
    for seed in range(2 * INSTANCES):
        data = {"params": {}, "correct_answers": {}, "variant_seed": seed}
        server.generate(data)
        env = moodle[seed % INSTANCES]
        for k in range(1, 6):
            assert _close(data["correct_answers"][f"ans{k}"], env[f"ta{k}"], 1e-9)
        assert r"\(y = \begin{bmatrix}" in data["params"]["statement"]
    html = files["dsga1008_hw1-prairielearn/questions/dsga1008_hw1/1.2b/question.html"].decode()
    assert html.count("<pl-matrix-component-input") == 5
    assert 'label="\\(\\partial \\ell / \\partial b^{({1})}\\):"' in html
    (data,) = export_canvas(DSGA).files.values()
    archive = zipfile.ZipFile(io.BytesIO(data))
    (name,) = [n for n in archive.namelist() if n != "imsmanifest.xml"]
    q = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
    groups = [g for g in ET.fromstring(archive.read(name)).iter(f"{q}section")
              if g.get("title", "").startswith("1.2(b)")]
    items = groups[0].findall(f"{q}item")
    assert len(items) == INSTANCES
    # the first blank of the first item: ŷ's first entry, its decimal first
    lid = next(items[0].iter(f"{q}response_lid"))
    forms = [m.text for m in lid.iter(f"{q}mattext")][1:]
    value = float(sp.N(moodle[0]["ta1"][0], 20))
    assert float(forms[0]) == pytest.approx(value, rel=1e-11)
    assert f"{value:.4g}".rstrip("0") in [f.rstrip("0") for f in forms]


def test_a_wrong_formula_is_never_exported(monkeypatch):
    """The key's formula is checked against the derivative of the composed loss at every
    instance: a transposed product (what a slip in the key would give) is refused."""
    _, variant_list, _ = load_variants(DSGA)
    pv = [p for p in by_problem(variant_list) if p.problem.id == "1.1bcd"][0]
    name, solution = pv.variants[0]
    inst = build(solution, "1/1")
    assert set(inst.values) == set(COUNTED)
    from dataclasses import replace
    wrong = tuple(replace(a, value=a.value.T * 2 if a.label == "grad.b2" else a.value)
                  for a in solution.answers)
    with pytest.raises(Unsupported, match="grad.b2 does not equal its quantity"):
        build(replace(solution, answers=wrong), "1/1")
    # the same seed draws the same instance; another seed another one
    assert build(solution, "1/1").given[0][2] == inst.given[0][2]
    assert build(solution, "1/2").values != inst.values


def test_matrix_gradients_at_a_concrete_size():
    """NNDL Q2-Q3 (matrix_gradient): the gradient at drawn matrices, checked against the
    derivative of f written out entry by entry; in STACK the key's formula over the drawn
    names."""
    _, variant_list, _ = load_variants(NNDL)
    pvs = {p.problem.id: p for p in by_problem(variant_list)}
    c = concrete(pvs["Q3"])
    assert [n for n, _ in c.variants] == ["1", "2", "3"]
    solution = c.variants[0][1]
    inst = solution.body.instance
    given = {name: value for name, _, value in inst.given}
    W, x, b, y = given["W"], given["x"], given["b"], given["y"]
    # L = ‖Wx + b − y‖², ∂L/∂W = 2 (Wx + b − y) xᵀ: here by hand from the numbers
    assert inst.values["gradient"] == 2 * (W * x + b - y) * x.T
    assert r"$\mathbf{W} = \begin{bmatrix}" in solution.problem.statement
    text = maxima_matrix(inst.formulas["gradient"], dict(inst.sizes))
    assert text == "(2)*((-(y) + W . x + b) . transpose(x))"
    q22 = concrete(pvs["Q2.2"]).variants[0][1]
    g = {name: v for name, _, v in q22.body.instance.given}
    (ys,) = [v for name, _, v in q22.body.instance.scalars if name == "y"]
    assert q22.body.instance.values["gradient"] == ((g["w"].T * g["x"])[0, 0] - ys) * g["x"]
    questions = [q for q in _stack_questions(NNDL) if q.find("name/text").text.startswith("Q2.2")]
    assert len(questions) == INSTANCES
    env = evaluate_program(questions[0].find("questionvariables/text").text)
    assert env["ta1"] == q22.body.instance.values["gradient"]
    assert "ta1: ((transpose(w) . x) - y)*(x);" in questions[0].find("questionvariables/text").text


@pytest.mark.slow
def test_instances_are_deterministic():
    """The same key gives the same instances (seeded by problem, variant and number)."""
    _, variant_list, _ = load_variants(DSGA)
    pv = [p for p in by_problem(variant_list) if p.problem.id == "1.2a"][0]
    a = [s.body.instance.values for _, s in concrete(pv).variants]
    b = [s.body.instance.values for _, s in concrete(pv).variants]
    assert a == b and len({str(v) for v in a}) == INSTANCES
    assert all(isinstance(s.body, InstanceBody) for _, s in concrete(pv).variants)
