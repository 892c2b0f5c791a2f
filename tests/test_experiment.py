"""Kind ``experiment``: training with the engine's compiled formulas (issue 14, part B).

The values asserted here come from an independent training loop written below in plain NumPy
(back-propagation by hand for one hidden layer), not from symderiv.
"""

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from symderiv.cli import main
from symderiv.derive import experiment
from symderiv.errors import VerificationFailed
from symderiv.spec import load

ROOT = Path(__file__).resolve().parent.parent

SMALL = '''
[meta]
title = "experiment"

[[problem]]
id = "e"
kind = "experiment"
layers = [1, 3, 1]
activations = {activations}
loss = "half_squared"
seed = {seed}
validation = 0.25

[problem.data]
target = "{target}"
range = [-2, 2]
samples = 40
noise = 0.1

[problem.optimizer]
method = "sgd"
learning_rate = {lr}
batch_size = 8
epochs = {epochs}
'''


def small(activations='["tanh", "relu"]', seed=7, target="x**2 - 1", lr="0.1", epochs=15):
    return SMALL.format(activations=activations, seed=seed, target=target, lr=lr, epochs=epochs)


def _solve(path):
    ps = load(path)
    return experiment.solve(ps.problems[0])


def _answers(solution):
    return {a.label: a.value for a in solution.answers}


# --- an independent training loop: one hidden layer, back-propagation by hand -----------------


def independent_run(seed, target, low, high, n, noise, validation, lr, batch, epochs, act, dact, width=3):
    """Data drawn as the documented protocol says, then :func:`independent_training`."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, n)
    y = target(x) + noise * rng.standard_normal(n)
    return independent_training(rng, x, y, seed, validation, lr, batch, epochs, act, dact, width)


def independent_training(rng, x, y, seed, validation, lr, batch, epochs, act, dact, width=3):
    """A 1 → width → 1 network with a linear output and the loss ½(ŷ − y)², trained by SGD with
    back-propagation written by hand; the split, the initial weights and the batch order follow
    the documented seeding (the split's permutation from ``rng``). Final (training, validation) MSE."""
    n = len(x)
    perm = rng.permutation(n)
    n_val = max(1, round(validation * n))
    xv, yv, xt, yt = x[perm[:n_val]], y[perm[:n_val]], x[perm[n_val:]], y[perm[n_val:]]
    init = np.random.default_rng(seed + 1)
    a1, a2 = math.sqrt(6 / (1 + width)), math.sqrt(6 / (width + 1))
    w1 = init.uniform(-a1, a1, (width, 1))[:, 0]     # W1 is width x 1
    w2 = init.uniform(-a2, a2, (1, width))[0]        # W2 is 1 x width
    b1, b2 = np.zeros(width), 0.0
    shuffle = np.random.default_rng(seed + 2)

    def predict(xs):
        return act(np.outer(xs, w1) + b1) @ w2 + b2

    for _ in range(epochs):
        order = shuffle.permutation(len(xt))
        for start in range(0, len(xt), batch):
            idx = order[start:start + batch]
            xb, yb = xt[idx], yt[idx]
            z1 = np.outer(xb, w1) + b1
            h1 = act(z1)
            d = h1 @ w2 + b2 - yb                   # ∂(½(ŷ − y)²)/∂ŷ
            g_w2 = (d[:, None] * h1).mean(axis=0)
            g_b2 = d.mean()
            dz1 = d[:, None] * w2 * dact(z1)
            g_w1 = (dz1 * xb[:, None]).mean(axis=0)
            g_b1 = dz1.mean(axis=0)
            w1, b1, w2, b2 = w1 - lr * g_w1, b1 - lr * g_b1, w2 - lr * g_w2, b2 - lr * g_b2
    return float(np.mean((predict(xt) - yt) ** 2)), float(np.mean((predict(xv) - yv) ** 2))


def test_table_values_are_the_trained_values(write_toml):
    path = write_toml(small())
    sol = _solve(path)
    got = _answers(sol)
    for name, act, dact in (("tanh", np.tanh, lambda z: 1 - np.tanh(z) ** 2),
                            ("relu", lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float))):
        train, val = independent_run(7, lambda x: x ** 2 - 1, -2, 2, 40, 0.1, 0.25, 0.1, 8, 15, act, dact)
        assert float(got[f"final_mse[activation={name}]"]) == pytest.approx(train, rel=1e-9)
        assert float(got[f"final_validation_mse[activation={name}]"]) == pytest.approx(val, rel=1e-9)
        assert float(got[f"gradient_check[activation={name}]"]) < 1e-5
    # the rendered table prints these numbers (3 significant digits)
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(path.parent / "out")])
    assert result.exit_code == 0, result.output
    tex = (path.parent / "out" / "p.tex").read_text()
    for name in ("tanh", "relu"):
        assert experiment.sci(float(got[f"final_mse[activation={name}]"])) in tex
        assert experiment.sci(float(got[f"final_validation_mse[activation={name}]"])) in tex
    assert "An experiment, not a proof." in tex
    from tests.test_document import forbidden_in

    assert forbidden_in(tex) == []


