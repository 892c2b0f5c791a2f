"""Checking students' answers: equivalence tables per answer type, feedback, hostile input."""

import json
import os
import time
from dataclasses import replace

import pytest
from click.testing import CliRunner

from symderiv.check import check
from symderiv.check.compare import DECIMAL_RTOL, compare
from symderiv.check.context import build_context
from symderiv.check.report import feedback_text, render_feedback
from symderiv.cli import main
from symderiv.solve import solve_set
from symderiv.spec import load

from .conftest import ROOT

PROBLEMS = ROOT / "problems"
SEED = PROBLEMS / "submissions" / "ama564_a1_student.toml"


class _Contexts(dict):
    """{problem id: context} of the AMA564 and NNDL keys, each part solved when a test first
    judges one of its answers (solve_set's cache shares it with whole-file solves)."""

    def __init__(self, sets):
        super().__init__()
        self.sets = sets

    def __missing__(self, pid):
        ps = next(ps for ps in self.sets if any(p.id == pid for p in ps.problems))
        (sol,) = solve_set(replace(ps, problems=tuple(p for p in ps.problems if p.id == pid)))
        self[pid] = build_context(sol.problem, sol)
        return self[pid]


@pytest.fixture(scope="module")
def keys():
    """Contexts of the AMA564 and NNDL keys, solved once: {problem id: context}."""
    return _Contexts([load(PROBLEMS / name) for name in ("ama564_a1.toml", "nndl_hw1.toml")])


def answers_file(write_toml, name, text):
    return write_toml(text, name)


def judge(keys, full_label, text, rtol=DECIMAL_RTOL):
    pid, label = full_label.split("/", 1)
    ctx = keys[pid]
    return compare(ctx, label, ctx.answers[label], text, rtol)


# --- equivalence tables: (label, answer, verdict) -------------------------------------------

EXPRESSIONS = [
    ("1a/sigmoid.derivative", r"\frac{e^{-x}}{(1+e^{-x})^2}", "correct"),
    ("1a/sigmoid.derivative", r"\sigma(x)(1-\sigma(x))", "correct"),
    ("1a/sigmoid.derivative", r"\dfrac{e^{x}}{\left(1+e^{x}\right)^{2}}", "correct"),
    ("1a/sigmoid.derivative", r"\frac{1}{4\cosh^2(x/2)}", "correct"),
    ("1a/sigmoid.derivative", "sigma(x)*(1 - sigma(x))", "correct"),
    ("1a/sigmoid.derivative", "exp(-x)/(1 + exp(-x))^2", "correct"),
    ("1a/sigmoid.derivative", "sigmoid(x) - sigmoid(x)^2", "correct"),
    ("1a/sigmoid.derivative", r"\sigma(x)(1+\sigma(x))", "incorrect"),
    ("1a/sigmoid.derivative", r"-\sigma(x)(1-\sigma(x))", "incorrect"),
    ("1a/sigmoid.derivative", "2*sigma(x)*(1 - sigma(x))", "incorrect"),
    ("1a/sigmoid.derivative", r"\frac{e^{-x}}{1+e^{-x}}", "incorrect"),
    ("1a/tanh.derivative", r"1 - \tanh^2(x)", "correct"),
    ("1a/tanh.derivative", "1 - tanh(x)^2", "correct"),
    ("1a/tanh.derivative", r"\frac{4e^{2x}}{(e^{2x}+1)^2}", "correct"),
    ("1a/tanh.derivative", r"\frac{1}{\cosh^{2} x}", "correct"),
    ("1a/tanh.derivative", r"1 + \tanh^2(x)", "incorrect"),
    ("1a/tanh.derivative", r"\tanh^2(x) - 1", "incorrect"),
    ("1a/leaky_relu.derivative",
     r"\begin{cases} a & \text{if } ax > x \\ 1 & \text{if } ax \leq x \end{cases}", "correct"),
    ("1a/leaky_relu.derivative",
     r"\begin{cases} 1 & x > 0 \\ a & \text{otherwise} \end{cases}", "correct"),
    ("1a/leaky_relu.derivative", "a*Heaviside(-x) + Heaviside(x)", "correct"),
    ("1a/leaky_relu.derivative", r"\begin{cases} 1 & x < 0 \\ a & x > 0 \end{cases}",
     "incorrect"),
    ("1a/leaky_relu.derivative", "1", "incorrect"),
]

