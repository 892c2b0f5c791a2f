"""Bad input: one line naming file, problem, field; exit code 2; no traceback; nothing written."""

import pytest
from click.testing import CliRunner

from symderiv.cli import main

GOOD_PROBLEM = '''
[[problem]]
id = "q1"
kind = "derivative"
functions = ["sigmoid"]
'''

CASES = [
    ("malformed TOML", '[meta\ntitle = "x"', "invalid TOML"),
    ("missing meta", GOOD_PROBLEM, "meta: missing [meta] table"),
    ("missing title", '[meta]\ncourse = "c"\n' + GOOD_PROBLEM, "meta.title: required field is missing"),
    ("unknown meta field", '[meta]\ntitle = "t"\ntitel = "t"\n' + GOOD_PROBLEM, "meta.titel: unknown field"),
    ("no problems", '[meta]\ntitle = "t"\n', "problem: no [[problem]] tables"),
    ("unknown kind", '[meta]\ntitle = "t"\n[[problem]]\nid = "q1"\nkind = "derivatve"\n',
     "problem q1: kind: unknown kind 'derivatve'"),
    ("missing id", '[meta]\ntitle = "t"\n[[problem]]\nkind = "derivative"\nfunctions = ["relu"]\n',
     "problem #1: id: required field is missing"),
    ("duplicate id", '[meta]\ntitle = "t"\n' + GOOD_PROBLEM + GOOD_PROBLEM, "problem q1: id: duplicate problem id"),
    ("unknown function", '[meta]\ntitle = "t"\n[[problem]]\nid = "q1"\nkind = "derivative"\nfunctions = ["sigmod"]\n',
     "problem q1: functions: unknown function 'sigmod'"),
    ("missing functions", '[meta]\ntitle = "t"\n[[problem]]\nid = "q1"\nkind = "derivative"\n',
     "problem q1: functions: required field is missing"),
    ("mistyped functions", '[meta]\ntitle = "t"\n[[problem]]\nid = "q1"\nkind = "derivative"\nfunctions = "relu"\n',
     "problem q1: functions: expected a list of names or inline tables, got the string 'relu'"),
    ("mistyped plot", '[meta]\ntitle = "t"\n' + GOOD_PROBLEM + 'plot = "yes"\n',
     "problem q1: plot: expected true or false, got the string 'yes'"),
    ("unknown field", '[meta]\ntitle = "t"\n' + GOOD_PROBLEM + 'limts = ["+oo"]\n',
     "problem q1: limts: unknown field for kind 'derivative'"),
    ("bad limit", '[meta]\ntitle = "t"\n' + GOOD_PROBLEM + 'limits = ["+infinity"]\n',
     "problem q1: limits: unknown limit point '+infinity'"),
    ("bad assumption", '[meta]\ntitle = "t"\n' + GOOD_PROBLEM + '[problem.assume]\na = "between 0 and 1"\n',
     "problem q1: assume.a: cannot read assumption 'between 0 and 1'"),
    ("empty assumption interval", '[meta]\ntitle = "t"\n' + GOOD_PROBLEM + '[problem.assume]\na = "1 < a < 0"\n',
     "problem q1: assume.a: assumption '1 < a < 0' describes an empty set"),
    ("bad inline expression", '[meta]\ntitle = "t"\n[[problem]]\nid = "q1"\nkind = "derivative"\n'
     'functions = [{ name = "f", expr = "__import__(\'os\')" }]\n',
     "problem q1: functions: f: unknown function '__import__'"),
    ("inline without var", '[meta]\ntitle = "t"\n[[problem]]\nid = "q1"\nkind = "derivative"\n'
     'functions = [{ name = "f", expr = "y**2" }]\n',
     "problem q1: functions: f: 'y**2' does not depend on x"),
    ("dangerous LaTeX", '[meta]\ntitle = "t"\n' + GOOD_PROBLEM + 'statement = "see \\\\input{/etc/passwd}"\n',
     "problem q1: statement: the LaTeX command \\input is not allowed"),
    ("write18", '[meta]\ntitle = "t"\n' + GOOD_PROBLEM + 'statement = "\\\\immediate\\\\write18{rm -rf /}"\n',
     "problem q1: statement: the LaTeX command \\immediate is not allowed"),
    ("text answer missing", '[meta]\ntitle = "t"\n[[problem]]\nid = "t1"\nkind = "text"\n',
     "problem t1: answer: required field is missing"),
]


@pytest.mark.parametrize("name, text, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(name, text, message, tmp_path):
    src = tmp_path / "bad.toml"
    src.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(src), "-o", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"symderiv: {src}: ")
    assert message in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())


def test_missing_file(tmp_path):
    result = CliRunner().invoke(main, ["solve", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"symderiv: {tmp_path / 'nope.toml'}: no such file"


def test_second_file_bad_means_first_not_written(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[meta]\ntitle = "t"\n' + GOOD_PROBLEM)
    bad = tmp_path / "bad.toml"
    bad.write_text("[meta")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(good), str(bad), "-o", str(out)])
    assert result.exit_code == 2
    assert not out.exists() or not any(out.iterdir())


STATEMENT = '[meta]\ntitle = "t"\n[[problem]]\nid = "q1"\nkind = "derivative"\nfunctions = ["sigmoid"]\nstatement = {}\n'


@pytest.mark.parametrize("statement, message", [
    ("'the loss L = h2^2/2.'", "problem q1: statement: a superscript '^' outside a formula "
                               "(near 'L = h2^2/2.'): LaTeX reads it only in math, so write it "
                               "between $ signs"),
    ("'the weights w_1 and $w_2$'", "problem q1: statement: a subscript '_' outside a formula "
                                    "(near 'the weights w_1'): LaTeX reads it only in math, so write "
                                    "it between $ signs (or \\_ for the character)"),
])
def test_a_script_outside_a_formula_is_one_line(statement, message, tmp_path):
    """LaTeX stops with "Missing $ inserted" only after the key is written: refused before."""
    path = tmp_path / "p.toml"
    path.write_text(STATEMENT.format(statement))
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.strip() == f"symderiv: {path}: {message}"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("statement", [
    r"'$h_2^2/2$ and $$w_1$$ and \(x_1\) and \[x^2\]'",
    r"'''\begin{align*} a_1 &= b^2 \end{align*} file\_name, 50\% % a comment with x_1'''",
])
def test_scripts_inside_formulas_and_escaped_are_accepted(statement, tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(STATEMENT.format(statement))
    result = CliRunner().invoke(main, ["solve", str(path), "--json"])
    assert result.exit_code == 0, result.output