def test_summary_is_worded_from_the_numbers(write_toml):
    sol = _solve(write_toml(small(activations='["linear", "tanh"]', epochs=40)))
    runs = {r.written: r for r in sol.body.runs}
    best, other = sorted(runs.values(), key=lambda r: r.final_val)
    first = sol.body.paragraph[0]
    assert first.startswith(f"The lowest validation MSE was reached with {best.written}: ${experiment.sci(best.final_val)}$")
    ratio = other.final_val / best.final_val
    assert (f"{ratio:.1f} times lower than" if ratio < 10 else f"{ratio:.0f} times lower than") in first
    # a quadratic target: the linear network cannot fit it, tanh can
    assert best.written == "tanh" and ratio > 2


ONE_RUN = """
import sys
from symderiv.export import dumps, key_json
from symderiv.render import render_document
from symderiv.solve import solve_set
from symderiv.spec import load
ps = load(sys.argv[1])
sols = solve_set(ps)
sys.stdout.write(render_document(ps, sols) + dumps(key_json(ps, sols)))
"""


@pytest.mark.slow
def test_two_runs_are_byte_identical(write_toml):
    # two processes, each rendering the key and the JSON key: the same bytes
    path = write_toml(small())
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    outputs = [subprocess.run([sys.executable, "-c", ONE_RUN, str(path)], check=True, env=env,
                              capture_output=True).stdout for _ in range(2)]
    assert outputs[0] == outputs[1]
    assert b'"final_mse[activation=tanh]"' in outputs[0] and b"ymode=log" in outputs[0]


def test_another_seed_gives_other_numbers(write_toml):
    a = _answers(_solve(write_toml(small(seed=7), "a.toml")))
    b = _answers(_solve(write_toml(small(seed=8), "b.toml")))
    assert a["final_mse[activation=tanh]"] != b["final_mse[activation=tanh]"]


def _broken(monkeypatch, change):
    real = experiment.derived_formulas

    def derived(problem, spec, activation):
        values, rows = real(problem, spec, activation)
        values = dict(values)
        change(values)
        return values, rows
    monkeypatch.setattr(experiment, "derived_formulas", derived)


def test_gradient_check_catches_a_wrong_factor(monkeypatch, write_toml):
    _broken(monkeypatch, lambda v: v.update({"grad.W1": 2 * v["grad.W1"]}))
    with pytest.raises(VerificationFailed) as err:
        _solve(write_toml(small()))
    text = str(err.value)
    assert "gradient_check[activation=tanh]" in text
    assert "the compiled gradient of W1 differs from central differences" in text


def test_gradient_check_catches_a_missing_derivative(monkeypatch, write_toml):
    # ∂ℓ/∂z₁ without the activation's derivative: δ₁ = W₂ᵀ ∂ℓ/∂ŷ (the classic slip)
    from symderiv.derive import netexpr

    def drop_prime(values):
        for label in ("backward.dL/dz1", "grad.b1"):
            e = values[label]
            if isinstance(e, netexpr.Hadamard):
                values[label] = e.operands[0]
    _broken(monkeypatch, drop_prime)
    with pytest.raises(VerificationFailed) as err:
        _solve(write_toml(small(activations='["tanh"]')))
    assert "gradient_check[activation=tanh]" in str(err.value)
    assert "b1" in str(err.value) or "W1" in str(err.value)