NUMBERS = [
    ("1b/forward.yhat", "1.33", "correct"),
    ("1b/forward.yhat", "133/100", "correct"),
    ("1b/forward.yhat", r"\frac{133}{100}", "correct"),
    ("1b/forward.yhat", "1.3300", "correct"),
    ("1b/forward.yhat", "1.331", "correct"),      # within the 1e-3 relative tolerance
    ("1b/forward.yhat", "1.34", "incorrect"),
    ("1b/forward.yhat", "1.3", "incorrect"),
    ("1b/forward.yhat", "-1.33", "incorrect"),
    ("1b/forward.yhat", "133/101", "incorrect"),  # exact numbers must be exact
    ("1b/forward.loss", "0.5", "correct"),
    ("1b/forward.loss", r"\frac12", "correct"),
    ("Q4/steps_to_tolerance[alpha=0.5]", "7", "correct"),
    ("Q4/steps_to_tolerance[alpha=0.5]", "8", "incorrect"),
    ("Q4/steps_to_tolerance[alpha=2.5]", r"\infty", "correct"),
    ("Q4/steps_to_tolerance[alpha=2.5]", "oo", "correct"),
    ("Q4/steps_to_tolerance[alpha=2.5]", "100", "incorrect"),
]

LIMITS = [
    ("1a/leaky_relu.limit(+oo)", "1", "correct"),
    ("1a/leaky_relu.limit(+oo)", "a", "incorrect"),
    ("1a/leaky_relu.limit(-oo)", "a", "correct"),
    ("1a/leaky_relu.limit(-oo)", "1", "incorrect"),
    ("1a/leaky_relu.limit(-oo)", r"\infty", "incorrect"),
    ("1a/sigmoid.limit(+oo)", "0", "correct"),
    ("1a/sigmoid.limit(+oo)", "0.0", "correct"),
    ("1a/sigmoid.limit(+oo)", r"\sigma(x)(1-\sigma(x))", "incorrect"),
    ("1a/tanh.limit(-oo)", "1", "incorrect"),
]

MATRICES = [
    ("1b/grad.W1", r"\begin{pmatrix} 0 & 0 & 0 \\ 1.1 & 2.2 & 3.3 \end{pmatrix}", "correct"),
    ("1b/grad.W1", r"\begin{bmatrix} 0 & 0 & 0 \\ \frac{11}{10} & 2.2 & 3.3 \end{bmatrix}",
     "correct"),
    ("1b/grad.W1", "[[0, 0, 0], [1.1, 2.2, 3.3]]", "correct"),
    ("1b/grad.W1", r"\begin{pmatrix} 0 & 1.1 \\ 0 & 2.2 \\ 0 & 3.3 \end{pmatrix}", "incorrect"),
    ("1b/grad.W1", r"\begin{pmatrix} 0 & 0 & 0 \\ 1.1 & 2.2 & 3.2 \end{pmatrix}", "incorrect"),
    ("1b/grad.W1", "[[0, 0, 0], [-1.1, -2.2, -3.3]]", "incorrect"),
    ("1b/grad.W2", r"\begin{pmatrix} 0 & 1.3 \end{pmatrix}", "correct"),
    ("1b/grad.W2", r"\begin{pmatrix} 0 \\ 1.3 \end{pmatrix}", "correct"),  # a column, noted
    ("1b/grad.W2", r"(0, 1.3)^\top", "correct"),
    ("1b/grad.W2", "[[0, 1.3]]", "correct"),
    ("1b/grad.W2", "[[0, 1.3, 0]]", "incorrect"),
    ("1b/grad.b2", "1", "correct"),
    ("1b/forward.z1", r"\begin{pmatrix} -3.2 \\ 1.3 \end{pmatrix}", "correct"),
    ("1b/forward.z1", r"\begin{pmatrix} 3.2 \\ 1.3 \end{pmatrix}", "incorrect"),
]

