"""Keys that never stop on one part: a part that cannot be solved is marked "Not solved" with
its reason, the rest of the key is complete, the exit code is 1 and stderr names the part; the
engine giving up is an internal limit (exit 1), never bad input (exit 2)."""

import json
import time

import pytest
from click.testing import CliRunner

from symderiv.check import check
from symderiv.check.report import render_feedback
from symderiv.cli import main
from symderiv.derive import derivative, text
from symderiv.errors import BadInput, InternalLimit, SolveTimeout, VerificationFailed
from symderiv.render import render_document
from symderiv.solve import Unsolved, solve_set
from symderiv.spec import load

from .test_document import forbidden_in

THREE_PARTS = r'''
[meta]
title = "Keep going"

[[problem]]
id = "1"
kind = "derivative"
title = "Question 1: the sigmoid"
statement = "Differentiate $\\sigma$."
functions = ["sigmoid"]

[[problem]]
id = "2"
kind = "derivative"
title = "Question 2: the hard one"
statement = "Differentiate $\\tanh$ and give the limits of its derivative."
functions = ["tanh"]
limits = ["+oo", "-oo"]

[[problem]]
id = "3"
kind = "text"
title = "Question 3: words"
answer = "Because it saturates."
'''

SIGMOID_TEACHER = r"\sigma(x) \left(1 - \sigma(x)\right)"
# gruntz's refusal (log(1 + exp(-y*w)) at w -> +oo with no assumption on y raises it)
GIVES_UP = ("symderiv could not find a limit: it depends on the sign of -sign(y); an assumption "
            "(assume = ...) on the symbols in it may settle it (an internal limit, not a mistake "
            "in the file)")
GIVES_UP_SHOWN = ("a limit in this part depends on the sign of a parameter that the question "
                  "does not fix.")
NESTED = ("symderiv could not finish this problem: an expression grew too deeply nested for "
          "the algebra engine (an internal limit, not a mistake in the file)")


def _fail_part(monkeypatch, part: str, exc: BaseException) -> None:
    """Problem ``part`` (a derivative) raises ``exc`` while it is solved; the others solve."""
    real = derivative.solve

    def solve(problem):
        if problem.id == part:
            raise exc
        return real(problem)

    monkeypatch.setattr(derivative, "solve", solve)


def _render(path, out, *extra):
    return CliRunner().invoke(main, ["render", str(path), "-o", str(out), *extra])


def test_render_marks_the_part_sympy_gives_up_on_and_completes_the_rest(
        write_toml, tmp_path, monkeypatch):
    # gruntz's NotImplementedError inside part 2: an internal limit, and only part 2 is lost
    _fail_part(monkeypatch, "2", NotImplementedError("Result depends on the sign of -sign(y)"))
    out = tmp_path / "out"
    result = _render(write_toml(THREE_PARTS), out)
    assert result.exit_code == 1
    assert result.stderr == f"symderiv: problem 2: not solved: {GIVES_UP}\n"
    key = (out / "p.tex").read_text(encoding="utf-8")
    # the question of part 2 is there, its answer is the box and nothing else
    q2 = key[key.index(r"\questionheading{Question 2"):key.index(r"\questionheading{Question 3")]
    assert "Differentiate $\\tanh$ and give the limits of its derivative." in q2
    assert (r"\fbox{\parbox{\dimexpr\linewidth-2\fboxsep-2\fboxrule}{\textbf{Not solved:}"
            "\n" + GIVES_UP_SHOWN + "}}") in q2
    assert "solution" not in q2 and "tanh(x)" not in q2 and "align" not in q2
    # parts 1 and 3 are complete: the sigmoid's derivative in teacher form, the prose answer
    q1 = key[:key.index(r"\questionheading{Question 2")]
    assert SIGMOID_TEACHER in q1 and r"\begin{solution}" in q1
    assert "Because it saturates." in key[key.index(r"\questionheading{Question 3"):]
    assert key.count(r"\begin{solution}") == 2
    # the header box says what the mark means, in words
    header = key[:key.index(r"\begin{questions}")]
    assert "Parts marked \\textbf{Not solved} could not be solved and checked" in header
    assert forbidden_in(key) == []


