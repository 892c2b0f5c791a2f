"""The command line: help, JSON key, determinism, question sheet, derive, list, timeouts."""

import json
import subprocess
import sys

import pytest
import sympy as sp
from click.testing import CliRunner

from symderiv.cli import main

from .conftest import PROBLEMS, ROOT

COMMANDS = ["render", "solve", "derive", "list"]


@pytest.mark.parametrize("command", [[]] + [[c] for c in COMMANDS])
def test_help(command):
    result = CliRunner().invoke(main, command + ["--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_help_does_not_import_sympy():
    code = ("import sys; from symderiv.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('sympy' in sys.modules, 'jinja2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False"


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and "symderiv, version" in result.output


def _key(path):
    result = CliRunner().invoke(main, ["solve", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.slow
def test_ama564_json_labels_and_values():
    key = _key(ROOT / "problems" / "ama564_a1.toml")
    q1a = next(p for p in key["problems"] if p["id"] == "1a")
    assert q1a["verified"] is True
    answers = q1a["answers"]
    for name in ("sigmoid", "tanh", "leaky_relu"):
        for suffix in (".derivative", ".limit(+oo)", ".limit(-oo)"):
            assert name + suffix in answers
    assert answers["leaky_relu.limit(+oo)"]["sympy"] == "1"
    assert answers["leaky_relu.limit(-oo)"]["sympy"] == "a"
    assert answers["sigmoid.limit(+oo)"]["sympy"] == "0"
    assert "teacher" in answers["sigmoid.derivative"]


@pytest.mark.parametrize("path", PROBLEMS, ids=[p.stem for p in PROBLEMS])
@pytest.mark.slow
def test_json_values_parse_back_and_agree_with_sympy_diff(path):
    """Every "sympy" string parses back; derivatives equal sympy.diff at random points."""
    import random

    from symderiv.library import registry

    from symderiv.derive.netexpr import namespace as network_namespace
    from symderiv.parse import parse_expression
    from symderiv.spec import load

    rng = random.Random(7)
    key = _key(path)
    specs = {p.id: p.spec for p in load(path).problems}
    for problem in key["problems"]:
        if problem["kind"] == "matrix_gradient":
            continue  # strings over matrix names and a shape text: see tests/test_matrix.py
        spec = specs[problem["id"]]
        for label, entry in problem["answers"].items():
            if problem["kind"] == "mlp" and not spec.numeric:
                # matrix expressions over x, W1, z1 …: read back as the checker reads them
                # (their values: tests/test_network.py)
                ns = network_namespace(spec.layers)
                value = parse_expression(entry["sympy"], ns)
                assert value.free_symbols and (label.startswith("elementwise.") or hasattr(value, "shape"))
                continue
            value = sp.parse_expr(entry["sympy"])
            assert value is not None
            name, _, what = label.partition(".")
            if what != "derivative" or name not in registry() or registry()[name].arity != 1:
                continue
            e = registry()[name]
            x = sp.Symbol("x")
            params = {p: sp.Symbol(p) for p in e.params}
            f = e.build(x, params)
            var = [s for s in value.free_symbols if s.name not in ("x", *e.params)]
            for _ in range(5):
                at = {sp.Symbol(p): sp.Rational(rng.randint(1, 9), 10) for p in e.params}
                x0 = sp.Rational(rng.choice([-1, 1]) * rng.randint(1, 300), 100)
                mine = value.subs(at).subs(x, x0) if not var else value.subs(at).subs(var[0], x0)
                theirs = sp.diff(f, x).subs(at).subs(x, x0)
                assert abs(complex(sp.N(mine - theirs))) < 1e-12, (label, x0)


@pytest.mark.slow
def test_render_is_deterministic(tmp_path):
    files = [str(p) for p in PROBLEMS]
    CliRunner().invoke(main, ["render", *files, "-o", str(tmp_path / "a")])
    CliRunner().invoke(main, ["render", *files, "-o", str(tmp_path / "b")])
    for p in PROBLEMS:
        a = (tmp_path / "a" / f"{p.stem}.tex").read_bytes()
        b = (tmp_path / "b" / f"{p.stem}.tex").read_bytes()
        assert a == b
    j1 = CliRunner().invoke(main, ["solve", files[0], "--json"]).stdout
    j2 = CliRunner().invoke(main, ["solve", files[0], "--json"]).stdout
    assert j1 == j2


def test_sheet_has_questions_and_no_answers(tmp_path):
    src = ROOT / "problems" / "ama564_a1.toml"
    result = CliRunner().invoke(main, ["render", str(src), "--sheet", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    sheet = (tmp_path / "ama564_a1-sheet.tex").read_text()
    assert "\\printanswers" not in sheet and "Questions" in sheet
    CliRunner().invoke(main, ["render", str(src), "-o", str(tmp_path)])
    key = (tmp_path / "ama564_a1.tex").read_text()
    assert "\\printanswers" in key and "Answer key" in key


def test_derive_prints_steps_and_limits():
    result = CliRunner().invoke(main, ["derive", "leaky_relu", "--limits"])
    assert result.exit_code == 0, result.output
    assert "limit at +oo: 1" in result.output
    assert "limit at -oo: a" in result.output
    assert "not differentiable at x = 0" in result.output


def test_derive_latex_and_expression():
    result = CliRunner().invoke(main, ["derive", "x**3 + exp(2*x)", "--latex"])
    assert result.exit_code == 0, result.output
    assert "derivative: 3 x^{2} + 2 e^{2 x}" in result.output


def test_derive_refuses_code():
    result = CliRunner().invoke(main, ["derive", "__import__('os').system('echo hi')"])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("symderiv: calling anything but a named function is not "
                                     "allowed in an expression")


def test_list_names_registry_and_kinds():
    result = CliRunner().invoke(main, ["list"])
    assert result.exit_code == 0
    for name in ("sigmoid", "leaky_relu", "softmax", "gelu", "check", "huber", "derivative", "text"):
        assert name in result.output


def test_timeout_is_a_clear_error(tmp_path, monkeypatch):
    """With --strict, a problem over its budget stops the build with a message naming it;
    nothing is written (without it, see tests/test_keep_going.py)."""
    import time

    from symderiv.derive import derivative

    def slow(problem):  # the budget counts CPU time: sleeping would not use it up
        end = time.process_time() + 5
        while time.process_time() < end:
            pass

    monkeypatch.setattr(derivative, "solve", slow)
    src = ROOT / "problems" / "ama564_a1.toml"
    out = tmp_path / "out"
    start = time.process_time()  # CPU seconds, as the budget counts them
    result = CliRunner().invoke(main, ["render", str(src), "-o", str(out), "--timeout", "0.5",
                                       "--strict"])
    assert time.process_time() - start < 3
    assert result.exit_code == 1
    assert result.stderr.strip() == ("symderiv: problem 1a: not solved within the time budget "
                                     "of 0.5 s of CPU time (raise it with --timeout)")
    assert not out.exists()


def test_failed_verification_stops_the_build(tmp_path, monkeypatch):
    """A wrong derivative is never rendered: with --strict the build stops naming problem and
    label (--no-keep-going is the same flag)."""
    from symderiv.derive import derivative

    monkeypatch.setattr(derivative, "tidy", lambda expr, var: expr + 1)
    src = ROOT / "problems" / "ama564_a1.toml"
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(src), "-o", str(out), "--no-keep-going"])
    assert result.exit_code == 1
    assert result.stderr.startswith("symderiv: problem 1a: sigmoid.derivative: verification failed")
    assert not out.exists()


def test_a_matrix_of_ones_in_a_json_string_parses_back_as_ones():
    """SymPy's str writes OneMatrix as 1 (so X 1 1ᵀ came out as "X*1"); the key writes it so
    that parse_expr gives the matrix back."""
    from symderiv.export import sympy_string

    n, c = sp.symbols("n c")
    X = sp.MatrixSymbol("X", n, c)
    value = X * sp.OneMatrix(c, 1)
    text = sympy_string(value)
    assert text == "X*OneMatrix(c, 1)"
    assert sympy_string(sp.ZeroMatrix(n, 1)) == "ZeroMatrix(n, 1)"
    assert sp.parse_expr(text, local_dict={"X": X, "n": n, "c": c}) == value


def test_a_shape_in_the_json_key_has_a_latex_form():
    from symderiv.export import answer_entry

    assert answer_entry("n x 1") == {"sympy": "n x 1", "latex": r"n \times 1"}
    assert answer_entry("D x C")["latex"] == r"D \times C"


def test_a_closed_pipe_stops_quietly(monkeypatch, capsys):
    """symderiv check … | head: the reader going away is no internal error."""
    import click

    def broken(*args, **kwargs):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(click, "echo", broken)
    with pytest.raises(SystemExit) as exit_info:
        main(["list"])
    assert exit_info.value.code == 141
    assert "internal error" not in capsys.readouterr().err