CONDITIONS = [
    ("Q4/converges", r"0 < \alpha < 2", "correct"),
    ("Q4/converges", "0 < alpha < 2", "correct"),
    ("Q4/converges", r"\alpha \in (0, 2)", "correct"),
    ("Q4/converges", "(0, 2)", "correct"),
    ("Q4/converges", r"\alpha < 2", "correct"),         # α > 0 is the step size's domain
    ("Q4/converges", r"\alpha > 0 \text{ and } \alpha < 2", "correct"),
    ("Q4/converges", r"0 < \alpha \le 2", "incorrect"),
    ("Q4/converges", r"\alpha > \frac{1}{4}", "incorrect"),
    ("Q4/converges", r"\emptyset", "incorrect"),
    ("Q4/oscillates", r"\alpha > 1", "correct"),
    ("Q4/oscillates", "1 < alpha", "correct"),
    ("Q4/oscillates", r"(1, \infty)", "correct"),
    ("Q4/oscillates", r"\alpha \geq 1", "incorrect"),
    ("Q4/oscillates", r"1 < \alpha < 2 \text{ or } \alpha > 2", "incorrect"),
    ("Q4/diverges", r"\alpha > 2", "correct"),
    ("Q4/diverges", r"\alpha \in (2, \infty)", "correct"),
    ("Q4/diverges", r"\alpha < 2", "incorrect"),
]

OTHERS = [
    # the function named f on the left-hand side is the question's function on the right
    ("1a/sigmoid.derivative", "f'(x) = f(x)(1 - f(x))", "correct"),
    ("1a/sigmoid.derivative", r"$$f^{\prime}(x)=f(x)\left(1-f(x)\right)$$", "correct"),
    ("1a/sigmoid.derivative", r"\frac{df}{dx} = f(x)(1 + f(x))", "incorrect"),
    ("1a/tanh.derivative", "f'(x) = 1 - f(x)^2", "correct"),   # an inline function named \tanh
    ("1a/tanh.derivative", "f'(x) = 1 + f(x)^2", "incorrect"),
    ("1a/sigmoid.derivative", "g'(x) = f(x)(1 - f(x))", "incorrect"),   # f is not the one named
    # lists
    ("Q4/iterates[alpha=1.5]", "0, 150, 75, 112.5, 93.75, 103.125, 98.4375, 100.78125, "
     "99.609375, 100.1953125, 99.90234375", "correct"),
    ("Q4/iterates[alpha=1.5]", "[0, 150, 75, 112.5]", "incorrect"),
    # equations
    ("2/conclusion", r"F(q) = \tau", "correct"),
    ("2/conclusion", r"\tau = F(q)", "correct"),
    ("2/conclusion", r"F(q) = 1 - \tau", "incorrect"),
    # expressions of matrices
    ("Q2.1/gradient", r"(A + A^T)x + z", "correct"),
    ("Q2.1/gradient", "(A + A.T)*x + z", "correct"),
    ("Q2.1/gradient", r"Ax + A^\top x + z", "correct"),
    ("Q2.1/gradient", r"2Ax + z", "incorrect"),
    ("Q2.1/gradient", r"(A + A^T)x", "incorrect"),
    ("Q2.2/gradient", r"(w^\top x - y) x", "correct"),
    ("Q2.2/gradient", r"x (x^T w - y)", "correct"),
    ("Q2.2/gradient", r"(y - w^\top x) x", "incorrect"),
    ("Q2.3/gradient", r"\frac{1}{m} X^T (Xw - y)", "correct"),
    ("Q2.3/gradient", r"X^T (Xw - y)", "incorrect"),
    ("Q3/gradient", r"2(Wx + b - y)x^T", "correct"),
    ("Q3/gradient", r"2x(Wx + b - y)^T", "incorrect"),
    # shapes
    ("Q2.1/shape", r"n \times 1", "correct"),
    ("Q2.1/shape", "n x 1", "correct"),
    ("Q2.1/shape", "(n, 1)", "correct"),
    ("Q2.1/shape", r"\mathbb{R}^{n \times 1}", "correct"),
    ("Q2.1/shape", r"1 \times n", "incorrect"),
    # proof conclusions
    ("3/conclusion", r"\frac{2L(f_0 - \bar{f})}{T}", "correct"),
    ("3/conclusion", r"\frac{L(f_0 - \bar{f})}{T}", "incorrect"),
]


