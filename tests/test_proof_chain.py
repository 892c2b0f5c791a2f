"""Proofs as chains of steps: each justification, a wrong step caught with a counterexample,
the seed student's wrong step, LaTeX lines, and bad input in a problem file."""

import json

import pytest
import sympy as sp
from click.testing import CliRunner

from symderiv.cli import main
from symderiv.derive.proofs import chain
from symderiv.derive.proofs.chain import check_chain, make_context, parse_step, check_lines
from symderiv.errors import BadInput

GD = dict(symbols={"L": "positive", "T": "positive", "eta": "positive"},
          sequences={"f": "real", "G": "nonnegative"},
          notation={"f": r"f(\theta^{?})", "G": r"\|\nabla f(\theta^{?})\|^2", "fbar": r"\bar f"})


def _run(lines, **kw):
    ctx = make_context(**{k: v for k, v in kw.items()})
    steps = [parse_step(i + 1, text, by, ctx) for i, (text, by) in enumerate(lines)]
    return ctx, check_lines(ctx, steps)


def _values(counterexample: str, ctx) -> dict:
    """'$x_{1} = \\frac{1}{2},\\ x_{2} = 3$' → {x1: 1/2, x2: 3} (names read back by their LaTeX)."""
    out = {}
    for part in counterexample.strip("$").split(r",\ "):
        name, value = part.split(" = ")
        value = value.replace(r"\frac{", "(").replace("}{", ")/(").replace("}", ")").replace(" ", "")
        out[name.strip()] = sp.Rational(sp.parse_expr(value))
    return out


def test_identity_and_sign_by_algebra():
    _, verdicts = _run([("log(exp(x1) + exp(x2))", None), ("= x1 + log(1 + exp(x2 - x1))", "algebra"),
                        (">= x1", "algebra")])
    assert [v.status for v in verdicts] == ["start", "proved", "proved"]


def test_a_wrong_identity_has_a_counterexample_that_breaks_it():
    ctx, verdicts = _run([("(a + b)**2", None), ("= a**2 + b**2", "algebra")])
    bad = verdicts[-1]
    assert bad.status == "failed" and "does not follow" in bad.reason
    at = _values(bad.counterexample, ctx)
    a, b = at["a"], at["b"]
    assert (a + b) ** 2 != a ** 2 + b ** 2


def test_hypothesis_used_by_name_and_refused_without_it():
    kw = dict(symbols={"eta": "positive", "L": "positive", "G": "nonnegative"}, given={"small": "L*eta <= 1"})
    line = [("f - eta*(1 - L*eta/2)*G", None), ("<= f - eta/2*G", "hyp small")]
    assert _run(line, **kw)[1][-1].status == "proved"
    # without the hypothesis SymPy cannot derive it, and a point with Lη > 1 breaks it
    ctx, verdicts = _run([line[0], (line[1][0], "algebra")], **kw)
    assert verdicts[-1].status == "failed"


def test_a_wrong_constant_under_the_hypotheses_gets_a_counterexample():
    kw = dict(symbols={"eta": "positive", "L": "positive", "G": "nonnegative"}, given={"small": "L*eta <= 1"})
    ctx, verdicts = _run([("f - eta*(1 - L*eta/2)*G", None), ("<= f - eta*G", "hyp small")], **kw)
    bad = verdicts[-1]
    assert bad.status == "failed"
    at = _values(bad.counterexample, ctx)
    eta, L, G = at[r"\eta"], at["L"], at["G"]
    assert L * eta <= 1 and G > 0                                    # the hypotheses hold
    assert -eta * (1 - L * eta / 2) * G > -eta * G                   # and the line fails