def test_the_key_is_the_same_as_without_the_part(write_toml, tmp_path, monkeypatch):
    # "the rest of the key is complete": parts 1 and 3 render exactly as in a file without 2
    _fail_part(monkeypatch, "2", RecursionError("maximum recursion depth exceeded"))
    ps = load(write_toml(THREE_PARTS))
    sols = solve_set(ps, keep_going=True)
    assert [s.solved for s in sols] == [True, False, True]
    assert sols[1].reason == NESTED
    assert sols[1].shown == "an expression grew too deeply nested to simplify."
    assert isinstance(sols[1].error, InternalLimit) and sols[1].answers == ()
    without = THREE_PARTS.split("[[problem]]\nid = \"2\"")[0] + "[[problem]]\nid = \"3\"" + \
        THREE_PARTS.split("[[problem]]\nid = \"3\"")[1]
    ps2 = load(write_toml(without, "q.toml"))
    full = render_document(ps, sols)
    short = render_document(ps2, solve_set(ps2))
    start = full.index(r"\questionheading{Question 2")
    end = full.index(r"\question", start + 20)
    cut = full[:start - len("\\question\n")] + full[end:]
    header_note = ("\nParts marked \\textbf{Not solved} could not be solved and checked; "
                   "they show the reason\nand no answer.")
    assert cut.replace(header_note, "") == short.replace("from q.toml", "from p.toml")


def test_strict_stops_at_the_first_unsolved_part_and_writes_nothing(
        write_toml, tmp_path, monkeypatch):
    _fail_part(monkeypatch, "2", RecursionError("maximum recursion depth exceeded"))
    out = tmp_path / "out"
    for flag in ("--strict", "--no-keep-going"):
        result = _render(write_toml(THREE_PARTS), out, flag)
        assert result.exit_code == 1  # an internal limit, not bad input (exit 2)
        assert result.stderr == f"symderiv: problem 2: {NESTED}\n"
        assert not out.exists()
    with pytest.raises(InternalLimit, match="^problem 2: symderiv could not finish"):
        solve_set(load(write_toml(THREE_PARTS)))


def test_a_timeout_on_one_part_is_marked_with_its_budget(write_toml, tmp_path, monkeypatch):
    real = derivative.solve

    def slow_on_2(problem):  # the budget counts CPU time: sleeping would not use it up
        if problem.id == "2":
            end = time.process_time() + 5
            while time.process_time() < end:
                pass
        return real(problem)

    monkeypatch.setattr(derivative, "solve", slow_on_2)
    out = tmp_path / "out"
    result = _render(write_toml(THREE_PARTS), out, "--timeout", "0.5")
    assert result.exit_code == 1
    assert result.stderr == ("symderiv: problem 2: not solved: took more than the time budget "
                             "of 0.5 s of CPU time (raise it with --timeout)\n")
    key = (out / "p.tex").read_text(encoding="utf-8")
    assert ("\\textbf{Not solved:}\nthe derivation did not finish within its time budget (0.5 s "
            "of computing time).") in key
    assert SIGMOID_TEACHER in key


def test_a_failed_check_is_marked_and_its_answer_never_printed(write_toml, tmp_path, monkeypatch):
    # every derivative's tidy form is wrong by 1: parts 1 and 2 fail their checks, 3 is prose
    monkeypatch.setattr(derivative, "tidy", lambda expr, var: expr + 1)
    out = tmp_path / "out"
    result = _render(write_toml(THREE_PARTS), out)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("symderiv: problem 1: not solved: sigmoid.derivative: "
                               "verification failed: ")
    assert lines[1].startswith("symderiv: problem 2: not solved: tanh.derivative: "
                               "verification failed: ")
    key = (out / "p.tex").read_text(encoding="utf-8")
    assert key.count("an answer derived for this part did not pass its check, so no answer "
                     "is printed.") == 2
    assert key.count(r"\begin{solution}") == 1 and "Because it saturates." in key
    assert r"\sigma" not in key.split(r"\begin{questions}")[1].replace(
        "Differentiate $\\sigma$.", "")  # no derivative of σ anywhere: only the question