def test_failed_check_means_not_solved_in_the_key(monkeypatch, write_toml):
    _broken(monkeypatch, lambda v: v.update({"grad.b2": 3 * v["grad.b2"]}))
    path = write_toml(small(activations='["relu"]'))
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(path.parent / "out")])
    assert result.exit_code == 1
    assert "problem e: not solved: gradient_check[activation=relu]: verification failed" in result.stderr
    tex = (path.parent / "out" / "p.tex").read_text()
    assert "Not solved:" in tex and "final training MSE" not in tex


def test_diverging_run_is_reported_not_ranked(write_toml):
    sol = _solve(write_toml(small(activations='["linear", "tanh"]', lr="9")))
    ans = _answers(sol)
    runs = {r.written: r for r in sol.body.runs}
    assert runs["linear"].diverged_at is not None
    assert str(ans["final_mse[activation=linear]"]) == "oo"
    assert any("The training diverged with linear (at epoch " in s for s in sol.body.paragraph)


def test_csv_data_next_to_the_problem(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, 30)
    rows = "\n".join(f"{a:.6f},{2 * a + 0.5:.6f}" for a in x)
    (tmp_path / "data.csv").write_text("x,y\n" + rows + "\n")
    text = small(activations='["linear"]').replace(
        'target = "x**2 - 1"\nrange = [-2, 2]\nsamples = 40\nnoise = 0.1', 'csv = "data.csv"')
    path = tmp_path / "p.toml"
    path.write_text(text)
    sol = _solve(path)
    # y = 2x + 1/2 exactly: the linear network gets close
    assert float(_answers(sol)["final_mse[activation=linear]"]) < 0.05
    assert sol.body.n_train + sol.body.n_val == 30
    # the key names the file in words (no program text) and compiles past the body check
    from symderiv.render import render_document
    from symderiv.texsafe import check_document_body
    from tests.test_document import forbidden_in

    ps = load(path)
    tex = render_document(ps, [sol])
    check_document_body(tex)
    assert "the 30 rows of the file ``data.csv''" in tex
    assert forbidden_in(tex) == []


@pytest.mark.slow
def test_cs189_2g_renders_and_repeats_byte_identically(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    texts = []
    for run in range(2):
        out = tmp_path / f"o{run}"
        subprocess.run([sys.executable, "-m", "symderiv.cli", "render", str(ROOT / "problems" / "cs189_hw.toml"),
                        "-o", str(out)], check=True, env=env, capture_output=True)
        texts.append((out / "cs189_hw.tex").read_bytes())
    assert texts[0] == texts[1]
    tex = texts[0].decode()
    assert "Problem 2(g)" in tex and "final validation MSE" in tex and "ymode=log" in tex


# --- bad input: one line, exit 2 (the style of tests/test_badinput.py) ------------------------

BAD = [
    ("unknown activation", small(activations='["relu", "relu6"]'), "activations: unknown activation 'relu6'"),
    ("negative epochs", small(epochs=-5), "optimizer.epochs: must be between 1 and 5000, got -5"),
    ("zero learning rate", small(lr="0"), "optimizer.learning_rate: must be positive"),
    ("adam", small().replace('method = "sgd"', 'method = "adam"'), "optimizer.method: 'adam' is not an optimiser"),
    ("target with another name", small(target="sin(w*x)"), "data.target: the target may only use x; unknown name 'w'"),
    ("target runs no code", small(target="__import__('os').system('true')"), "data.target:"),
    ("target undefined in the range", small(target="log(x)"), "data.target: the target is not defined"),
    ("one layer", small().replace("layers = [1, 3, 1]", "layers = [1, 1]"), "layers: an experiment compares hidden activations"),
    ("classification loss", small().replace('"half_squared"', '"bce"'), "loss: 'bce' is not a regression loss"),
    ("missing constant", small(activations='["leaky_relu"]'), "constants: training needs a value for the parameter a"),
    ("softmax hidden", small(activations='["softmax"]'), "activations: softmax is not elementwise"),
    ("batch too large", small().replace("batch_size = 8", "batch_size = 500"), "optimizer.batch_size: must be between 1 and 30"),
    ("csv with a parent", small().replace('target = "x**2 - 1"\nrange = [-2, 2]\nsamples = 40\nnoise = 0.1',
                                          'csv = "../secret.csv"'), "data.csv: the CSV file must be named relative"),
    ("csv absolute", small().replace('target = "x**2 - 1"\nrange = [-2, 2]\nsamples = 40\nnoise = 0.1',
                                     'csv = "/etc/passwd.csv"'), "data.csv: the CSV file must be named relative"),
    ("csv and target", small().replace('noise = 0.1', 'noise = 0.1\ncsv = "d.csv"'), "data.noise: data come from the CSV file or from a target"),
    ("range backwards", small().replace("range = [-2, 2]", "range = [2, -2]"), "data.range: low must be below high"),
    ("range not a number", small().replace("range = [-2, 2]", 'range = ["-pi", "y"]'), "data.range: 'y' is not a real number"),
]


@pytest.mark.parametrize("name, text, message", BAD, ids=[c[0] for c in BAD])
def test_bad_experiment_is_one_line_exit_2(name, text, message, tmp_path):
    src = tmp_path / "bad.toml"
    src.write_text(text, encoding="utf-8")
    (tmp_path.parent / "secret.csv").write_text("x,y\n" + "1,2\n" * 20)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(src), "-o", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"symderiv: {src}: problem e: ")
    assert message in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())


