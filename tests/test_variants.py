"""Variants: [problem.vary] draws, placeholders, require constraints, `symderiv variants`."""

import csv
import json
from decimal import Decimal
from fractions import Fraction

import pytest
import sympy as sp
from click.testing import CliRunner

from symderiv.cli import main
from symderiv.errors import BadInput
from symderiv.spec import load
from symderiv.vary import Constraint, draw, draw_index, parse_vary

NET = '''
[meta]
title = "Variants test"
salt = "test-salt"

[[problem]]
id = "n1"
kind = "mlp"
points = 4
statement = 'With $W^{(1)} = {{params.W1}}$, $x = {{x|tuple}}^\\top$ and $y = {{y}}$, compute the gradients.'
layers = [2, 2, 1]
hidden = "relu"
loss = "half_squared"
x = [1, 2]
y = 0.5
[problem.params]
W1 = [[0.5, -1], [1, 0.5]]
b1 = [0, 0]
W2 = [[1, -1]]
b2 = [0]
[problem.vary]
"params.W1" = { range = [-1, 1], step = 0.5, nonzero = true }
x = { choices = [1, 2, 3] }
y = { range = [-1, 1], step = 0.25 }
require = REQUIRE
'''


def net(require='["forward.z1 != 0"]', extra=""):
    return NET.replace("REQUIRE", require) + extra


def test_draw_index_is_a_fixed_function_of_the_ids():
    # SHA-256 of the ids, reduced onto the grid: the same numbers on every machine and Python
    assert [draw_index("s", "v01", "1b", "x", k, 0, 7) for k in range(5)] == [1, 4, 5, 2, 3]
    assert [draw_index("", "s1", "p", "params.W1", k, 3, 1000) for k in range(3)] == [253, 468, 59]
    assert draw_index("s", "v02", "1b", "x", 0, 0, 7) != draw_index("s", "v01", "1b", "x", 0, 0, 7) \
        or draw_index("s", "v02", "1b", "x", 1, 0, 7) != 4


def test_grids_shapes_and_placeholders(write_toml):
    path = write_toml(net())
    ps = load(path)
    (p,) = ps.problems
    grids = {q.name: (q.grid, q.shape) for q in p.vary.params}
    assert grids["params.W1"] == ((Decimal("-1"), Decimal("-0.5"), Decimal("0.5"), Decimal("1")),
                                  (2, 2))
    assert grids["x"] == ((1, 2, 3), (2,))
    assert len(grids["y"][0]) == 9 and grids["y"][1] == ()
    # the file's own values fill the placeholders
    assert (r"W^{(1)} = \begin{bmatrix} 0.5 & -1 \\ 1 & 0.5 \end{bmatrix}" in p.statement
            and "x = (1, 2)^\\top" in p.statement and "y = 0.5" in p.statement)
    import tomllib
    table = tomllib.loads(path.read_text(), parse_float=Decimal)["problem"][0]
    values = draw(p.vary, "test-salt", "v01", "n1", 0)
    assert values == draw(p.vary, "test-salt", "v01", "n1", 0)
    assert values != draw(p.vary, "test-salt", "v02", "n1", 0)
    assert values != draw(p.vary, "other", "v01", "n1", 0)
    assert all(v in grids["params.W1"][0] for row in values["params.W1"] for v in row)
    assert parse_vary(table, "f", "n1").max_tries == 100


@pytest.mark.parametrize("vary, field, words", [
    ('"statement" = { range = [0, 1] }', "vary.statement", "not a number"),
    ('z = { range = [0, 1] }', "vary.z", "needs base"),
    ('y = { range = [1, 0] }', "vary.y.range", "larger than"),
    ('y = { range = [0, 1], choices = [1] }', "vary.y.choices", "not both"),
    ('y = { choices = [0], nonzero = true }', "vary.y", "grid is empty"),
    ('y = { range = [0, 1], step = 0 }', "vary.y.step", "positive"),
    ('"params.b1" = { range = [0, 1], shape = [3] }', "vary.params.b1.shape", "has shape [2]"),
    ('y = { range = [0, 1], colour = 1 }', "vary.y.colour", "unknown field"),
])
def test_bad_vary_is_one_line(write_toml, vary, field, words):
    text = net().replace('y = { range = [-1, 1], step = 0.25 }', vary)
    with pytest.raises(BadInput) as err:
        load(write_toml(text))
    assert err.value.field == field and words in err.value.message