def test_bad_input_still_stops_before_anything_is_written(write_toml, tmp_path, monkeypatch):
    # part 2 is unsolvable, part 3 is a mistake in the file found while solving: exit 2, one
    # line, nothing written (no key with a hole, no "not solved" line)
    _fail_part(monkeypatch, "2", RecursionError("maximum recursion depth exceeded"))

    def bad(problem):
        raise BadInput("the answer names an unknown figure", problem=problem.id, field="answer")

    monkeypatch.setattr(text, "solve", bad)
    out = tmp_path / "out"
    result = _render(write_toml(THREE_PARTS), out)
    assert result.exit_code == 2
    assert result.stderr == "symderiv: problem 3: answer: the answer names an unknown figure\n"
    assert not out.exists()
    # a bad second file stops the first one from being written too
    good = write_toml(THREE_PARTS.replace('id = "3"\nkind = "text"', 'id = "3"\nkind = "txt"'),
                      "bad.toml")
    result = _render(write_toml(THREE_PARTS, "ok.toml"), out, str(good))
    assert result.exit_code == 2 and "unknown kind 'txt'" in result.stderr
    assert not out.exists()


def test_solve_json_lists_the_unsolved_part_with_its_reason(write_toml, monkeypatch):
    _fail_part(monkeypatch, "2", NotImplementedError("Result depends on the sign of -sign(y)"))
    result = CliRunner().invoke(main, ["solve", str(write_toml(THREE_PARTS)), "--json"])
    assert result.exit_code == 1
    assert result.stderr == f"symderiv: problem 2: not solved: {GIVES_UP}\n"
    key = json.loads(result.stdout)
    assert key["unsolved"] == [{"id": "2", "reason": GIVES_UP}]
    by_id = {p["id"]: p for p in key["problems"]}
    assert [p["id"] for p in key["problems"]] == ["1", "2", "3"]
    assert by_id["2"] == {"id": "2", "kind": "derivative", "solved": False, "verified": False,
                          "checks": [], "answers": {}, "reason": GIVES_UP}
    assert by_id["1"]["solved"] is True and "reason" not in by_id["1"]
    assert by_id["1"]["answers"]["sigmoid.derivative"]["sympy"] == "exp(x)/(exp(x) + 1)**2"
    # the plain listing says it too; --strict gives no key at all
    plain = CliRunner().invoke(main, ["solve", str(write_toml(THREE_PARTS))])
    assert plain.exit_code == 1
    assert f"2 (derivative, not solved: {GIVES_UP})" in plain.stdout.splitlines()
    assert "  sigmoid.derivative = exp(x)/(exp(x) + 1)**2" in plain.stdout.splitlines()
    strict = CliRunner().invoke(main, ["solve", str(write_toml(THREE_PARTS)), "--json", "--strict"])
    assert strict.exit_code == 1 and strict.stdout == ""


def test_a_complete_key_has_an_empty_unsolved_list(write_toml):
    result = CliRunner().invoke(main, ["solve", str(write_toml(THREE_PARTS)), "--json"])
    assert result.exit_code == 0 and result.stderr == ""
    key = json.loads(result.stdout)
    assert key["unsolved"] == [] and all(p["solved"] for p in key["problems"])


ANSWERS = '''
[meta]
student = "Ada"

[answers]
"1/sigmoid.derivative" = "sigma(x)*(1 - sigma(x))"
"2/tanh.derivative" = "1 - tanh(x)^2"
"2/tanh.limit(+oo)" = "0"
"3/nothing" = "1"
'''


def test_check_grades_the_rest_and_says_not_gradable(write_toml, tmp_path, monkeypatch):
    _fail_part(monkeypatch, "2", RecursionError("maximum recursion depth exceeded"))
    key = write_toml(THREE_PARTS)
    answers = write_toml(ANSWERS, "ada.toml")
    report = check(key, answers, keep_going=True)
    verdicts = {r.label: r.verdict for r in report.results}
    assert verdicts == {"1/sigmoid.derivative": "correct", "2/tanh.derivative": "not-gradable",
                        "2/tanh.limit(+oo)": "not-gradable", "3/nothing": "unknown-label"}
    assert report.total == 1 and report.correct == 1  # not-gradable answers are not counted
    assert report.unsolved == (("2", NESTED),)
    note = next(r for r in report.results if r.label == "2/tanh.derivative").feedback
    assert note == ("part 2 of the key could not be solved, so this answer is not graded: an "
                    "expression grew too deeply nested to simplify.",)
    result = CliRunner().invoke(main, ["check", str(key), str(answers), "--json"])
    assert result.exit_code == 1
    assert result.stderr == f"symderiv: problem 2: not solved: {NESTED}\n"
    data = json.loads(result.stdout)
    assert data["counts"]["not-gradable"] == 2
    assert data["score"] == {"correct": 1, "total": 1, "fraction": 1.0}
    table = CliRunner().invoke(main, ["check", str(key), str(answers)])
    assert table.exit_code == 1
    assert table.stdout.splitlines()[-2] == ("score: 1/1 correct (0 incorrect, 0 unparseable, "
                                             "1 unknown-label, 0 missing, 2 not-gradable)")
    assert table.stdout.splitlines()[-1] == ("points: 1 1/1, 2 not gradable, 3 0/0; "
                                             "total 1/1 (100.0%)")
    sheet = render_feedback(report)
    assert sheet.count(r"\verdict{not-gradable}") == 2 and forbidden_in(sheet) == []
    assert "not-gradable 2" in sheet.splitlines()[-2]
    with pytest.raises(InternalLimit):
        check(key, answers)  # the library's default stops, as solve_set's does