def test_telescoping_sum_and_mean_at_least_min():
    ctx, verdicts = _run([("G(k) <= 2*L*(f(k) - f(k+1))", "cited the descent lemma"),
                          ("=> sum(G(k), k, 1, T) <= 2*L*(f(1) - f(T+1))", "sum k=1..T")], **GD)
    assert verdicts[-1].status == "proved"
    assert verdicts[-1].detail == "the sum of the line before over k"
    ctx, verdicts = _run([("G(k) <= 2*L*(f(k) - f(k+1))", "cited the descent lemma"),
                          ("=> sum(G(k), k, 1, T) <= 2*L*(f(0) - f(T))", "sum k=1..T")], **GD)
    assert verdicts[-1].status == "failed" and "summing" in verdicts[-1].reason
    _, verdicts = _run([("minimum(G(k), k, 1, T) <= sum(G(k), k, 1, T)/T", "mean >= min")], **GD)
    assert verdicts[-1].status == "proved"
    _, verdicts = _run([("minimum(G(k), k, 1, T) >= sum(G(k), k, 1, T)/T", "mean >= min")], **GD)
    assert verdicts[-1].status == "failed" and verdicts[-1].counterexample


@pytest.mark.parametrize("line, by, ok", [
    ("(x + y)/2 >= sqrt(x*y)", "am-gm", True),
    ("(x + y)/2 >= 2*sqrt(x*y)", "am-gm", False),
    ("(a1*b1 + a2*b2)**2 <= (a1**2 + a2**2)*(b1**2 + b2**2)", "cauchy-schwarz", True),
    ("(a1*b1 + a2*b2)**2 <= (a1**2 + a2**2)*b1**2", "cauchy-schwarz", False),
    ("(x1/2 + x2/2)**2 <= x1**2/2 + x2**2/2", "jensen", True),
    ("(x1/2 + x2/2)**2 >= x1**2/2 + x2**2/2", "jensen", False),
    ("log(x/3 + 2*y/3) >= log(x)/3 + 2*log(y)/3", "jensen", True),
])
def test_named_inequalities(line, by, ok):
    _, verdicts = _run([(line, by)], symbols={"x": "positive", "y": "positive"})
    assert verdicts[-1].passed is ok, verdicts[-1].reason


def test_cited_is_marked_and_instances_are_a_test():
    _, verdicts = _run([("f(k+1) <= f(k)", "cited monotone descent")], **GD)
    assert verdicts[0].status == "cited" and verdicts[0].detail == "monotone descent"
    _, verdicts = _run([("x**2 + 1 >= 2*x", "instances")])
    assert verdicts[0].status == "tested"
    _, verdicts = _run([("x**2 + 1 >= 3*x", "instances")])
    assert verdicts[0].status == "failed" and verdicts[0].counterexample


def test_a_chain_that_mixes_directions_proves_nothing():
    _, verdicts = _run([("x**2 + 1", None), (">= 2*x", "algebra"), ("<= 2*x + 1", "algebra")])
    assert verdicts[-1].status == "failed" and "mixes" in verdicts[-1].reason


def test_seed_student_step_is_the_first_that_does_not_follow():
    """Seed 000, AMA564 Q3: ‖∇f(θᵏ)‖² ≤ 2L[f(θᵏ) − f(θᵏ⁺¹)] ⇒ min_{1≤k≤T} ‖∇f(θᵏ)‖² ≤ 2L[f(θᵏ) − f(θᵏ⁺¹)]."""
    lines = [r"f(\theta^{k+1}) \leq f(\theta^k) - \frac{1}{L} \|\nabla f(\theta^k)\|^2 + \frac{L}{2} \left\| \frac{1}{L} \nabla f(\theta^k) \right\|^2",
             r"\leq f(\theta^k) - \frac{1}{2L} \|\nabla f(\theta^k)\|^2",
             r"\Leftrightarrow \|\nabla f(\theta^k)\|^2 \leq 2L [f(\theta^k) - f(\theta^{k+1})]",
             r"\Rightarrow \min_{1 \leq k \leq T} \|\nabla f(\theta^k)\|^2 \leq 2L [f(\theta^k) - f(\theta^{k+1})]"]
    result = check_chain(lines, by=["cited Lemma 3.1"], **GD)
    bad = result.failed
    assert bad is not None and bad.step.number == 4
    assert [v.status for v in result.verdicts[:3]] == ["cited", "proved", "proved"]
    assert "is the index of the minimum" in bad.reason
    assert r"\min_{1 \le j \le T}" in bad.counterexample       # the index read as its own letter
    # the corrected step (the sum, then the mean) passes
    good = check_chain(["G(k) <= 2*L*(f(k) - f(k+1))",
                        "=> sum(G(k), k, 1, T) <= 2*L*(f(1) - f(T+1))"],
                       by=["cited the line before", "sum k=1..T"], **GD)
    assert good.ok