@pytest.mark.parametrize("label, text, verdict",
                         EXPRESSIONS + NUMBERS + LIMITS + MATRICES + CONDITIONS + OTHERS)
def test_equivalence_table(keys, label, text, verdict):
    outcome = judge(keys, label, text)
    assert outcome.verdict == verdict, (label, text, outcome)


# --- feedback ----------------------------------------------------------------------------


@pytest.mark.parametrize("label, text, says", [
    ("1a/leaky_relu.limit(+oo)", "a", "this is the limit at −∞, not at +∞"),
    ("1a/sigmoid.derivative", r"-\sigma(x)(1-\sigma(x))", "sign error"),
    ("1a/sigmoid.derivative", r"2\sigma(x)(1-\sigma(x))", "constant factor: this is 2 times"),
    ("1a/sigmoid.derivative", r"\sigma(x)(1-\sigma(x)) + 3", "plus 3"),
    ("1a/sigmoid.derivative", r"\sigma(y)(1-\sigma(y))", "uses y"),
    ("1a/sigmoid.limit(+oo)", r"\sigma(x)(1-\sigma(x))", "still depends on x"),
    ("1b/forward.yhat", "1.34", "close, but off by 0.75%"),
    ("1b/grad.W1", r"\begin{pmatrix} 0 & 0 & 0 \\ 1.1 & 2.2 & 3.2 \end{pmatrix}",
     "1 of 6 entry wrong: (2,3) should be 33/10, not 16/5"),
    ("1b/grad.W1", "[[0, 0, 0], [-1.1, -2.2, -3.3]]",
     "sign error: every entry has the wrong sign"),
    ("1b/grad.W1", "[[0, 0, 0], [1.1, -2.2, 3.3]]", "sign error in (2,2)"),
    ("1b/grad.W1", r"\begin{pmatrix} 0 & 1.1 \\ 0 & 2.2 \\ 0 & 3.3 \end{pmatrix}",
     "transpose of the key's answer"),
    ("1b/grad.W2", r"\begin{pmatrix} 0 \\ 1.3 \end{pmatrix}",
     "same entries, written as a column; the key writes a row"),
    ("Q4/converges", r"0 < \alpha \le 2", "alpha = 2 satisfies yours but not the key's"),
    ("Q4/oscillates", r"\alpha > \frac12", "alpha = 3/4 satisfies yours but not the key's"),
    ("Q4/iterates[alpha=1.5]", "[0, 150, 75, 112.5]", "4 values, but the key lists 11"),
    ("Q2.1/shape", r"1 \times n", "transposed shape"),
    ("Q2.2/gradient", r"(y - w^\top x) x", "sign error"),
    ("Q2.3/gradient", r"X^T (Xw - y)", "constant factor"),
    ("1a/leaky_relu.derivative", r"\begin{cases} 1 & x < 0 \\ a & x > 0 \end{cases}",
     "differs from the key at"),
])
def test_feedback_says_what_is_wrong(keys, label, text, says):
    outcome = judge(keys, label, text)
    assert says in feedback_text(outcome.feedback), outcome


def test_all_wrong_entries_negated_is_a_sign_error(keys):
    outcome = judge(keys, "1b/forward.z1", r"\begin{pmatrix} 3.2 \\ -1.3 \end{pmatrix}")
    assert feedback_text(outcome.feedback) == "sign error: every entry has the wrong sign"


def test_answer_is_shown_from_the_parsed_expression(keys):
    outcome = judge(keys, "1a/sigmoid.derivative", r"\sigma(x)\left(1-\sigma(x)\right)")
    assert outcome.verdict == "correct"
    from symderiv.render import tex
    assert tex(outcome.got) == r"\sigma(x) \left(1 - \sigma(x)\right)"


def test_rounded_decimal_is_accepted_with_a_note(keys):
    outcome = judge(keys, "1b/forward.yhat", "1.331")
    assert outcome.verdict == "correct"
    assert feedback_text(outcome.feedback) == "rounded: the exact value is 133/100"


def test_tolerance_is_a_parameter(keys):
    assert judge(keys, "1b/forward.yhat", "1.34", rtol=0.01).verdict == "correct"
    assert judge(keys, "1b/forward.yhat", "1.331", rtol=0).verdict == "incorrect"