@pytest.mark.parametrize("exc, message", [
    (RecursionError("maximum recursion depth exceeded"),
     "symderiv: symderiv could not finish this problem: an expression grew too deeply nested "
     "for the algebra engine (an internal limit, not a mistake in the file)\n"),
    (NotImplementedError("Result depends on the sign of -sign(y)"), f"symderiv: {GIVES_UP}\n"),
    (NotImplementedError("Don't know how to calculate the mrv of '(1, 2)'"),
     "symderiv: symderiv could not finish this problem: the algebra engine has no method for "
     "one of its steps (Don't know how to calculate the mrv of '(1, 2)') (an internal limit, "
     "not a mistake in the file)\n"),
])
def test_the_engine_giving_up_is_an_internal_limit_not_bad_input(monkeypatch, exc, message):
    # regression: "an expression is nested too deeply" with exit 2 blamed the user's file
    def gives_up(*args, **kwargs):
        raise exc

    monkeypatch.setattr(derivative, "solve_one", gives_up)
    result = CliRunner().invoke(main, ["derive", "x**2"])
    assert result.exit_code == 1
    assert result.stderr == message


def test_a_too_deep_input_is_still_bad_input():
    # the parser's own depth limit is about the text the user wrote: exit 2
    result = CliRunner().invoke(main, ["derive", "(" * 300 + "x" + ")" * 300])
    assert result.exit_code == 2 and "nested too deeply" in result.stderr


def test_unsolved_entries_carry_only_the_reason(monkeypatch, write_toml):
    # the kinds of failure and their words: the teacher's line and the key's box
    ps = load(write_toml(THREE_PARTS))
    for exc, reason, shown in [
        (VerificationFailed("2", "tanh.derivative", "at x = 1: 2 ≠ 1"),
         "tanh.derivative: verification failed: at x = 1: 2 ≠ 1",
         "an answer derived for this part did not pass its check, so no answer is printed."),
        (SolveTimeout("2", 3.0),
         "took more than the time budget of 3 s of CPU time (raise it with --timeout)",
         "the derivation did not finish within its time budget (3 s of computing time)."),
        (InternalLimit("find the limit of cos(x) + 1 at +oo, which may not exist",
                       shown="the limit at +∞ could not be found; it may not exist."),
         "symderiv could not find the limit of cos(x) + 1 at +oo, which may not exist (an "
         "internal limit, not a mistake in the file)",
         "the limit at +∞ could not be found; it may not exist."),
        (NotImplementedError("Don't know how"),
         "symderiv could not finish this problem: the algebra engine has no method for one of "
         "its steps (Don't know how) (an internal limit, not a mistake in the file)",
         "a step needs a method the computer algebra does not have."),
        (NotImplementedError("Result depends on the sign of -sign(y)"), GIVES_UP, GIVES_UP_SHOWN),
    ]:
        _fail_part(monkeypatch, "2", exc)
        (_, unsolved, _) = solve_set(ps, keep_going=True)
        assert isinstance(unsolved, Unsolved)
        assert (unsolved.reason, unsolved.shown) == (reason, shown)
        assert not unsolved.solved and unsolved.checks == () and unsolved.verified is False


