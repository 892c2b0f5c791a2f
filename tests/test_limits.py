"""Issue 12, item 5: domains and parameters in limits and derivatives. One test per case of
the issue, named after it, plus the pieces they rest on."""

import sympy as sp
import pytest
from click.testing import CliRunner

from symderiv.cli import main
from symderiv.errors import VerificationFailed

HEAD = '[meta]\ntitle = "t"\n'


def problem(body: str) -> str:
    return HEAD + '[[problem]]\nid = "1"\nkind = "derivative"\n' + body


def run(*args):
    return CliRunner().invoke(main, [*map(str, args), "--timeout", "60"])


# --- x*log(x) at −∞ ----------------------------------------------------------------------


def test_x_log_x_at_minus_infinity_is_refused_with_its_domain(write_toml):
    path = write_toml(problem('functions = [{ name = "f", expr = "x*log(x)" }]\n'
                              'limits = ["+oo", "-oo"]\n'))
    result = run("solve", path, "--json")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [f"symderiv: {path}: problem 1: limits: f: log(x) is not defined for "
                     "x <= 0 (log needs a positive argument), so there is no limit at -oo to ask for"]


def test_x_log_x_at_minus_infinity_with_x_assumed_positive(write_toml):
    path = write_toml(problem('functions = [{ name = "h", expr = "x*log(x)" }]\n'
                              'limits = ["-oo"]\n[problem.assume]\nx = "positive"\n'))
    result = run("solve", path, "--json")
    assert result.exit_code == 2
    assert "h: x is assumed to satisfy x > 0, so x -> -oo is outside its domain" in result.output


def test_x_log_x_at_plus_infinity_is_still_answered(write_toml):
    import json

    path = write_toml(problem('functions = [{ name = "f", expr = "x*log(x)" }]\nlimits = ["+oo"]\n'))
    result = run("solve", path, "--json")
    assert result.exit_code == 0, result.output
    answers = json.loads(result.output)["problems"][0]["answers"]
    assert answers["f.derivative"]["sympy"] == "log(x) + 1"
    assert answers["f.limit(+oo)"]["sympy"] == "oo"


def test_x_log_x_far_out_check_refuses_values_that_are_not_real():
    """The numbers alone would have passed ln x + 1 → +∞ at −∞ (its real part grows)."""
    from symderiv.assume import Scope
    from symderiv.verify import check_limit

    x = sp.Symbol("x", real=True)
    with pytest.raises(VerificationFailed, match="not real"):
        check_limit("p", "f.limit(-oo)", sp.log(x) + 1, x, -sp.oo, sp.oo, Scope())


@pytest.mark.parametrize("expr, point, message", [
    ("sqrt(1 - x)", "+oo", "sqrt(1 - x) is not defined for x > 1"),
    ("log(a*x)", "+oo", "log(a*x) is defined as x -> +oo only for some values of the parameters"),
])
def test_x_log_x_domain_reasons_of_other_pieces(write_toml, expr, point, message):
    path = write_toml(problem(f'functions = [{{ name = "f", expr = "{expr}" }}]\n'
                              f'limits = ["{point}"]\n'))
    result = run("solve", path, "--json")
    assert result.exit_code == 2
    assert message in result.output