# --- hostile answers ----------------------------------------------------------------------

HOSTILE = [
    "__import__('os').system('touch /tmp/symderiv-pwned')",
    "exec('import os')",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: 1",
    r"\input{/etc/passwd}",
    r"\include{/etc/passwd}",
    r"\write18{touch /tmp/symderiv-pwned}",
    r"\immediate\write18{touch /tmp/symderiv-pwned}",
    r"\def\x{\x}\x",
    r"\csname input\endcsname{/etc/passwd}",
    r"^^5cinput{/etc/passwd}",
    r"\catcode`\^=7",
    r"\openin5=/etc/passwd",
    "2^{2^{2^{100}}}",
    "10^{10^{10}}",
    "9**9**9**9",
    "2^2^2^100",
    "(10^{6})!",
    "1" * 200,
    "(" * 200 + "x" + ")" * 200,
    "{" * 200 + "x" + "}" * 200,
    "x" * 590,
    "x" * 5000,
    r"\frac{" * 100 + "1" + "}{2}" * 100,
    "\x1b[31mred\x1b[0m",
    r"\begin{pmatrix}" + " & ".join(["x"] * 300) + r"\end{pmatrix}",
    r"\verb|x|",
    r"x % \input{/etc/passwd}",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_answers_never_run_read_or_hang(keys, text, tmp_path):
    from symderiv.budget import time_budget

    start = time.process_time()  # CPU: the verdict must not depend on the machine's load
    with time_budget("hostile", 8):
        outcome = judge(keys, "1a/sigmoid.derivative", text)
    assert time.process_time() - start < 8
    assert outcome.verdict in {"unparseable", "incorrect"}
    assert not os.path.exists("/tmp/symderiv-pwned")
    assert "root:" not in feedback_text(outcome.feedback)


def test_hostile_raw_text_is_escaped_in_the_report(tmp_path, write_toml):
    answers = answers_file(write_toml, "answers.toml", r'''
[answers]
"1a/sigmoid.derivative" = '\input{/etc/passwd}'
"1a/tanh.derivative" = '\immediate\write18{touch /tmp/x}'
"1a/leaky_relu.limit(+oo)" = '}\end{document}'
''')
    report = check(PROBLEMS / "ama564_a1.toml", answers)
    verdicts = {r.label: r.verdict for r in report.results}
    assert verdicts["1a/sigmoid.derivative"] == "unparseable"
    assert verdicts["1a/tanh.derivative"] == "unparseable"
    assert verdicts["1a/leaky_relu.limit(+oo)"] == "unparseable"
    text = render_feedback(report)
    body = text.split(r"\begin{document}", 1)[1]
    assert r"\input{" not in body and r"\write18" not in body
    assert r"\textbackslash{}input\{/etc/passwd\}" in body
    assert body.count(r"\end{document}") == 1


# --- the seed submission, the CLI, bad files ----------------------------------------------


@pytest.fixture(scope="module")
def seed_report():
    return check(PROBLEMS / "ama564_a1.toml", SEED)


def test_seed_submission_flags_both_leaky_relu_limits(seed_report):
    verdicts = {r.label: r.verdict for r in seed_report.results}
    assert verdicts["1a/leaky_relu.limit(+oo)"] == "incorrect"
    assert verdicts["1a/leaky_relu.limit(-oo)"] == "incorrect"
    wrong = sorted(label for label, v in verdicts.items() if v == "incorrect")
    assert wrong == ["1a/leaky_relu.limit(+oo)", "1a/leaky_relu.limit(-oo)"]
    assert sorted(label for label, v in verdicts.items() if v == "missing") == [
        "1b/backward.dL/dz2", "1b/forward.loss", "1b/forward.z2"]
    assert (seed_report.correct, seed_report.total) == (19, 24)
    assert "unparseable" not in verdicts.values()


def test_seed_submission_json_from_the_cli():
    result = CliRunner().invoke(main, ["check", str(PROBLEMS / "ama564_a1.toml"), str(SEED),
                                       "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    # the labels the sheet never asked for (forward.z2, the loss, dL/dz2) are not "missing"
    assert data["score"] == {"correct": 19, "total": 21, "fraction": 0.9048}
    assert (data["points"]["earned"], data["points"]["possible"]) == ("9.33", "10")
    by_label = {r["label"]: r for r in data["results"]}
    plus = by_label["1a/leaky_relu.limit(+oo)"]
    assert (plus["verdict"], plus["expected"], plus["got"]) == ("incorrect", "1", "a")
    assert plus["feedback"] == ("this is the limit at −∞, not at +∞: the two limits are "
                                "swapped?")
    assert by_label["1b/grad.W1"]["got"] == "Matrix([[0, 0, 0], [11/10, 11/5, 33/10]])"
    assert set(by_label["1b/grad.W1"]) == {"label", "verdict", "expected", "got", "answer",
                                           "feedback", "method"}


def test_seed_submission_table_from_the_cli():
    result = CliRunner().invoke(main, ["check", str(PROBLEMS / "ama564_a1.toml"), str(SEED)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(l.split()[:3] == ["incorrect", "1a/leaky_relu.limit(+oo)", "a"] for l in lines)
    assert any(l.split()[:2] == ["correct", "1a/sigmoid.derivative"] for l in lines)
    assert lines[-2] == ("score: 19/21 correct (2 incorrect, 0 unparseable, 0 unknown-label, "
                         "0 missing)")
    assert lines[-1] == "points: 1a 2.33/3, 1b 3/3, 2 2/2, 3 2/2; total 9.33/10 (93.3%)"


def test_unknown_labels_and_missing_ones(tmp_path, write_toml):
    answers = answers_file(write_toml, "a.toml", '''
[answers]
"1a/sigmoid.derivativ" = "1"
"9/x" = "1"
''')
    report = check(PROBLEMS / "ama564_a1.toml", answers)
    first, second = report.results[:2]
    assert first.verdict == "unknown-label"
    assert feedback_text(first.feedback) == ("the key has no answer labelled "
                                             "1a/sigmoid.derivativ; did you mean "
                                             "1a/sigmoid.derivative?")
    assert second.verdict == "unknown-label"
    assert report.counts()["missing"] == 24 and report.total == 24


@pytest.mark.parametrize("content, message", [
    ('[answers]\n"1a" = "1"\n', 'a.toml: answers."1a": labels are written "<problem id>/<label>"'),
    ('[answers]\n"1a/x" = ["1"]\n', 'a.toml: answers."1a/x": an answer must be a string'),
    ('[answer]\n"1a/x" = "1"\n', "a.toml: answer: unknown table or key 'answer'"),
    ('[meta]\nname = "x"\n[answers]\n', "a.toml: meta.name: unknown field"),
    ('[answers\n', "a.toml: invalid TOML"),
    ('[meta]\n', "a.toml: answers: missing [answers] table"),
])
def test_bad_answers_file_is_one_line_exit_2(tmp_path, write_toml, content, message):
    answers = answers_file(write_toml, "a.toml", content)
    result = CliRunner().invoke(main, ["check", str(PROBLEMS / "ama564_a1.toml"),
                                       str(answers), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    line = result.output.strip()
    assert "\n" not in line and "Traceback" not in line
    assert message in line
    assert not (tmp_path / "out").exists()


def test_numbers_in_the_answers_file_are_read_as_written(tmp_path, write_toml, keys):
    answers = answers_file(write_toml, "a.toml", '[answers]\n"1b/forward.yhat" = 1.33\n'
                                             '"1b/grad.b2" = 1\n')
    verdicts = {r.label: r.verdict for r in check(PROBLEMS / "ama564_a1.toml", answers).results}
    assert verdicts["1b/forward.yhat"] == "correct" and verdicts["1b/grad.b2"] == "correct"


@pytest.mark.pdf
@pytest.mark.slow   # grades the whole seed submission and compiles its feedback document
def test_seed_feedback_pdf(tmp_path):
    result = CliRunner().invoke(main, ["check", str(PROBLEMS / "ama564_a1.toml"), str(SEED),
                                       "--pdf", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    pdf = tmp_path / "ama564_a1_student-feedback.pdf"
    tex = (tmp_path / "ama564_a1_student-feedback.tex").read_text()
    assert pdf.read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ama564_a1_student-feedback.pdf", "ama564_a1_student-feedback.tex"]
    label = r"1a: Leaky ReLU, limit at $+\infty$ &"
    row = next(line for line in tex.splitlines() if line.startswith(label))
    assert "incorrect" in row and "two limits are swapped" in row
    assert "Score: 19 of 21 correct" in tex
    assert ("\\textbf{Points:} 1a 2.33/3, 1b 3/3, 2 2/2, 3 2/2; total 9.33 of 10 (93.3\\%)."
            in tex)


# --- robustness: any string gets a verdict --------------------------------------------------

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

LATEX_PIECES = [r"\frac", "{", "}", "(", ")", "[", "]", "x", "a", "2", "1.5", "^", "_",
                r"\sigma", r"\tanh", "e", "+", "-", r"\cdot", "&", r"\\", r"\begin{pmatrix}",
                r"\end{pmatrix}", r"\begin{cases}", r"\end{cases}", "<", r"\le", "=", ",",
                r"\alpha", r"\infty", "|", r"\left(", r"\right)", r"\sqrt", "T", r"^\top", "'",
                r"\mathbb{I}", r"\max", r"\{", r"\}", " ", r"\text{if}", "A", "w", r"\bar",
                "0", r"\in", r"\cup", "!", "\\"]
PLAIN_PIECES = ["x", "a", "2", "1.5", "^", "**", "*", "/", "+", "-", "(", ")", "[", "]", ",",
                "<", "<=", "=", " and ", " ", "sigma(", "exp(", "tanh(", "max(", "alpha", "oo",
                "A", "w", ".T", "@", "T", "1e5", "Heaviside(", "F(", "q"]
LABELS = ["1a/sigmoid.derivative", "1a/leaky_relu.limit(+oo)", "1b/grad.W1", "2/conclusion",
          "Q2.2/gradient", "Q4/converges", "Q4/iterates[alpha=0.5]", "Q2.1/shape"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@pytest.mark.slow
@given(label=st.sampled_from(LABELS),
       pieces=st.lists(st.sampled_from(LATEX_PIECES + PLAIN_PIECES), min_size=1, max_size=12))
def test_any_string_gets_a_verdict(keys, label, pieces):
    from symderiv.budget import time_budget

    with time_budget("fuzz", 8):
        outcome = judge(keys, label, "".join(pieces))
    assert outcome.verdict in {"correct", "incorrect", "unparseable"}


def test_budgets_nest_and_the_outer_one_still_fires():
    from symderiv.budget import time_budget
    from symderiv.errors import SolveTimeout

    def spin(seconds):  # CPU seconds: budgets count CPU time, so load does not change the verdict
        end = time.process_time() + seconds
        while time.process_time() < end:
            pass

    start = time.process_time()
    with pytest.raises(SolveTimeout, match="problem outer"):
        with time_budget("outer", 0.6):
            with pytest.raises(SolveTimeout, match="problem inner"):
                with time_budget("inner", 0.2):
                    spin(3)
            spin(3)
    assert time.process_time() - start < 1.5  # CPU seconds: the outer budget of 0.6 s fired, not the spins of 3 s


def test_a_letter_T_over_a_number_is_a_power_not_a_transpose(tmp_path, write_toml):
    """(1 − a)^T after T steps: in a key without matrices ^T over a number is the power T
    (it was read as a transpose of a number, i.e. dropped, and the right answer refused)."""
    key = write_toml('[meta]\ntitle = "t"\n[[problem]]\nid = "1"\nkind = "derivative"\n'
                     'functions = [{ name = "f", expr = "x*(1 - a)**T" }]\n'
                     '[problem.assume]\na = "0 < a < 1"\nT = "positive"\n', "key.toml")
    answers = answers_file(write_toml, "answers.toml", r'''
[answers]
"1/f.derivative" = '(1 - a)^T'
''')
    report = check(key, answers)
    assert [r.verdict for r in report.results] == ["correct"]
    wrong = answers_file(write_toml, "wrong.toml", '[answers]\n"1/f.derivative" = \'(1 - a)\'\n')
    assert [r.verdict for r in check(key, wrong).results] == ["incorrect"]