def test_an_unsolved_part_is_tried_again(write_toml, monkeypatch):
    # a part that ran out of time is not remembered as unsolved: more time may solve it
    calls = []
    real = derivative.solve

    def flaky(problem):
        calls.append(problem.id)
        if problem.id == "2" and calls.count("2") == 1:
            raise SolveTimeout("2", 1.0)
        return real(problem)

    monkeypatch.setattr(derivative, "solve", flaky)
    ps = load(write_toml(THREE_PARTS))
    assert [s.solved for s in solve_set(ps, keep_going=True)] == [True, False, True]
    assert [s.solved for s in solve_set(ps, keep_going=True)] == [True, True, True]
    assert calls == ["1", "2", "2"]  # part 1 was remembered, part 2 solved the second time


def test_the_box_escapes_its_reason_and_the_key_has_no_program_text(write_toml, monkeypatch):
    _fail_part(monkeypatch, "2", InternalLimit("x", shown="a 100% odd_case & {more} $5 #1 ~ ^ \\"))
    ps = load(write_toml(THREE_PARTS))
    key = render_document(ps, solve_set(ps, keep_going=True))
    assert (r"a 100\% odd\_case \& \{more\} \$5 \#1 \textasciitilde{} \textasciicircum{} "
            r"\textbackslash{}}}") in key
    assert forbidden_in(key) == []


@pytest.mark.pdf
def test_a_key_with_an_unsolved_part_compiles_without_overfull_boxes(
        write_toml, tmp_path, monkeypatch):
    from symderiv.latex_build import compile_pdf
    from symderiv.texsafe import check_document_body

    long_reason = ("the derivation did not finish within its time budget (20 s of computing "
                   "time) " * 4).strip()
    _fail_part(monkeypatch, "2", InternalLimit("x", shown=long_reason))
    ps = load(write_toml(THREE_PARTS))
    key = check_document_body(render_document(ps, solve_set(ps, keep_going=True)))
    logs: list[str] = []
    compile_pdf(key, "keep", tmp_path, logs=logs)
    assert [line for line in logs[0].splitlines() if line.startswith("Overfull")] == []
    assert (tmp_path / "keep.pdf").stat().st_size > 1000


def test_a_limit_sympy_cannot_give_is_an_internal_limit(monkeypatch):
    # regression: "could not be found" was bad input (exit 2); a limit that does not exist
    # (1 + cos x at -oo) is an answer now, so SymPy's failure is simulated
    import sympy as sp

    from symderiv.derive import limits
    from symderiv.derive.limits import limit_at

    x = sp.Symbol("x", real=True)
    assert limit_at(1 + sp.cos(x), x, "-oo").value == sp.AccumBounds(0, 2)
    monkeypatch.setattr(limits, "_raw_limit", lambda expr, var, point: None)
    with pytest.raises(InternalLimit) as err:
        limit_at(1 + sp.cos(x), x, "-oo")
    assert err.value.exit_code == 1
    assert str(err.value) == ("symderiv could not find the limit of cos(x) + 1 at -oo "
                              "(an internal limit, not a mistake in the file)")
    assert err.value.shown == "the limit at −∞ could not be found."


def test_several_files_name_the_file_of_each_unsolved_part(write_toml, tmp_path, monkeypatch):
    _fail_part(monkeypatch, "2", RecursionError("maximum recursion depth exceeded"))
    first, second = write_toml(THREE_PARTS, "a.toml"), write_toml(THREE_PARTS, "b.toml")
    out = tmp_path / "out"
    result = _render(first, out, str(second))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"symderiv: a.toml: problem 2: not solved: {NESTED}",
                                          f"symderiv: b.toml: problem 2: not solved: {NESTED}"]
    assert sorted(p.name for p in out.iterdir()) == ["a.tex", "b.tex"]


@pytest.mark.pdf
def test_feedback_with_not_gradable_answers_compiles_without_overfull_boxes(
        write_toml, tmp_path, monkeypatch):
    from symderiv.latex_build import compile_pdf

    _fail_part(monkeypatch, "2", NotImplementedError("Result depends on the sign of -sign(y)"))
    report = check(write_toml(THREE_PARTS), write_toml(ANSWERS, "ada.toml"), keep_going=True)
    logs: list[str] = []
    compile_pdf(render_feedback(report), "feedback", tmp_path, logs=logs)
    assert [line for line in logs[0].splitlines() if line.startswith("Overfull")] == []
