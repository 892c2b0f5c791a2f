"""A student's proof, one relation per line (label ``<problem id>/proof``), checked by the
proofs' chain checker: the first line that does not follow is named."""

import pytest

from symderiv.check import check, proofs
from symderiv.spec import load

from .conftest import ROOT

SEED_CHAIN = r"""
$$f(\theta^{k+1}) \leq f(\theta^k) - \frac{1}{L} \|\nabla f(\theta^k)\|^2 + \frac{L}{2} \left\| \frac{1}{L} \nabla f(\theta^k) \right\|^2$$
$$\leq f(\theta^k) - \frac{1}{2L} \|\nabla f(\theta^k)\|^2$$
$$\Leftrightarrow \|\nabla f(\theta^k)\|^2 \leq 2L [f(\theta^k) - f(\theta^{k+1})]$$
$$\Rightarrow \min_{1 \leq k \leq T} \|\nabla f(\theta^k)\|^2 \leq 2L [f(\theta^k) - f(\theta^{k+1})]$$
"""


def _problem(path, pid):
    return next(p for p in load(ROOT / path).problems if p.id == pid)


@pytest.fixture(scope="module")
def q3():
    return _problem("problems/ama564_a1.toml", "3")


def test_lines_of_takes_off_displays_and_alignment():
    assert proofs.lines_of(SEED_CHAIN)[1] == r"\leq f(\theta^k) - \frac{1}{2L} \|\nabla f(\theta^k)\|^2"
    assert proofs.lines_of("\\begin{align*} a &= b \\\\ &\\le c. \\end{align*}") == ["a  = b", "\\le c"]
    assert proofs.lines_of("  \n$$ $$\n") == []


@pytest.mark.slow
def test_seed_student_chain_is_wrong_at_its_fourth_line(q3):
    verdict, (said,) = proofs.grade(q3, SEED_CHAIN)
    assert verdict == "incorrect"
    assert said.startswith("line 4 does not follow: $k$ is the index of the minimum")
    assert "a counterexample: $" in said


@pytest.mark.slow
def test_a_wrong_step_is_named_with_a_counterexample(q3):
    chain = "f(\\theta^{k+1}) \\le f(\\theta^k) - \\frac{1}{L}\\|\\nabla f(\\theta^k)\\|^2"
    verdict, (said,) = proofs.grade(q3, chain)
    assert verdict == "incorrect"
    assert said.startswith("line 1 does not follow") and "a counterexample: $" in said


@pytest.mark.slow
def test_right_lines_that_stop_short_of_the_claim(q3):
    chain = ("f(\\theta^{k+1}) \\le f(\\theta^k) - \\frac{1}{2L}\\|\\nabla f(\\theta^k)\\|^2\n"
             "\\Leftrightarrow \\|\\nabla f(\\theta^k)\\|^2 \\le 2L[f(\\theta^k) - f(\\theta^{k+1})]")
    verdict, (said,) = proofs.grade(q3, chain)
    assert verdict == "incorrect"
    assert said.startswith("every line follows, but the chain does not reach the claim $\\min_{1 \\le k \\le T}")


def test_a_written_proof_takes_its_own_notation_and_hypotheses():
    problem = _problem("problems/examples/written_proofs.toml", "1")
    assert proofs.gradable(problem)
    right = ("\\log(e^{x_1} + e^{x_2} + e^{x_3}) = x_1 + \\log(1 + e^{x_2 - x_1} + e^{x_3 - x_1})\n"
             "\\ge x_1")
    assert proofs.grade(problem, right) == ("correct", ("all 2 lines follow, and the last gives the claim",))
    wrong = ("\\log(e^{x_1} + e^{x_2} + e^{x_3}) = x_1 + \\log(e^{x_2 - x_1} + e^{x_3 - x_1})\n"
             "\\ge x_1")
    verdict, (said,) = proofs.grade(problem, wrong)
    assert verdict == "incorrect" and said.startswith("line 1 does not follow")


def test_a_problem_with_no_chain_context_is_not_a_proof_label():
    assert not proofs.gradable(_problem("problems/ama564_a1.toml", "1a"))     # a derivative
    assert not proofs.gradable(_problem("problems/ama564_a1.toml", "2"))      # quantile: no chain data


@pytest.mark.slow
def test_check_grades_the_seed_submission_proof():
    report = check(ROOT / "problems/ama564_a1.toml",
                   ROOT / "problems/submissions/ama564_a1_student_proof.toml")
    (result,) = [r for r in report.results if r.label == "3/proof"]
    assert result.verdict == "incorrect" and result.method == "proof chain"
    assert result.feedback[0].startswith("line 4 does not follow")