def test_student_plain_lines_with_unicode_relations():
    result = check_chain(["x^2 - 2*x + 1", "= (x - 1)^2", "≥ 0"])
    assert result.ok and [v.status for v in result.verdicts] == ["start", "proved", "proved"]
    result = check_chain(["x^2 - 2*x + 1", "= (x + 1)^2"])
    assert result.failed.step.number == 2 and result.failed.counterexample.startswith("$x = ")


def test_student_line_that_cannot_be_read_names_the_line():
    with pytest.raises(BadInput, match="line 2"):
        check_chain(["x", r"= \foo{x}"])


def test_justifications_that_cannot_be_read():
    for text in ("magic", "cited", "hyp", "sum k"):
        with pytest.raises(BadInput):
            chain.parse_justification(text)
    assert chain.parse_justification("hyp one step, bound at k = T+1").at == (("k", "T+1"),)


PROOF = '''
[meta]
title = "t"
[[problem]]
id = "p"
kind = "proof"
claim = "{claim}"
[problem.assume]
G = "nonnegative"
L = "positive"
[problem.given]
small = "G <= 1"
[[problem.steps]]
line = "{line}"
by = "{by}"
'''


@pytest.mark.parametrize("claim, line, by, field, message", [
    ("x >= 0", "x**2 >= 0", "magic", "steps[1].by", "unknown justification"),
    ("x >= 0", "x**2 >= 0", "hyp nothing", "steps[1].by", "no hypothesis or earlier step named 'nothing'"),
    ("x >=", "x**2 >= 0", "algebra", "claim", ""),
    ("x >= 0", "x**2 >= 0 >= 1", "algebra", "steps[1].line", "one relation per line"),
    ("x >= 0", "__import__(1) >= 0", "algebra", "steps[1].line", "unknown function"),
])
def test_bad_proof_files_get_one_line_and_exit_2(write_toml, claim, line, by, field, message):
    path = write_toml(PROOF.format(claim=claim, line=line, by=by))
    result = CliRunner().invoke(main, ["solve", str(path), "--json"])
    assert result.exit_code == 2
    out = result.output.strip()
    assert len(out.splitlines()) == 1 and f"problem p: {field}:" in out and message in out


def test_a_failing_step_is_not_solved_with_its_counterexample(write_toml):
    path = write_toml(PROOF.format(claim="L*G <= L", line="L*G <= L*G**2", by="hyp small"))
    result = CliRunner().invoke(main, ["solve", str(path), "--json"])
    assert result.exit_code == 1
    key = json.loads(result.stdout)
    assert key["problems"][0]["solved"] is False
    reason = key["unsolved"][0]["reason"]
    assert reason.startswith("step 1: verification failed: does not follow") and "counterexample: $G = " in reason
    path = write_toml(PROOF.format(claim="L*G <= L", line="L*G <= L", by="hyp small"))
    result = CliRunner().invoke(main, ["solve", str(path), "--json"])
    assert result.exit_code == 0, result.output
    problem = json.loads(result.stdout)["problems"][0]
    assert problem["verified"] is True and problem["answers"]["conclusion"]["sympy"] == "G*L <= L"


def test_a_chain_that_does_not_reach_the_claim(write_toml):
    path = write_toml(PROOF.format(claim="L*G <= L/2", line="L*G <= L", by="hyp small"))
    result = CliRunner().invoke(main, ["solve", str(path), "--json"])
    assert result.exit_code == 1
    assert "conclusion: verification failed: the last line does not give the claim" in \
        json.loads(result.stdout)["unsolved"][0]["reason"]


