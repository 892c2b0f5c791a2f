"""The Python API (symderiv.derive, solve_file, check) and its Jupyter display."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

import symderiv

ROOT = Path(__file__).resolve().parent.parent
AMA = ROOT / "problems" / "ama564_a1.toml"
STUDENT = ROOT / "problems" / "submissions" / "ama564_a1_student.toml"


def test_import_is_light():
    code = ("import sys, symderiv; assert callable(symderiv.__getattr__); "
            "print(sorted(m for m in ('sympy', 'jinja2', 'lark') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_derive_returns_the_cli_object_and_displays():
    from symderiv.derive.derivative import FunctionResult

    r = symderiv.derive("sigmoid", limits=True)
    assert type(r) is FunctionResult
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.name = "other"
    x = sp.Symbol("x", real=True)
    assert sp.simplify(r.derivative - sp.exp(-x) / (1 + sp.exp(-x)) ** 2) == 0
    md = r._repr_markdown_()
    assert md.startswith("**Sigmoid**: the derivative, step by step")
    assert r"\boxed{\sigma(x) \left(1 - \sigma(x)\right)}" in md
    assert r"\text{reciprocal, chain}" in md
    assert r"\lim_{x \to +\infty} \frac{d}{dx}\sigma(x) &= 0" in md
    assert "Verified: derivatives against the symbolic derivative" in md
    bundle = r._repr_mimebundle_()
    assert set(bundle) == {"text/markdown", "text/latex", "text/plain"}
    assert bundle["text/latex"] == r._repr_latex_() and bundle["text/latex"].startswith("$$")
    assert r._repr_mimebundle_(include={"text/plain"}) == {"text/plain": bundle["text/plain"]}
    assert symderiv.derive("x**3", var="x").derivative == 3 * x ** 2


def test_solve_file():
    from symderiv.derive.steps import Solution

    key = symderiv.solve_file(AMA)
    assert [s.problem.id for s in key.solutions] == ["1a", "1b", "2", "3"]
    assert all(type(s) is Solution for s in key.solutions)
    assert key.answers()["1b/forward.yhat"] == sp.Rational(133, 100)
    md = key._repr_markdown_()
    assert md.startswith("## AMA564 Assignment 1")
    assert "| forward, yhat | $\\frac{133}{100}$ |" in md
    assert "### Question 1(b): forward pass and back-propagation" in md
    assert key["1b"]._repr_latex_().startswith(r"$$\begin{aligned}")


KEY = """
[meta]
title = "Sigmoid"

[[problem]]
id = "1"
kind = "derivative"
statement = "Differentiate."
functions = ["sigmoid"]
limits = ["+oo", "-oo"]
"""


def test_check(write_toml):
    from symderiv.check import Report

    key = write_toml(KEY, "key.toml")
    answers = write_toml('[answers]\n"1/sigmoid.derivative" = "sigmoid(x)*(1 - sigmoid(x))"\n'
                         '"1/sigmoid.limit(+oo)" = "1"\n', "answers.toml")
    report = symderiv.check(key, answers)  # the package symderiv.check, called
    assert type(report) is Report
    assert (report.correct, report.total) == (1, 3)
    text = report._repr_markdown_()
    assert text.startswith("### Sigmoid: 1/3 correct")
    assert "| `1/sigmoid.limit(+oo)` `1` | **incorrect** |" in text
    assert "| `1/sigmoid.limit(-oo)`  | **missing** | no answer given |" in text


def test_bad_input_is_the_cli_error():
    from symderiv.errors import BadInput

    with pytest.raises(BadInput):
        symderiv.derive("x +* 2")


def test_export_help_imports_no_sympy():
    code = ("import sys\nfrom click.testing import CliRunner\nfrom symderiv.cli import main\n"
            "for args in (['--help'], ['export', '--help'], ['export', 'gradescope', '--help']):\n"
            "    assert CliRunner().invoke(main, args).exit_code == 0\n"
            "print([m for m in ('sympy', 'jinja2') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_export_of_an_unsolved_part_exits_1(write_toml, tmp_path, monkeypatch):
    import time

    from click.testing import CliRunner

    from symderiv.cli import main
    from symderiv.derive import derivative

    real = derivative.solve

    def slow(problem):  # the budget counts CPU time
        end = time.process_time() + 1
        while time.process_time() < end:
            pass
        return real(problem)

    monkeypatch.setattr(derivative, "solve", slow)
    key = write_toml(KEY, "slow.toml")
    result = CliRunner().invoke(main, ["export", "moodle", str(key), "-o", str(tmp_path),
                                       "--timeout", "0.3"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "symderiv: problem 1: not exported to Moodle: not solved: took more than the time "
        "budget of 0.3 s of CPU time (raise it with --timeout)")
    assert (tmp_path / "slow-moodle.xml").exists()


def test_bad_key_is_one_line(tmp_path):
    from click.testing import CliRunner

    from symderiv.cli import main

    result = CliRunner().invoke(main, ["export", "canvas", str(tmp_path / "none.toml"),
                                       "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"symderiv: {tmp_path / 'none.toml'}: no such file"]