def test_csv_symlink_out_of_the_directory_is_refused(tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("x,y\n" + "1,2\n" * 20)
    inner = tmp_path / "course"
    inner.mkdir()
    (inner / "data.csv").symlink_to(outside)
    src = inner / "p.toml"
    src.write_text(small().replace('target = "x**2 - 1"\nrange = [-2, 2]\nsamples = 40\nnoise = 0.1',
                                   'csv = "data.csv"'))
    result = CliRunner().invoke(main, ["solve", str(src)])
    assert result.exit_code == 2
    assert "data.csv: the CSV file must be inside the problem file's directory" in result.stderr


@pytest.mark.parametrize("content, message", [
    ("x,y\n" + "1,2\n" * 5, "expected 10 to 5000 data rows, found 5"),
    ("x,y\n" + "1,nan\n" * 12, "row 2: 'nan' is not a number"),
    ("a,b\n" + "1,2\n" * 12, "the header names the input columns first"),
    ("x,y\n" + "1,2,3\n" * 12, "row 2 has 3 values"),
    ("x1,x2,y\n" + "1,2,3\n" * 12, "2 input and 1 target columns, but layers has input width 1"),
])
def test_bad_csv_is_one_line(content, message, tmp_path):
    (tmp_path / "d.csv").write_text(content)
    src = tmp_path / "p.toml"
    src.write_text(small().replace('target = "x**2 - 1"\nrange = [-2, 2]\nsamples = 40\nnoise = 0.1',
                                   'csv = "d.csv"'))
    result = CliRunner().invoke(main, ["solve", str(src)])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert f"problem e: data.csv: {message}" in result.stderr


def _csv_problem(tmp_path, xs, activations):
    (tmp_path / "d.csv").write_text("x,y\n" + "".join(f"{x},{abs(x) - 0.5}\n" for x in xs))
    src = tmp_path / "p.toml"
    src.write_text(small(activations=activations).replace(
        'target = "x**2 - 1"\nrange = [-2, 2]\nsamples = 40\nnoise = 0.1', 'csv = "d.csv"'))
    return src


def test_samples_at_a_kink_are_left_out_of_the_gradient_check(tmp_path, monkeypatch):
    # x = 0 with zero initial biases puts every ReLU unit exactly on its kink: there a central
    # difference gives the slope 1/2, the left derivative 0; such samples are not compared
    xs = [0.0 if i % 3 == 0 else round(-1 + i / 20, 3) for i in range(40)]
    sol = _solve(_csv_problem(tmp_path, xs, '["relu"]'))
    check = sol.body.runs[0].check
    assert check.relative < 1e-5
    train = experiment.dataset(load(tmp_path / "p.toml").problems[0].spec).x_train[:, 0]
    order = next(experiment.batch_orders(len(train), 1, 7))
    batch = train[order[(check.batch - 1) * 8:check.batch * 8]]
    assert 0 in batch and check.size == int(np.sum(batch != 0)) < 8
    # compared at the kink too, the same formulas fail: the left-out samples matter
    monkeypatch.setattr(experiment, "KINK_MARGIN", -1.0)
    with pytest.raises(VerificationFailed, match="relative difference"):
        _solve(_csv_problem(tmp_path, xs, '["relu"]'))


def test_no_batch_away_from_the_kinks_is_not_solved(tmp_path):
    xs = [0.0] * 36 + [0.5, -0.5, 1.0, -1.0]
    with pytest.raises(VerificationFailed) as err:
        _solve(_csv_problem(tmp_path, xs, '["relu"]'))
    assert "in every batch most samples have a pre-activation at a kink" in str(err.value)
    # a smooth activation has no kink: the same data are checked and trained
    sol = _solve(_csv_problem(tmp_path, xs, '["tanh"]'))
    assert sol.body.runs[0].check.size == 8


@pytest.mark.parametrize("activation, constants, expected", [
    ("relu", "", [0, 0, 1]),                          # ReLU′(0) = 0, as the mlp kind uses
    ("leaky_relu", "\n[problem.constants]\na = 0.05\n", [0.05, 0.05, 1]),
    ("elu", "\n[problem.constants]\nalpha = 2\n", [2 * math.exp(-1), 2, 1]),
    ("tanh", "", [1 - math.tanh(-1) ** 2, 1, 1 - math.tanh(1) ** 2]),
])
def test_compiled_derivative_is_the_left_one_at_a_kink(activation, constants, expected, write_toml):
    spec_text = small(activations=f'["{activation}"]').replace("[problem.data]", constants.strip() + "\n[problem.data]")
    problem = load(write_toml(spec_text)).problems[0]
    formulas, _ = experiment.derived_formulas(problem, problem.spec, activation)
    c = experiment.compile_formulas(problem.spec, activation, formulas)
    got = np.asarray(c.prime(np.array([-1.0, 0.0, 1.0])), dtype=float)
    assert got.tolist() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("value, shown", [
    (0.0123, "0.0123"), (0.00123, r"1.23 \times 10^{-3}"), (123.4, "123"), (12345.0, r"1.23 \times 10^{4}"),
    (0.009996, "0.0100"), (7.43e-4, r"7.43 \times 10^{-4}"), (0.175397, "0.175"), (math.inf, r"\infty"),
])
def test_measured_numbers_are_written_to_three_digits(value, shown):
    assert experiment.sci(value) == shown


@pytest.mark.parametrize("activation", ["identity", "relu", "tanh"])
def test_batch_by_columns_gives_the_per_sample_gradients(activation, write_toml):
    # training multiplies the whole batch at once (vectors (n, B)); the per-sample compilation
    # of the same formulas (vectors (B, n, 1), mean of the per-sample outer products) and a
    # hand-written back-propagation give the same gradients
    spec_text = small(activations=f'["{activation}"]')
    problem = load(write_toml(spec_text)).problems[0]
    formulas, _ = experiment.derived_formulas(problem, problem.spec, activation)
    c = experiment.compile_formulas(problem.spec, activation, formulas)
    assert c.columns is not None
    rng = np.random.default_rng(5)
    Ws = [rng.normal(size=(3, 1)), rng.normal(size=(1, 3))]
    bs = [rng.normal(size=(3, 1)), rng.normal(size=(1, 1))]
    X, Y = rng.normal(size=(8, 1)), rng.normal(size=(8, 1))
    _, by_columns = experiment.gradients(c, Ws, bs, X, Y, with_loss=False)
    per_sample = c.step(X[:, :, None], Y[:, :, None], *[p for pair in zip(Ws, bs) for p in pair])[1:]
    # by hand: ℓ = ½‖ŷ − y‖², ŷ = W2 f(W1 x + b1) + b2
    f, fp = {"identity": (lambda u: u, lambda u: np.ones_like(u)),
             "relu": (lambda u: np.maximum(u, 0), lambda u: (u > 0) * 1.0),
             "tanh": (np.tanh, lambda u: 1 - np.tanh(u) ** 2)}[activation]
    Z1 = Ws[0] @ X.T + bs[0]
    H1 = f(Z1)
    D2 = Ws[1] @ H1 + bs[1] - Y.T
    D1 = (Ws[1].T @ D2) * fp(Z1)
    hand = [D1 @ X / 8, D1.mean(axis=1, keepdims=True), D2 @ H1.T / 8, D2.mean(axis=1, keepdims=True)]
    for a, b, h in zip(by_columns, per_sample, hand):
        assert a.shape == b.shape == h.shape
        assert np.allclose(a, b, rtol=1e-12, atol=1e-14) and np.allclose(a, h, rtol=1e-12, atol=1e-14)