def test_registered_theorem_steps_are_checked_as_chains(monkeypatch):
    """The GD rate's algebra goes through the chain checker: a wrong line in it fails."""
    from symderiv.derive import proofs
    from symderiv.derive.proofs import StepFailed, chained
    with pytest.raises(StepFailed, match="line 2 does not follow"):
        chained([("f(k) - G(k)/L + L/2*G(k)/L**2", None), ("= f(k) - G(k)/L", "algebra")], "",
                symbols={"L": "positive"}, sequences={"f": "real", "G": "nonnegative"})()
    steps = proofs.theorem("gd_smooth_rate").steps({})
    mean = next(s for s in steps if s.name == "minimum at most the mean")
    assert mean.check == "sympy" and mean.run().startswith(r"$\min_{1 \le k \le T} G_k")


def test_chain_report_is_plain_data():
    result = check_chain(["x^2 + 1", ">= 2*x", ">= 3*x"])
    report = result.report()
    assert [r["status"] for r in report] == ["start", "proved", "failed"]
    assert report[2]["line"] == 3 and report[2]["counterexample"].startswith("$x = ")


def test_a_line_false_everywhere_says_so():
    result = check_chain(["x^2 + 1", ">= 2*x", ">= 2*x + 1"])
    assert result.failed.step.number == 3 and result.failed.counterexample == "every value (the line is false)"


def test_the_documented_example_proof_solves(tmp_path):
    import re
    from .conftest import ROOT
    doc = (ROOT / "docs" / "problem-format.md").read_text(encoding="utf-8")
    section = doc[doc.index("### Proofs written in the file"):]
    block = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
    path = tmp_path / "doc.toml"
    path.write_text('[meta]\ntitle = "t"\n' + block, encoding="utf-8")
    result = CliRunner().invoke(main, ["solve", str(path), "--json"])
    assert result.exit_code == 0, result.output
    problem = json.loads(result.stdout)["problems"][0]
    assert problem["verified"] is True
    claim = sp.parse_expr(problem["answers"]["conclusion"]["sympy"])
    assert claim.rhs == 2 * sp.Symbol("L") * (sp.Function("f")(0) - sp.Symbol("fbar")) / sp.Symbol("T")


def test_a_strict_line_needs_a_strict_reason():
    """x > 0 does not follow from x ≥ 0 (times a positive number), x ≥ 0 does."""
    kw = dict(symbols={"c": "positive"}, given={"h": "x >= 0"})
    assert not _run([("c*x > 0", "hyp h")], **kw)[1][-1].passed
    assert _run([("c*x >= 0", "hyp h")], **kw)[1][-1].passed
    assert _run([("c*x > 0", "hyp h")], symbols={"c": "positive"}, given={"h": "x > 0"})[1][-1].passed


def test_bad_given_names_its_field(write_toml):
    text = PROOF.format(claim="x >= 0", line="x**2 >= 0", by="algebra").replace(
        'small = "G <= 1"', 'small = "G <="')
    result = CliRunner().invoke(main, ["solve", str(write_toml(text)), "--json"])
    assert result.exit_code == 2 and "problem p: given.small:" in result.output
    text = PROOF.format(claim="x >= 0", line="x**2 >= 0", by="algebra") + 'from = "nowhere"\n'
    result = CliRunner().invoke(main, ["solve", str(write_toml(text)), "--json"])
    assert result.exit_code == 2 and "problem p: steps[1].from: no earlier step is named 'nowhere'" in result.output