def test_a_drawn_value_missing_from_the_statement_is_refused(write_toml):
    text = net().replace("$y = {{y}}$", "$y = 0.5$")
    with pytest.raises(BadInput) as err:
        load(write_toml(text))
    assert err.value.field == "vary.y" and "write {{y}}" in err.value.message


def test_constraints_entrywise_aggregates_and_decimals():
    m = sp.Matrix([[sp.Rational(1, 2)], [sp.Rational(-3, 4)]])
    values = {"forward.z1": m, "forward.loss": sp.Rational(1, 3), "y": Decimal("0.25"),
              "answers": [sp.Rational(1, 8), sp.Rational(3, 2)]}
    names = list(values)
    assert Constraint("forward.z1 != 0", names).holds(values)
    assert not Constraint("forward.z1 > 0", names).holds(values)
    assert Constraint("max(forward.z1) > 0", names).holds(values)
    assert not Constraint("min(forward.z1) > 0", names).holds(values)
    assert Constraint("sum(forward.z1) == -1/4", names).holds(values)
    assert Constraint("abs(forward.z1) <= 3/4", names).holds(values)
    assert Constraint("decimals(answers) <= 3", names).holds(values)
    assert not Constraint("decimals(answers) <= 2", names).holds(values)
    assert not Constraint("decimals(forward.loss) <= 10", names).holds(values)  # 1/3
    assert Constraint("y + forward.loss > 1/2", names).holds(values)
    with pytest.raises(BadInput, match="forward.foo is not a label"):
        Constraint("forward.foo > 0", names)
    with pytest.raises(BadInput, match="one of"):
        Constraint("forward.loss", names)
    with pytest.raises(BadInput, match="cannot be decided"):
        Constraint("q > 0", names + ["q"]).holds({**values, "q": sp.Symbol("t")})


def _run(args):
    return CliRunner().invoke(main, args)


def _z1(values):
    w = [[Fraction(v) for v in row] for row in values["params.W1"]]
    x = [Fraction(v) for v in values["x"]]
    return [sum(a * b for a, b in zip(row, x)) for row in w]


def test_variants_reproducible_distinct_verified(write_toml, tmp_path):
    path = write_toml(net())
    out1, out2 = tmp_path / "a", tmp_path / "b"
    r1 = _run(["variants", str(path), "--n", "6", "-o", str(out1)])
    assert r1.exit_code == 0, r1.output
    assert "6 variants, each key verified, all distinct" in r1.output
    r2 = _run(["variants", str(path), "--n", "6", "-o", str(out2), "-j", "2"])
    assert r2.exit_code == 0, r2.output
    files1 = sorted(p.relative_to(out1) for p in out1.rglob("*") if p.is_file())
    assert len(files1) == 6 * 3 + 2
    for rel in files1:  # byte-identical, one process or two
        assert (out1 / rel).read_bytes() == (out2 / rel).read_bytes(), rel
    lock = json.loads((out1 / "variants.lock.json").read_text())
    sigs = {json.dumps(v["values"], sort_keys=True) for v in lock["variants"]}
    assert len(sigs) == 6  # distinct
    rows = list(csv.DictReader((out1 / "manifest.csv").open()))
    assert [r["id"] for r in rows] == [f"v0{i}" for i in range(1, 7)]
    for v in lock["variants"]:
        values = v["values"]["n1"]
        key = json.loads((out1 / v["id"] / "p-key.json").read_text())
        (prob,) = key["problems"]
        assert prob["verified"] is True and key["title"] == f"Variants test (variant {v['id']})"
        # the key's z1 = W1 x (b1 = 0), computed here with fractions from the lock's values
        z1 = sp.parse_expr(prob["answers"]["forward.z1"]["sympy"])
        assert [Fraction(str(e)) for e in z1] == _z1(values)
        assert all(e != 0 for e in z1)  # the constraint held
        sheet = (out1 / v["id"] / "p-sheet.tex").read_text()
        assert "x = (" + ", ".join(values["x"]) + r")^\top" in sheet
        assert f"y = {values['y']}$" in sheet


