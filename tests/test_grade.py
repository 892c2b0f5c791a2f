"""Batch grading: a generated class, answers drawn from each student's own key, some perturbed
in known ways, gives an exactly known gradebook."""

import csv
import json
from fractions import Fraction

import pytest
import sympy as sp
from click.testing import CliRunner

from symderiv.cli import main

from .test_variants import net

ASKED = ["forward.yhat", "grad.W2", "grad.b2", "grad.W1", "grad.b1"]  # 4 points: 4/5 each


def _answer(sympy_text: str) -> str:
    """An answer as a student writes it (LaTeX), from the key's exact value."""
    value = sp.parse_expr(sympy_text)
    if isinstance(value, sp.MatrixBase):
        rows = r" \\ ".join(" & ".join(sp.latex(e) for e in value.row(i))
                            for i in range(value.rows))
        return r"\begin{pmatrix} " + rows + r" \end{pmatrix}"
    return sp.latex(value)


def _write(path, student, answers):
    body = "\n".join(f'"n1/{k}" = {json.dumps(v)}' for k, v in answers.items())
    path.write_text(f'[meta]\nstudent = "{student}"\n\n[answers]\n{body}\n')


@pytest.mark.slow  # about 13 s: six variants and a class of seven files graded with -j 2
def test_generated_class_gives_the_expected_gradebook(write_toml, tmp_path):
    key = write_toml(net())
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\n" + "".join(f"s{i},Student {i}\n" for i in range(1, 7)))
    var = tmp_path / "var"
    r = CliRunner().invoke(main, ["variants", str(key), "--roster", str(roster), "-o", str(var)])
    assert r.exit_code == 0, r.output
    keys = {f"s{i}": json.loads((var / f"s{i}" / "p-key.json").read_text())["problems"][0]
            ["answers"] for i in range(1, 7)}
    subs = tmp_path / "subs"
    subs.mkdir()
    right = {sid: {lb: _answer(k[lb]["sympy"]) for lb in k} for sid, k in keys.items()}
    # s1: everything right, intermediate quantities included (not counted)
    _write(subs / "s1.toml", "s1", right["s1"])
    # s2: the output off by one, and a wrong intermediate (not counted): loses 4/5
    yhat = sp.parse_expr(keys["s2"]["forward.yhat"]["sympy"])
    _write(subs / "s2.toml", "s2", {**right["s2"], "forward.yhat": sp.latex(yhat + 1),
                                    "forward.z1": r"\begin{pmatrix} 100 \\ 100 \end{pmatrix}"})
    # s3: grad.W1 left out and grad.b1 unreadable: loses 8/5
    answers = {k: v for k, v in right["s3"].items() if k != "grad.W1"}
    _write(subs / "s3.toml", "s3", {**answers, "grad.b1": r"\frac{1}{"})
    # s4 copied s1's answers: right only where the two variants' values agree
    _write(subs / "s4.toml", "s4", right["s1"])
    # s5's file is not TOML; s6 submitted nothing; x9 is not on the roster
    (subs / "s5.toml").write_text("this is not = = TOML\n")
    _write(subs / "x9.toml", "x9", right["s1"])
    out = tmp_path / "grades"
    r = CliRunner().invoke(main, ["grade", str(key), str(subs), "--roster", str(roster),
                                  "--lock", str(var / "variants.lock.json"), "-o", str(out),
                                  "-j", "2"])
    assert r.exit_code == 0, r.output
    rows = {(row["student"], row["file"]): row
            for row in csv.DictReader((out / "gradebook.csv").open())}
    same = sum(sp.parse_expr(keys["s1"][lb]["sympy"]) == sp.parse_expr(keys["s4"][lb]["sympy"])
               for lb in ASKED)
    expected = {"s1": Fraction(4), "s2": Fraction(16, 5), "s3": Fraction(12, 5),
                "s4": Fraction(4, 5) * same}

    def shown(f):
        return f"{float(f):.2f}".rstrip("0").rstrip(".")

    for sid, pts in expected.items():
        row = rows[(sid, f"{sid}.toml")]
        assert (row["n1"], row["total"], row["possible"], row["status"]) == (
            shown(pts), shown(pts), "4", "graded"), sid
        assert row["percentage"] == f"{float(pts / 4 * 100):.2f}"
        assert row["name"] == f"Student {sid[1:]}"
    assert rows[("", "s5.toml")]["status"] == ("invalid TOML: Expected '=' after a key in "
                                               "a key/value pair (at line 1, column 6)")
    assert rows[("s6", "")]["status"] == "no submission"
    assert rows[("x9", "x9.toml")]["status"] == "student 'x9' is not on the roster"
    # the unreadable file cannot say whose it is, so s5 also has no submission on the roster
    assert rows[("s5", "")]["status"] == "no submission"
    assert len(rows) == 8
    summary = (out / "summary.txt").read_text()
    assert summary.splitlines()[0] == "Variants test: 4 graded, 4 not graded"
    line = next(ln for ln in summary.splitlines() if ln.startswith("n1/grad.W1 "))
    w1_right = 2 + (keys["s1"]["grad.W1"]["sympy"] == keys["s4"]["grad.W1"]["sympy"])  # s1, s2
    assert f"  {w1_right}/4 " in line and "(no answer) ×1" in line
    line = next(ln for ln in summary.splitlines() if ln.startswith("n1/forward.z1 "))
    assert line.endswith("(not counted)") and "[[100], [100]] ×1" in line
    fb = (out / "feedback" / "s2.txt").read_text()
    assert fb.splitlines()[-1] == "points: n1 3.2/4; total 3.2/4 (80.0%)"
    assert sorted(p.name for p in (out / "feedback").iterdir()) == [
        "s1.txt", "s2.txt", "s3.txt", "s4.txt"]


def test_check_student_uses_the_students_variant(write_toml, tmp_path):
    key = write_toml(net())
    var = tmp_path / "var"
    assert CliRunner().invoke(main, ["variants", str(key), "--n", "2", "-o", str(var)]).exit_code == 0
    k = json.loads((var / "v02" / "p-key.json").read_text())["problems"][0]["answers"]
    answers = tmp_path / "a.toml"
    _write(answers, "v02", {lb: _answer(k[lb]["sympy"]) for lb in ASKED})
    for extra in ([], ["--lock", str(var / "variants.lock.json")]):
        r = CliRunner().invoke(main, ["check", str(key), str(answers), "--student", "v02", *extra])
        assert r.exit_code == 0, r.output
        assert r.output.splitlines()[-1] == "points: n1 4/4; total 4/4 (100.0%)"
    r = CliRunner().invoke(main, ["check", str(key), str(answers), "--student", "v01"])
    assert r.output.splitlines()[-1].startswith("points: n1 ") and "total 4/4" not in r.output