def test_hostile_text_in_a_written_proof(write_toml, tmp_path):
    """LaTeX in a citation is vetted (\\input refused, exit 2); a hypothesis's name is text,
    escaped in the key."""
    text = PROOF.format(claim="L*G <= L", line="L*G <= L", by=r"cited \\input{/etc/passwd}")
    result = CliRunner().invoke(main, ["render", str(write_toml(text)), "-o", str(tmp_path)])
    assert result.exit_code == 2 and "steps[1].by" in result.output and "input" in result.output
    assert not list(tmp_path.glob("*.tex"))
    text = PROOF.format(claim="L*G <= L", line="L*G <= L", by=r"hyp \\input{x}").replace(
        'small = "G <= 1"', '"\\\\input{x}" = "G <= 1"')
    result = CliRunner().invoke(main, ["render", str(write_toml(text)), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    tex = (tmp_path / "p.tex").read_text()
    assert "\\input{x}" not in tex and "textbackslash" in tex


@pytest.mark.slow
def test_student_chain_in_the_context_of_a_written_proof():
    """The seed student's Q3 lines, read with the notation and hypotheses of the written AMA564
    Q3 (problems/examples/written_proofs.toml, problem 6)."""
    from symderiv.derive.proofs import written
    from symderiv.spec import load
    from .conftest import ROOT
    problem = next(p for p in load(ROOT / "problems" / "examples" / "written_proofs.toml").problems
                   if p.id == "6")
    ctx = written.context(problem)
    lines = [r"f(\theta^{k+1}) \leq f(\theta^k) - \frac{1}{L} \|\nabla f(\theta^k)\|^2 + \frac{L}{2} \left\| \frac{1}{L} \nabla f(\theta^k) \right\|^2",
             r"\leq f(\theta^k) - \frac{1}{2L} \|\nabla f(\theta^k)\|^2",
             r"\Leftrightarrow \|\nabla f(\theta^k)\|^2 \leq 2L [f(\theta^k) - f(\theta^{k+1})]",
             r"\Rightarrow \min_{1 \leq k \leq T} \|\nabla f(\theta^k)\|^2 \leq 2L [f(\theta^k) - f(\theta^{k+1})]"]
    result = check_chain(lines, by=["cited Lemma 3.1"], context=ctx)
    assert result.failed.step.number == 4 and "index of the minimum" in result.failed.reason
    fixed = lines[:3] + [r"\Rightarrow \sum_{k=1}^{T} \|\nabla f(\theta^k)\|^2 \leq 2L [f(\theta^1) - f(\theta^{T+1})]"]
    result = check_chain(fixed, by=["cited Lemma 3.1", None, None, "sum k=1..T"], context=ctx)
    assert result.ok, result.report()
    # the lower bound f(θᵏ) ≥ f̄ of the question is a hypothesis the student may use
    result = check_chain([r"2L [f(\theta^1) - f(\theta^{T+1})] \leq 2L [f(\theta^1) - \bar f]"], context=ctx)
    assert result.ok, result.report()


def test_a_hypothesis_for_every_k_is_used_at_the_indices_of_the_line_only_for_an_index():
    seqs = {"f": "real"}
    # k is an index (no assumption): f(k) >= 0 gives f(T+1) >= 0
    assert check_chain(["f(T+1) >= 0"], given={"h": "f(k) >= 0"}, symbols={"T": "positive"},
                       sequences=seqs).ok
    # T is a declared symbol: f(T) >= 0 says nothing about f(1)
    result = check_chain(["f(1) >= 0"], given={"h": "f(T) >= 0"}, symbols={"T": "positive"}, sequences=seqs)
    assert not result.ok


def test_a_counterexample_under_the_assumptions_skips_the_sign_analysis():
    a, b = sp.Dummy("a", real=True), sp.Dummy("b", real=True)
    p = sp.Dummy("p", positive=True)
    assert chain._refuted(a - b)                 # a = 1/2, b = 1 is a counterexample
    assert chain._refuted(p - 2)
    assert not chain._refuted(a ** 2 + b ** 2)   # none exists
    assert not chain._refuted(p / (1 + p))
    assert not chain._refuted((a - b) ** 2 * p)
    # decided() is unchanged by it: true facts still shown, false ones still refused
    assert chain.decided(chain.Fact(a ** 2 - 2 * a * b + b ** 2, "ge"))
    assert not chain.decided(chain.Fact(a - b, "ge"))
    assert chain.decided(chain.Fact(p / (1 + p), "gt"))