def test_roster_names_the_variants(write_toml, tmp_path):
    path = write_toml(net())
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\ns123,Ada Lovelace\ns124,Alan Turing\n")
    r = _run(["variants", str(path), "--roster", str(roster), "-o", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader((tmp_path / "o" / "manifest.csv").open()))
    assert [(x["id"], x["name"]) for x in rows] == [("s123", "Ada Lovelace"), ("s124", "Alan Turing")]
    roster.write_text("id,name\n../x,Eve\n")
    r = _run(["variants", str(path), "--roster", str(roster), "-o", str(tmp_path / "o")])
    assert r.exit_code == 2 and "line 2: id '../x'" in r.output


def test_unmeetable_constraint_is_one_line_exit_2(write_toml, tmp_path):
    path = write_toml(net('["forward.z1 != 0", "forward.loss < 0"]', "max_tries = 7\n"))
    r = _run(["variants", str(path), "--n", "2", "-o", str(tmp_path / "o")])
    assert r.exit_code == 2
    lines = [ln for ln in r.output.splitlines() if ln.startswith("symderiv:")]
    assert lines == [f"symderiv: {path}: problem n1: vary.require: the constraint "
                     "'forward.loss < 0' is not met: it failed 7 of the 7 draws (max_tries) "
                     "of variant v01"]
    assert not (tmp_path / "o").exists()


def test_stress_report_counts_rejections(write_toml):
    path = write_toml(net('["forward.z1 != 0", "forward.loss < 1"]'))
    r = _run(["variants", str(path), "--stress", "4"])
    assert r.exit_code == 0, r.output
    out = r.output
    assert "stress test of p.toml: 4 variants" in out and "4 accepted" in out
    assert "n1: forward.loss < 1" in out
    assert "n1/forward.yhat" in out and "n1/grad.W1[2,2]" in out


@pytest.mark.pdf
@pytest.mark.slow  # four LaTeX runs
def test_variant_pdfs_are_byte_identical_on_a_second_run(write_toml, tmp_path):
    path = write_toml(net())
    for name in ("a", "b"):
        r = _run(["variants", str(path), "--n", "1", "--pdf", "-o", str(tmp_path / name)])
        assert r.exit_code == 0, r.output
    for doc in ("p-key.pdf", "p-sheet.pdf"):
        first = (tmp_path / "a" / "v01" / doc).read_bytes()
        assert first.startswith(b"%PDF") and first == (tmp_path / "b" / "v01" / doc).read_bytes()


GD = '''
[meta]
title = "Step sizes"
salt = "gd"

[[problem]]
id = "1"
kind = "gd_analysis"
statement = 'Run gradient descent on $L(w) = {{c}}(w - 3)^2 + 1$ from $w_0 = {{init}}$ with $\\alpha = {{alphas[1]}}$.'
loss = "{{c}}*(w - 3)**2 + 1"
param = "w"
init = 0
alphas = [0.1, 0.25]
steps = 3
[problem.vary]
"alphas[1]" = { choices = [0.2, 0.3] }
init = { range = [-2, 2], nonzero = true }
c = { choices = [1, 2], base = 2 }
require = ["c > 0"]
'''


def test_index_paths_and_names_in_expressions(write_toml, tmp_path):
    from symderiv.spec import read_toml
    from symderiv.variants import build_variant

    path = write_toml(GD)
    (p,) = load(path).problems
    assert p.fields["loss"] == "(2)*(w - 3)**2 + 1" and "\\alpha = 0.25" in p.statement
    b = build_variant(read_toml(path), str(path), "v7")
    drawn = b.values["1"]
    (problem,) = b.problem_set.problems
    assert problem.fields["alphas"][1] == drawn["alphas[1]"] in (Decimal("0.2"), Decimal("0.3"))
    assert problem.fields["init"] == drawn["init"] in (-2, -1, 1, 2)
    assert problem.fields["loss"] == f"({drawn['c']})*(w - 3)**2 + 1"
    iterates = {a.label: a.value for a in b.solutions[0].answers}
    # w_1 = w_0 - α·2c(w_0 - 3), computed here from the drawn numbers
    w0, c = sp.Integer(drawn["init"]), sp.Integer(drawn["c"])
    alpha = sp.Rational(str(drawn["alphas[1]"]))
    label = next(k for k in iterates if k.startswith("iterates[") and str(drawn["alphas[1]"]) in k)
    assert iterates[label][1] == w0 - alpha * 2 * c * (w0 - 3)
