"""Kind ``experiment``: train a small network with several hidden activations and compare them.

This is the one kind whose key reports *measurements*, not derivations: the numbers are what
one seeded training run gave, and the key says so. What is verified is the machinery:

- the gradients come from the engine's own back-propagation formulas, the ones the ``mlp``
  kind derives and checks (``network.solve`` on the same network, symbolic widths), each
  published formula (``forward.z1``, ``backward.dL/dz2``, ``grad.W1`` …) compiled to NumPy with
  ``sympy.lambdify`` through a printer that evaluates it for a whole batch at once (one
  function per training step, the batch stored by columns: one matrix product per layer);
- before training, the compiled gradients are compared with central finite differences of the
  compiled loss on one batch (every parameter entry); a gradient that disagrees means the part
  is not solved, with the parameter and the size of the disagreement;
- after training, the final MSEs are recomputed by a separate forward pass written directly
  from the registry's activation (not from the published formulas) and must agree.

Everything is deterministic from ``seed`` (``numpy.random.default_rng``): the data from
``seed``, the initial weights (Glorot uniform, biases 0, the same for every activation) from
``seed + 1``, the order of the minibatches (a new permutation every epoch, the same sequence for
every activation) from ``seed + 2``.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import sympy as sp

from ..errors import BadInput, VerificationFailed
from ..library.activations import ACTIVATIONS
from ..library.losses import LOSSES, MEAN_LOSSES
from ..spec import Fields, Problem
from .steps import Answer, Solution

FIELDS = {"layers", "activations", "output", "loss", "data", "optimizer", "seed", "constants",
          "validation", "notation"}
DATA_FIELDS = {"target", "var", "range", "samples", "noise", "csv"}
OPTIMIZER_FIELDS = {"method", "learning_rate", "batch_size", "epochs"}
ALIASES = {"linear": "identity"}   # the name course material uses for the identity activation
REGRESSION_LOSSES = ("half_squared", "squared", "mse", "absolute", "huber", "log_cosh")
MAX_WIDTH = 64
MAX_LAYERS = 6
MAX_SAMPLES = 5000
MAX_EPOCHS = 5000
MAX_STEPS = 200_000          # minibatch steps per activation
MAX_CSV_BYTES = 1_000_000
DIVERGED = 1e8               # an MSE above this (or not finite): the run diverged
FD_STEP = 1e-6               # central differences θ ± h
FD_TOLERANCE = 1e-5          # largest relative difference allowed between formula and differences
KINK_MARGIN = 1e-3           # the checked batch keeps every pre-activation this far from a kink
CURVE_POINTS = 40            # learning curves are drawn through at most this many epochs
SCATTER_POINTS = 80          # data points drawn in the fit plot
FIT_POINTS = 60              # points of each fitted curve


# --- the specification -------------------------------------------------------------------


@dataclass(frozen=True)
class DataSpec:
    target: str = ""             # the target function as written (empty: a CSV file)
    var: str = "x"
    low: float = 0.0
    high: float = 0.0
    samples: int = 0
    noise: float = 0.0
    csv: str = ""                # the CSV file as written in the problem
    rows: tuple = ()             # the CSV's rows (inputs …, targets …) as floats
    columns: tuple = ()          # the CSV's header
    low_tex: str = ""            # the range's ends as the key writes them (−π, π)
    high_tex: str = ""


@dataclass(frozen=True)
class ExperimentSpec:
    layers: tuple[int, ...]
    activations: tuple[tuple[str, str], ...]   # (as written, registry name)
    output: str
    loss: str
    data: DataSpec
    learning_rate: float
    learning_rate_written: str
    batch_size: int
    epochs: int
    validation: float
    seed: int
    constants: tuple[tuple[str, sp.Rational], ...] = ()
    notation: tuple[tuple[str, str], ...] = ()


def _positive_int(f: Fields, table: dict, key: str, where: str, low: int, high: int,
                  default: int | None = None) -> int:
    if key not in table:
        if default is None:
            raise f.error(where, "required field is missing")
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise f.error(where, f"expected an integer, got {value!r}")
    if not low <= value <= high:
        raise f.error(where, f"must be between {low} and {high}, got {value}")
    return value


def _number(f: Fields, value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise f.error(where, f"expected a number, got {value!r}")
    return float(value)


def parse(problem: Problem) -> ExperimentSpec:
    f = Fields(problem, FIELDS)
    layers = f.get("layers", list, required=True, what="a list of layer widths")
    if len(layers) < 3:
        raise f.error("layers", "an experiment compares hidden activations: give the input width, "
                      "at least one hidden width and the output width, e.g. [1, 16, 1]")
    if len(layers) > MAX_LAYERS:
        raise f.error("layers", f"at most {MAX_LAYERS} widths")
    for w in layers:
        if isinstance(w, bool) or not isinstance(w, int) or not 1 <= w <= MAX_WIDTH:
            raise f.error("layers", f"each width must be an integer from 1 to {MAX_WIDTH}, got {w!r}")
    written = f.string_list("activations", required=True)
    if not written:
        raise f.error("activations", "the list is empty")
    if len(set(written)) != len(written):
        raise f.error("activations", "an activation is listed twice")
    activations = []
    for name in written:
        entry = ALIASES.get(name, name)
        if entry not in ACTIVATIONS:
            raise f.error("activations", f"unknown activation {name!r} (see 'symderiv list'; "
                          "'linear' is the identity)")
        if ACTIVATIONS[entry].vector:
            raise f.error("activations", f"{name} is not elementwise: it cannot be a hidden activation")
        activations.append((name, entry))
    output = f.get("output", str, "identity")
    output = ALIASES.get(output, output)
    if output not in ACTIVATIONS:
        raise f.error("output", f"unknown activation {output!r} (see 'symderiv list')")
    if ACTIVATIONS[output].vector:
        raise f.error("output", f"{output} is not elementwise; the experiment fits a regression")
    loss = f.get("loss", str, "half_squared")
    if loss not in REGRESSION_LOSSES:
        raise f.error("loss", f"{loss!r} is not a regression loss (use one of "
                      f"{', '.join(REGRESSION_LOSSES)})")
    constants = f.get("constants", dict, {})
    consts = []
    for key, value in sorted(constants.items()):
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise f.error(f"constants.{key}", f"expected a number, got {value!r}")
        consts.append((key, sp.Rational(str(value))))
    needed = {p for _, e in activations for p in ACTIVATIONS[e].params} | set(ACTIVATIONS[output].params) \
        | set(LOSSES[loss].params)
    for p in sorted(needed - {k for k, _ in consts}):
        raise f.error("constants", f"training needs a value for the parameter {p} "
                      f"(e.g. constants = {{ {p} = 0.1 }})")
    for key, _ in consts:
        if key not in needed:
            raise f.error(f"constants.{key}", "no activation or loss of this experiment has this parameter")
    seed = f.get("seed", int, 0)
    if not 0 <= seed < 2 ** 62:
        raise f.error("seed", "must be a nonnegative integer below 2^62")
    validation = _number(f, f.get("validation", (int, Decimal), Decimal("0.2")), "validation")
    if not 0 < validation <= 0.5:
        raise f.error("validation", f"the fraction held out for validation must be in (0, 0.5], got {validation:g}")
    data = _parse_data(problem, f, layers)
    opt = f.get("optimizer", dict, required=True, what="a table (method, learning_rate, batch_size, epochs)")
    unknown = sorted(set(opt) - OPTIMIZER_FIELDS)
    if unknown:
        raise f.error(f"optimizer.{unknown[0]}", f"unknown field (allowed: {', '.join(sorted(OPTIMIZER_FIELDS))})")
    method = opt.get("method", "sgd")
    if method != "sgd":
        raise f.error("optimizer.method", f"{method!r} is not an optimiser symderiv runs (use \"sgd\")")
    if "learning_rate" not in opt:
        raise f.error("optimizer.learning_rate", "required field is missing")
    lr = _number(f, opt["learning_rate"], "optimizer.learning_rate")
    if not 0 < lr <= 10:
        raise f.error("optimizer.learning_rate", f"must be positive (at most 10), got {lr:g}")
    n = data.samples if data.target else len(data.rows)
    n_train = n - max(1, round(validation * n))
    batch = _positive_int(f, opt, "batch_size", "optimizer.batch_size", 1, max(1, n_train))
    epochs = _positive_int(f, opt, "epochs", "optimizer.epochs", 1, MAX_EPOCHS)
    steps = epochs * math.ceil(n_train / batch)
    if steps > MAX_STEPS:
        raise f.error("optimizer.epochs", f"{epochs} epochs of {math.ceil(n_train / batch)} batches are "
                      f"{steps} steps per activation; the limit is {MAX_STEPS}")
    notation = f.latex_table("notation", what="a table of names") if "notation" in problem.fields else {}
    spec = ExperimentSpec(tuple(layers), tuple(activations), output, loss, data, lr,
                          _written(opt["learning_rate"]), batch, epochs, validation, seed, tuple(consts),
                          tuple(sorted(notation.items())))
    dataset(spec, where=f)   # the data are made (or read) once here, so bad data is exit 2
    return spec


def _written(value) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _parse_data(problem: Problem, f: Fields, layers) -> DataSpec:
    table = f.get("data", dict, required=True, what="a table (target, range, samples, noise; or csv)")
    unknown = sorted(set(table) - DATA_FIELDS)
    if unknown:
        raise f.error(f"data.{unknown[0]}", f"unknown field (allowed: {', '.join(sorted(DATA_FIELDS))})")
    if "csv" in table:
        others = sorted(set(table) - {"csv"})
        if others:
            raise f.error(f"data.{others[0]}", "data come from the CSV file or from a target function, "
                          "not both")
        return _read_csv(problem, f, table["csv"], layers)
    if "target" not in table:
        raise f.error("data", "give a target function (target = \"sin(x)\", range, samples) or a CSV file "
                      "(csv = \"data.csv\")")
    if layers[0] != 1 or layers[-1] != 1:
        raise f.error("layers", "a target function of one variable needs input and output width 1 "
                      "(use a CSV file for more)")
    target = table["target"]
    if not isinstance(target, str):
        raise f.error("data.target", f"expected an expression as a string, got {target!r}")
    var = table.get("var", "x")
    if not isinstance(var, str) or not var.isidentifier() or not var.isascii():
        raise f.error("data.var", f"expected a variable name, got {var!r}")
    rng = table.get("range")
    if not isinstance(rng, list) or len(rng) != 2:
        raise f.error("data.range", "expected [low, high], two numbers")
    (low, low_tex), (high, high_tex) = (_endpoint(f, v) for v in rng)
    if not low < high:
        raise f.error("data.range", f"low must be below high, got [{low:g}, {high:g}]")
    if max(abs(low), abs(high)) > 1e6:
        raise f.error("data.range", "the inputs must lie within ±10^6")
    samples = _positive_int(f, table, "samples", "data.samples", 10, MAX_SAMPLES)
    noise = _number(f, table.get("noise", 0), "data.noise")
    if noise < 0:
        raise f.error("data.noise", f"the noise's standard deviation must be nonnegative, got {noise:g}")
    spec = DataSpec(target, var, low, high, samples, noise, low_tex=low_tex, high_tex=high_tex)
    _target_function(spec, f)   # parsed and compiled now: a bad expression is exit 2
    return spec


def _endpoint(f: Fields, value) -> tuple[float, str]:
    """An end of the input range: a number, or a constant expression such as "-pi" (read by the
    safe parser)."""
    from ..parse import parse_expression
    from ..render import num, tex

    if isinstance(value, str):
        try:
            expr = parse_expression(value)
        except BadInput as exc:
            raise f.error("data.range", exc.message) from None
        if not isinstance(expr, sp.Expr) or expr.free_symbols or not expr.is_real or not expr.is_finite:
            raise f.error("data.range", f"{value!r} is not a real number")
        return float(expr), tex(expr)
    v = _number(f, value, "data.range")
    return v, num(Decimal(str(value)))


def _target_function(data: DataSpec, f: Fields | None = None):
    """The target as a NumPy function, parsed by the safe parser (never eval)."""
    import numpy as np

    from ..assume import Scope
    from ..parse import Namespace, parse_expression
    from .derivative import namespace

    scope = Scope()
    x = scope.symbol(data.var)
    ns = namespace(scope)
    ns = Namespace(symbols={**ns.symbols, data.var: x}, functions=ns.functions, make_symbol=ns.make_symbol)
    def error(message):
        return f.error("data.target", message) if f else BadInput(message, field="data.target")

    try:
        expr = parse_expression(data.target, ns)
    except BadInput as exc:
        raise error(exc.message) from None
    if not isinstance(expr, sp.Expr):
        raise error("expected a scalar expression")
    extra = sorted(s.name for s in expr.free_symbols if s != x)
    if extra:
        raise error(f"the target may only use {data.var}; unknown name {extra[0]!r}")
    fn = sp.lambdify([x], expr, modules=_numpy(_NUMPY_EXTRAS))
    return lambda v: np.broadcast_to(np.asarray(fn(v), dtype=float), np.shape(v))


def _vectorized(fn):
    import numpy as np

    return np.vectorize(fn, otypes=[float])


_NUMPY_EXTRAS = {"erf": _vectorized(math.erf), "erfc": _vectorized(math.erfc)}


def _numpy(*first) -> list:
    """lambdify's ``modules`` for NumPy: ``first`` (our functions), then NumPy's namespace as
    the module object (printed names qualified or not both resolve). The string "numpy" would
    run ``from numpy import *``, which imports numpy.f2py and its dependencies (about 65 ms of
    start-up a process, for nothing the generated code uses)."""
    import numpy as np

    return [*first, {"numpy": np}, np]


def _read_csv(problem: Problem, f: Fields, name, layers) -> DataSpec:
    if not isinstance(name, str) or not name.strip():
        raise f.error("data.csv", f"expected a file name, got {name!r}")
    where = Path(problem.file).resolve().parent if problem.file else Path.cwd().resolve()
    rel = Path(name)
    if rel.is_absolute() or ".." in rel.parts or "\\" in name or "\0" in name:
        raise f.error("data.csv", "the CSV file must be named relative to the problem file's directory, "
                      "inside it (no absolute path, no '..')")
    if rel.suffix.lower() != ".csv":
        raise f.error("data.csv", "the file name must end in .csv")
    path = (where / rel).resolve()
    if not path.is_relative_to(where):
        raise f.error("data.csv", "the CSV file must be inside the problem file's directory")
    if not path.is_file():
        raise f.error("data.csv", f"no such file next to the problem file: {name}")
    if path.stat().st_size > MAX_CSV_BYTES:
        raise f.error("data.csv", f"the file is larger than {MAX_CSV_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise f.error("data.csv", f"cannot read the file ({type(exc).__name__})") from None
    reader = csv.reader(io.StringIO(text))
    lines = [row for row in reader if row and any(c.strip() for c in row)]
    if len(lines) < 2:
        raise f.error("data.csv", "expected a header row (x, y or x1, x2, …, y) and data rows")
    header = tuple(c.strip() for c in lines[0])
    inputs = [c for c in header if c.startswith("x")]
    outputs = [c for c in header if c.startswith("y")]
    if len(inputs) + len(outputs) != len(header) or not inputs or not outputs or \
            header != tuple(inputs + outputs):
        raise f.error("data.csv", "the header names the input columns first (x or x1, x2, …), then the "
                      "target columns (y or y1, …)")
    if len(inputs) != layers[0] or len(outputs) != layers[-1]:
        raise f.error("data.csv", f"{len(inputs)} input and {len(outputs)} target columns, but layers "
                      f"has input width {layers[0]} and output width {layers[-1]}")
    rows = []
    for number, row in enumerate(lines[1:], start=2):
        if len(row) != len(header):
            raise f.error("data.csv", f"row {number} has {len(row)} values, the header {len(header)}")
        values = []
        for cell in row:
            text_cell = cell.strip()
            if len(text_cell) > 40 or not all(ch in "0123456789+-.eE" for ch in text_cell) or not text_cell:
                raise f.error("data.csv", f"row {number}: {text_cell[:40]!r} is not a number")
            try:
                v = float(text_cell)
            except ValueError:
                raise f.error("data.csv", f"row {number}: {text_cell!r} is not a number") from None
            if not math.isfinite(v) or abs(v) > 1e12:
                raise f.error("data.csv", f"row {number}: {text_cell!r} is not a finite number below 10^12")
            values.append(v)
        rows.append(tuple(values))
    if not 10 <= len(rows) <= MAX_SAMPLES:
        raise f.error("data.csv", f"expected 10 to {MAX_SAMPLES} data rows, found {len(rows)}")
    return DataSpec(csv=name, rows=tuple(rows), columns=header)


# --- the data ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    x_train: object   # (n, d) arrays
    y_train: object
    x_val: object
    y_val: object
    x_all: object
    clean: object | None = None   # the target without noise, as a callable (spec data)


def dataset(spec: ExperimentSpec, where: Fields | None = None) -> Dataset:
    """The data, deterministic from the seed: x ~ U(low, high), y = target(x) + noise·N(0, 1),
    then a permutation (same generator) whose first ⌈validation·n⌉ rows are held out."""
    import numpy as np

    rng = np.random.default_rng(spec.seed)
    d = spec.data
    fn = None
    if d.target:
        fn = _target_function(d, where)
        x = rng.uniform(d.low, d.high, d.samples)
        with np.errstate(all="ignore"):
            clean = fn(x)
        bad = ~np.isfinite(clean)
        if bad.any():
            at = float(x[np.argmax(bad)])
            raise BadInput(f"the target is not defined (or not finite) at {d.var} = {at:.6g}, inside the "
                           "range", field="data.target")
        y = clean + d.noise * rng.standard_normal(d.samples)
        X, Y = x.reshape(-1, 1), y.reshape(-1, 1)
    else:
        arr = np.array(d.rows, dtype=float)
        k = spec.layers[0]
        X, Y = arr[:, :k], arr[:, k:]
    n = len(X)
    n_val = max(1, round(spec.validation * n))
    perm = rng.permutation(n)
    val, train = perm[:n_val], perm[n_val:]
    return Dataset(X[train], Y[train], X[val], Y[val], X, fn)


def initial_weights(layers, seed: int):
    """Glorot-uniform weights, zero biases, from ``default_rng(seed + 1)``: W_k ~ U(−a, a) with
    a = √(6/(n_{k−1} + n_k)), drawn layer by layer."""
    import numpy as np

    rng = np.random.default_rng(seed + 1)
    Ws, bs = [], []
    for fan_in, fan_out in zip(layers, layers[1:]):
        a = math.sqrt(6.0 / (fan_in + fan_out))
        Ws.append(rng.uniform(-a, a, (fan_out, fan_in)))
        bs.append(np.zeros((fan_out, 1)))
    return Ws, bs


def batch_orders(n_train: int, epochs: int, seed: int):
    """The minibatch order of every epoch, from ``default_rng(seed + 2)``."""
    import numpy as np

    rng = np.random.default_rng(seed + 2)
    for _ in range(epochs):
        yield rng.permutation(n_train)


# --- the engine's formulas, compiled --------------------------------------------------------


def derived_formulas(problem: Problem, spec: ExperimentSpec, activation: str):
    """The mlp kind's derivation for this network and hidden activation (symbolic widths, so the
    formulas do not depend on the sizes): ``{label: matrix expression}``, every one of them
    checked by ``network.solve`` on concrete networks before it is returned; and the answers'
    displays (the question's notation) for the key."""
    from . import network

    widths = [f"n{k}" for k in range(len(spec.layers))]
    fields = {"layers": widths, "hidden": activation, "output": spec.output, "loss": spec.loss}
    if spec.notation:
        fields["notation"] = dict(spec.notation)
    if spec.constants:
        fields["constants"] = {k: Decimal(str(sp.Float(v, 30))) if not v.is_Integer else int(v)
                               for k, v in spec.constants}
    mlp = Problem(id=problem.id, kind="mlp", fields=fields, file=problem.file)
    try:
        mlp = replace(mlp, spec=network.parse(mlp))
    except BadInput as exc:
        raise problem.error(exc.field, exc.message) from None
    solution = network.solve(mlp)
    values = {a.label: a.value for a in solution.answers}
    return values, solution.body.gradient_rows


def _numpy_printer():
    from sympy.printing.numpy import NumPyPrinter

    class BatchPrinter(NumPyPrinter):
        """Matrix formulas for a batch: every vector is an array (B, n, 1), a product is ``@``
        (NumPy broadcasts the weights over the batch), ᵀ swaps the last two axes, ⊙ is ``*``."""

        def _print_MatMul(self, expr):
            scalars = [a for a in expr.args if not getattr(a, "is_Matrix", False)]
            mats = [a for a in expr.args if getattr(a, "is_Matrix", False)]
            text = " @ ".join(f"({self._print(m)})" for m in mats)
            if scalars:
                text = "(" + "*".join(f"({self._print(s)})" for s in scalars) + ")*(" + text + ")"
            return f"({text})"

        def _print_MatAdd(self, expr):
            return "(" + " + ".join(f"({self._print(a)})" for a in expr.args) + ")"

        def _print_Transpose(self, expr):
            return f"numpy.swapaxes({self._print(expr.arg)}, -1, -2)"

        def _print_Activation(self, expr):
            return f"act_{expr.fname}({self._print(expr.operands[0])})"

        def _print_ActivationPrime(self, expr):
            return f"prime_{expr.fname}({self._print(expr.operands[0])})"

        def _print_Hadamard(self, expr):
            return "(" + " * ".join(f"({self._print(a)})" for a in expr.operands) + ")"

        def _print_MatrixSymbol(self, expr):
            return expr.name

        def _print__Call(self, expr):
            return f"{expr.args[0].name}({', '.join(self._print(a) for a in expr.args[1:])})"

        def _unsupported(self, expr):
            raise NotImplementedError(f"{type(expr).__name__} in a formula compiled for training")

        _print_Jacobian = _print_Diag = _print_Loss = _print_Identity = _unsupported

    return BatchPrinter({"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": False})


def _columns_printer(params):
    """The per-sample formulas for a whole batch stored by columns: every vector is an array
    (n, B), one column per sample, so a product with a weight matrix is one matrix product for
    the batch. Only the forms back-propagation takes are printed (a transposed per-sample vector
    only as the last factor of a parameter's gradient, see ``compile_formulas``): anything else
    raises NotImplementedError and the per-sample compilation is used."""
    printer = _numpy_printer()
    base = type(printer)

    class ColumnPrinter(base):
        def _print_Transpose(self, expr):
            if isinstance(expr.arg, sp.MatrixSymbol) and expr.arg.name in params:
                return f"({expr.arg.name}).T"
            raise NotImplementedError("a transposed per-sample quantity inside a formula")

    return ColumnPrinter({"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": False})


def _outer_sum(u, v):
    """Σ over the batch of u_b v_bᵀ, divided by B: the mean of the per-sample products."""
    return (u @ v.T) / u.shape[1]


def _column_mean(v):
    """The mean over the batch (the columns) of a per-sample vector."""
    import numpy as np

    return np.add.reduce(v, axis=1, keepdims=True) / v.shape[1]


def _left_at_kinks(expr: sp.Expr, z: sp.Symbol) -> sp.Expr:
    """The derivative's value at a kink is the left one (ReLU′(0) = 0, as the mlp kind and
    PyTorch use): Heaviside(u) is Heaviside(u, 0) and a piece for z < c also holds at z = c."""
    expr = expr.replace(lambda a: isinstance(a, sp.Heaviside) and a.args[1:] != (sp.S.Zero,),
                        lambda a: sp.Heaviside(a.args[0], 0))   # Heaviside(z) holds H(0) = 1/2

    def widen(pw):
        pieces = []
        for value, cond in pw.args:
            cond = cond.replace(lambda r: isinstance(r, sp.StrictLessThan), lambda r: sp.Le(r.lhs, r.rhs))
            pieces.append((value, cond))
        return sp.Piecewise(*pieces)
    return expr.replace(lambda a: isinstance(a, sp.Piecewise), widen)


def _scalar_fn(expr: sp.Expr, args):
    return sp.lambdify(args, expr, modules=_numpy(_NUMPY_EXTRAS), printer=_scalar_printer())


def _scalar_printer():
    """lambdify's own NumPy printer, except that a piecewise formula is a chain of
    ``numpy.where`` (the first true condition wins, as in ``numpy.select``, with the same values:
    a float array, NaN where no condition holds), about four times faster than ``select`` on
    the small arrays of a training step."""
    from sympy.logic.boolalg import ITE, simplify_logic
    from sympy.printing.numpy import NumPyPrinter

    class ScalarPrinter(NumPyPrinter):
        def _print_Piecewise(self, expr):
            def cond(c):
                return self._print(simplify_logic(c) if c.has(ITE) else c)
            pieces = list(expr.args)
            if pieces[-1].cond == True:   # noqa: E712 (SymPy's true)
                text = self._print(pieces.pop().expr)
            else:
                text = self._print(sp.S.NaN)
            for piece in reversed(pieces):
                text = f"{self._module_format(self._module + '.where')}({cond(piece.cond)}, {self._print(piece.expr)}, {text})"
            return f"(1.0*{text})"

    return ScalarPrinter({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True,
                          "user_functions": {k: k for k in _NUMPY_EXTRAS}})


class _Call(sp.Basic):
    """A call of one of the training helpers (``dloss``, ``mean0``) inside a compiled step: the
    printer writes ``name(operand, …)``; it is never evaluated by SymPy."""

    def __new__(cls, name: str, *operands):
        return sp.Basic.__new__(cls, sp.Symbol(name), *operands)


@dataclass
class Compiled:
    """One activation's network as NumPy functions of a batch (arrays (B, n, 1))."""

    activation: str
    forward: list          # (name, fn, argument names): z1, h1, …, yhat in order
    loss: object           # per-sample loss, fn(yhat, y) -> (B,)
    dloss: object          # ∂ℓ/∂ŷ, fn(yhat, y) -> (B, K, 1)
    backward: list         # (name, fn, argument names): dL_dz_L, dL_dh_{L-1}, … in order
    grads: list            # (parameter name, fn, argument names): W_L, b_L, …
    act: object            # the activation itself, from the registry (for the separate check)
    out: object            # the output activation, from the registry
    prime: object          # the compiled derivative of the hidden activation (the left one at a kink)
    formulas: dict         # label → the published formula that was compiled
    step: object = None    # the whole forward and backward pass as one function (the same formulas)
    ahead: object = None   # the forward pass to ŷ as one function
    params: tuple = ()     # the parameters' names in the order step and ahead take them
    columns: object = None  # step with the batch stored by columns (vectors (n, B)), or None


def compile_formulas(spec: ExperimentSpec, activation: str, formulas: dict) -> Compiled:
    """Compile the published formulas of one network (``derived_formulas``) to NumPy."""
    import numpy as np

    consts = dict(spec.constants)
    z = sp.Symbol("z", real=True)
    functions = dict(_NUMPY_EXTRAS)
    for name in {activation, spec.output}:
        entry = ACTIVATIONS[name]
        params = {p: consts[p] for p in entry.params}
        functions[f"act_{name}"] = _scalar_fn(entry.build(z, params), [z])
        closed = formulas.get(f"elementwise.{name}_prime")
        if closed is None:   # the identity (no closed form published): its derivative, 1
            closed = sp.diff(entry.build(z, params), z)
        closed = closed.xreplace({s: consts[s.name] for s in closed.free_symbols if s.name in consts})
        zs = [s for s in closed.free_symbols if s.name == "z"]
        closed = _left_at_kinks(closed.xreplace({zs[0]: z}) if zs else closed, z)
        prime = _scalar_fn(closed, [z])
        functions[f"prime_{name}"] = (lambda fn: lambda u: _like(fn(u), u))(prime)
    printer = _numpy_printer()

    def compile_one(expr, now: bool = True):
        # the arguments are the matrix symbols' names (x, W1, z1, dL_dyhat …); the printer
        # writes each matrix symbol as its name, so the generated code reads them. The backward
        # quantities one by one are compiled when first called (training uses the step below)
        names = sorted({m.name for m in expr.atoms(sp.MatrixSymbol)})

        def make():
            return sp.lambdify([sp.Symbol(n) for n in names], expr, modules=_numpy(functions), printer=printer)
        return (make() if now else _on_first_call(make)), names

    L = len(spec.layers) - 1
    forward = []
    for label, expr in formulas.items():
        if label.startswith("forward.") and label != "forward.loss":
            forward.append((label[len("forward."):],) + compile_one(expr))
    # ∂ℓ/∂ŷ entry by entry (yhat_j, y_j), as the mlp kind publishes it; a width in it is K
    dl = formulas["elementwise.dL/dyhat"]
    yh, yy = sp.Symbol("yhat_j", real=True), sp.Symbol("y_j", real=True)
    dl = dl.xreplace({s: sp.Integer(spec.layers[-1]) for s in dl.free_symbols if s.name == f"n{L}"})
    dl = dl.xreplace({s: consts[s.name] for s in dl.free_symbols if s.name in consts})
    dl = dl.xreplace({s: yh for s in dl.free_symbols if s.name == "yhat_j"})
    dl = dl.xreplace({s: yy for s in dl.free_symbols if s.name == "y_j"})
    dl = _left_at_kinks(dl, yh)
    dl_fn = _scalar_fn(dl, [yh, yy])

    def dloss(yhat, y):
        return _like(dl_fn(yhat, y), yhat)

    entry = LOSSES[spec.loss]
    per_entry = _scalar_fn(entry.build(yh, yy, {p: consts[p] for p in entry.params}), [yh, yy])
    mean = spec.loss in MEAN_LOSSES

    def loss(yhat, y):
        v = np.broadcast_to(np.asarray(per_entry(yhat, y), dtype=float), np.shape(yhat)).sum(axis=(-2, -1))
        return v / yhat.shape[-2] if mean else v

    # back-propagation: each quantity as published, with the quantities already computed
    # named in it (∂ℓ/∂z₂ inside ∂ℓ/∂W₂ is the array dL_dz2, not the formula again)
    known: list[tuple[sp.Basic, sp.Basic]] = []
    backward, grads = [], []
    assigned = []   # (quantity, hoisted formula) of the backward pass, in order
    hoisted_grads = {}
    for label, expr in formulas.items():
        if not label.startswith("backward."):
            continue
        name = "dL_d" + label[len("backward.dL/d"):]
        hoisted = _hoist(expr, known)
        backward.append((name,) + compile_one(hoisted, now=False))
        assigned.append((sp.MatrixSymbol(name, 1, 1), hoisted))
        known.append((expr, sp.MatrixSymbol(name, *expr.shape)))
    for label, expr in formulas.items():
        if label.startswith("grad."):
            hoisted_grads[label[len("grad."):]] = hoisted = _hoist(expr, known)
            grads.append((label[len("grad."):],) + compile_one(hoisted, now=False))
    # the same formulas, hoisted the same way, as one function each for a training step and
    # for a forward pass: the quantities are assigned in the order above (z1, h1, …, ŷ, ∂ℓ/∂ŷ,
    # ∂ℓ/∂z_L, …), so every array operation is the one the separate functions performed
    params = tuple(n for k in range(1, L + 1) for n in (f"W{k}", f"b{k}"))
    # (the names on the left are only printed: their shapes do not matter)
    steps_fwd = [(sp.MatrixSymbol(name, 1, 1), formulas["forward." + name]) for name, _, _ in forward]
    steps_back = [(sp.MatrixSymbol("dL_dyhat", 1, 1),
                   _Call("dloss", sp.MatrixSymbol("yhat", 1, 1), sp.MatrixSymbol("y", 1, 1)))] + assigned
    outs = [_Call("mean0", hoisted_grads[name]) for name in params]
    helpers = {**functions, "dloss": dloss, "mean0": _mean0}
    args = [sp.Symbol(n) for n in ("x", "y") + params]
    step = _on_first_call(lambda: sp.lambdify(   # (training uses ``columns`` when it compiles)
        args, [sp.MatrixSymbol("yhat", 1, 1)] + outs, modules=_numpy(helpers), printer=printer,
        cse=lambda e: (steps_fwd + steps_back, e)))
    ahead = sp.lambdify([sp.Symbol(n) for n in ("x",) + params], sp.MatrixSymbol("yhat", 1, 1),
                        modules=_numpy(helpers), printer=printer, cse=lambda e: (steps_fwd, e))
    columns = _columns_step(params, steps_fwd, steps_back, hoisted_grads,
                            {**helpers, "outer_sum": _outer_sum, "column_mean": _column_mean})
    return Compiled(activation, forward, loss, dloss, backward, grads,
                    functions[f"act_{activation}"], functions[f"act_{spec.output}"],
                    functions[f"prime_{activation}"],
                    {k: v for k, v in formulas.items() if k.startswith(("forward.", "backward.", "grad."))},
                    step, ahead, params, columns)


def _columns_step(params, steps_fwd, steps_back, hoisted_grads, helpers):
    """The training step of ``compile_formulas`` with the batch stored by columns (vectors
    (n, B)): the same formulas, hoisted the same way; a parameter's gradient u vᵀ (a per-sample
    outer product) is the matrix product of the batch's columns divided by B, any other (a
    per-sample vector: a bias) the mean of the columns. None when a formula has another form."""
    outs = []
    for name in params:
        g = hoisted_grads[name]
        last = g.args[-1] if isinstance(g, sp.MatMul) else None
        if isinstance(last, sp.Transpose) and isinstance(last.arg, sp.MatrixSymbol) and last.arg.name not in params:
            rest = g.args[:-1]
            left = rest[0] if len(rest) == 1 else sp.MatMul(*rest)
            outs.append(_Call("outer_sum", left, last.arg))
        else:
            outs.append(_Call("column_mean", g))
    args = [sp.Symbol(n) for n in ("x", "y") + params]
    try:
        return sp.lambdify(args, [sp.MatrixSymbol("yhat", 1, 1)] + outs, modules=_numpy(helpers),
                           printer=_columns_printer(set(params)),
                           cse=lambda e: (steps_fwd + steps_back, e))
    except NotImplementedError:
        return None


def _like(value, shape_of):
    """``value`` (a formula's result: an array, or a constant such as 1) as a float array of the
    shape of ``shape_of``."""
    import numpy as np

    if type(value) is np.ndarray and value.dtype == np.float64 and value.shape == np.shape(shape_of):
        return value
    return np.broadcast_to(np.asarray(value, dtype=float), np.shape(shape_of))


def _on_first_call(make):
    """A function that is ``make()`` (a compiled formula), compiled when first called."""
    compiled = []

    def call(*args):
        if not compiled:
            compiled.append(make())
        return compiled[0](*args)
    return call


def _mean0(value):
    """A parameter's gradient over a batch: the mean of the per-sample gradients (B, m, n).
    (What ``value.mean(axis=0)`` computes, the sum over the batch divided by its size, without
    its Python overhead: the same numbers to the bit.)"""
    import numpy as np

    return np.add.reduce(value, axis=0) / value.shape[0] if value.ndim == 3 else value


def _hoist(expr, known):
    """``expr`` with every already computed quantity (largest first) replaced by its name."""
    for full, name in sorted(known, key=lambda kv: -sp.count_ops(kv[0]) - len(str(kv[0]))):
        if full != name:
            expr = expr.xreplace({full: name})
    return expr


def _call(fn, names, env):
    return fn(*[env[n] for n in names])


def forward_pass(c: Compiled, Ws, bs, X):
    """Every forward quantity for a batch X (B, d): the environment of named arrays."""
    env = {"x": X[:, :, None]}
    for k, (W, b) in enumerate(zip(Ws, bs), start=1):
        env[f"W{k}"], env[f"b{k}"] = W, b
    for name, fn, names in c.forward:
        env[name] = _call(fn, names, env)
    return env


def _params(Ws, bs) -> list:
    return [p for pair in zip(Ws, bs) for p in pair]


def gradients(c: Compiled, Ws, bs, X, Y, with_loss: bool = True):
    """The mean loss over the batch (None without ``with_loss``: training needs only the
    gradient) and its gradient (a list of arrays, W1, b1, W2, …) by the compiled published
    formulas (``c.step``: the forward pass, ∂ℓ/∂ŷ, the backward pass and the mean of each
    parameter's gradient over the batch, in one call)."""
    if c.columns is not None:   # one matrix product per layer for the whole batch
        _, *grads = c.columns(X.T, Y.T, *_params(Ws, bs))
        return (mean_loss(c, Ws, bs, X, Y) if with_loss else None), grads
    y = Y[:, :, None]
    yhat, *grads = c.step(X[:, :, None], y, *_params(Ws, bs))
    loss = float(c.loss(yhat, y).mean()) if with_loss else None
    return loss, grads


def mean_loss(c: Compiled, Ws, bs, X, Y) -> float:
    return float(c.loss(c.ahead(X[:, :, None], *_params(Ws, bs)), Y[:, :, None]).mean())


def predict(c: Compiled, Ws, bs, X):
    return c.ahead(X[:, :, None], *_params(Ws, bs))[:, :, 0]


def _plain_predict(c: Compiled, Ws, bs, X):
    """A forward pass written directly (not through the published formulas): for the check of
    the reported numbers."""
    import numpy as np

    h = X.T
    for k, (W, b) in enumerate(zip(Ws, bs)):
        z = W @ h + b
        h = np.asarray(c.act(z) if k < len(Ws) - 1 else c.out(z), dtype=float) * np.ones_like(z)
    return h.T


def mse(prediction, Y) -> float:
    import numpy as np

    return float(np.mean((prediction - Y) ** 2))


@dataclass(frozen=True)
class GradientCheck:
    activation: str
    batch: int                 # which batch of epoch 1 was checked (1-based)
    size: int
    worst: str                 # the parameter with the largest relative difference
    relative: float            # max |formula − differences| / max |differences|
    entries: int

    @property
    def shown(self) -> str:
        return sci(self.relative, 2)


def check_gradients(problem: Problem, spec: ExperimentSpec, c: Compiled, Ws, bs, X, Y, written: str,
                    kinks) -> GradientCheck:
    """The compiled gradients against central differences of the compiled loss, entry by entry,
    on the first minibatch of epoch 1, less its samples with a pre-activation within
    ``KINK_MARGIN`` of a kink of the activation (a difference quotient across a kink measures
    another slope); a batch that would lose more than half its samples is passed over."""
    import numpy as np

    order = next(batch_orders(len(X), 1, spec.seed))
    chosen = None
    for number, start in enumerate(range(0, len(X), spec.batch_size), start=1):
        idx = order[start:start + spec.batch_size]
        if kinks:
            env = forward_pass(c, Ws, bs, X[idx])
            margin = np.full(len(idx), np.inf)
            for k in range(1, len(Ws) + 1):
                for u in kinks:
                    dist = np.abs(np.broadcast_to(np.asarray(u(env[f"z{k}"]), dtype=float), env[f"z{k}"].shape))
                    margin = np.minimum(margin, dist.min(axis=(1, 2)))
            idx = idx[margin > KINK_MARGIN]
        if len(idx) >= max(1, math.ceil(min(spec.batch_size, len(X) - start) / 2)):
            chosen = (number, idx)
            break
    if chosen is None:
        raise VerificationFailed(problem.id, f"gradient_check[activation={written}]",
                                 "in every batch most samples have a pre-activation at a kink of the "
                                 "activation, so the gradients cannot be compared with difference quotients")
    number, idx = chosen
    Xb, Yb = X[idx], Y[idx]
    _, grads = gradients(c, Ws, bs, Xb, Yb)
    params = [p for pair in zip(Ws, bs) for p in pair]
    names = [n for k in range(1, len(Ws) + 1) for n in (f"W{k}", f"b{k}")]
    worst, worst_name, entries = 0.0, names[0], 0
    for name, P, G in zip(names, params, grads):
        fd = np.zeros_like(P)
        for i in np.ndindex(P.shape):
            keep = P[i]
            P[i] = keep + FD_STEP
            up = mean_loss(c, Ws, bs, Xb, Yb)
            P[i] = keep - FD_STEP
            down = mean_loss(c, Ws, bs, Xb, Yb)
            P[i] = keep
            fd[i] = (up - down) / (2 * FD_STEP)
            entries += 1
        if G.shape != P.shape:
            raise VerificationFailed(problem.id, f"gradient_check[activation={written}]",
                                     f"the gradient of {name} has shape {G.shape}, the parameter {P.shape}")
        scale = max(float(np.max(np.abs(fd))), 1e-3)
        rel = float(np.max(np.abs(G - fd))) / scale
        if rel > worst:
            worst, worst_name = rel, name
    check = GradientCheck(written, number, len(idx), worst_name, worst, entries)
    if not worst <= FD_TOLERANCE:
        raise VerificationFailed(problem.id, f"gradient_check[activation={written}]",
                                 f"the compiled gradient of {worst_name} differs from central differences "
                                 f"on batch {number} (relative difference {worst:.3g}, allowed "
                                 f"{FD_TOLERANCE:g}): the formula used for training is wrong")
    return check


def _kinks(spec: ExperimentSpec, activation: str):
    """The activation's kinks as NumPy functions u(z) (a kink where u = 0)."""
    from .branches import kink_arguments

    z = sp.Symbol("z", real=True)
    consts = dict(spec.constants)
    out = []
    for name in {activation, spec.output}:
        entry = ACTIVATIONS[name]
        for u in kink_arguments(entry.build(z, {p: consts[p] for p in entry.params})):
            if u.has(z):
                out.append(_scalar_fn(u, [z]))
    return out


@dataclass(frozen=True)
class Run:
    written: str              # the activation as written
    name: str                 # the registry name
    train: tuple              # MSE after each epoch (index 0: before training)
    val: tuple
    diverged_at: int | None   # the epoch at which the MSE left every bound
    final_train: float
    final_val: float
    check: GradientCheck
    fit: tuple                # (x, prediction) on a grid (1-D data)


def train(problem: Problem, spec: ExperimentSpec, c: Compiled, data: Dataset, written: str, kinks) -> Run:
    import numpy as np

    Ws, bs = initial_weights(spec.layers, spec.seed)
    X, Y = data.x_train, data.y_train
    check = check_gradients(problem, spec, c, Ws, bs, X, Y, written, kinks)
    curve_t = [mse(predict(c, Ws, bs, X), Y)]
    curve_v = [mse(predict(c, Ws, bs, data.x_val), data.y_val)]
    diverged = None
    lr = spec.learning_rate
    with np.errstate(all="ignore"):
        for epoch, order in enumerate(batch_orders(len(X), spec.epochs, spec.seed), start=1):
            for start in range(0, len(X), spec.batch_size):
                idx = order[start:start + spec.batch_size]
                _, grads = gradients(c, Ws, bs, X[idx], Y[idx], with_loss=False)
                for k in range(len(Ws)):
                    Ws[k] = Ws[k] - lr * grads[2 * k]
                    bs[k] = bs[k] - lr * grads[2 * k + 1]
            t = mse(predict(c, Ws, bs, X), Y)
            v = mse(predict(c, Ws, bs, data.x_val), data.y_val)
            curve_t.append(t)
            curve_v.append(v)
            if not (math.isfinite(t) and t < DIVERGED):
                diverged = epoch
                break
    final_t, final_v = curve_t[-1], curve_v[-1]
    if diverged is None:   # the reported numbers, recomputed by a separate forward pass
        again_t = mse(_plain_predict(c, Ws, bs, X), Y)
        again_v = mse(_plain_predict(c, Ws, bs, data.x_val), data.y_val)
        for what, a, b in (("training", final_t, again_t), ("validation", final_v, again_v)):
            if not abs(a - b) <= 1e-9 * max(1.0, abs(b)):
                raise VerificationFailed(problem.id, f"final_mse[activation={written}]",
                                         f"the {what} MSE of the trained network differs between the "
                                         f"compiled formulas ({a:.6g}) and a direct forward pass ({b:.6g})")
    fit = ()
    if diverged is None and spec.layers[0] == 1 and spec.layers[-1] == 1:
        lo, hi = float(np.min(data.x_all)), float(np.max(data.x_all))
        grid = np.linspace(lo, hi, FIT_POINTS)
        pred = predict(c, Ws, bs, grid.reshape(-1, 1))[:, 0]
        fit = tuple(zip(grid.tolist(), pred.tolist()))
    return Run(written, c.activation, tuple(curve_t), tuple(curve_v), diverged, final_t, final_v, check, fit)


# --- the key -------------------------------------------------------------------------------


def sci(value: float, digits: int = 3) -> str:
    """A measured number for the key: 0.0123 → 1.23 × 10⁻² (LaTeX math), or a plain decimal
    between 0.01 and 1000."""
    if not math.isfinite(value):
        return r"\infty"
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    mantissa = round(value / 10 ** exponent, digits - 1)
    if abs(mantissa) >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    if -2 <= exponent <= 2:
        return f"{value:.{max(0, digits - 1 - exponent)}f}"
    return rf"{mantissa:.{digits - 1}f} \times 10^{{{exponent}}}"


def _factor(big: float, small: float) -> str:
    ratio = big / small
    if ratio < 1.1:
        return "about the same as"
    if ratio < 10:
        return f"{ratio:.1f} times lower than"
    return f"{ratio:.0f} times lower than"


def display_name(written: str, name: str) -> str:
    """The activation as the key prints it: the question's word (linear, ReLU, tanh)."""
    title = ACTIVATIONS[name].title
    if written == "linear" or title == written.capitalize():
        return written
    return title


def _capital(name: str) -> str:
    return name[:1].upper() + name[1:]


def summary(runs) -> list[str]:
    """The paragraph, worded from the numbers: which activation reached the lowest MSE and by
    what factor, on validation and on training data; which runs diverged."""
    ok = [r for r in runs if r.diverged_at is None]
    out = []
    if ok:
        best = min(ok, key=lambda r: r.final_val)
        others = [r for r in sorted(ok, key=lambda r: r.final_val) if r is not best]
        text = (f"The lowest validation MSE was reached with {display_name(best.written, best.name)}: "
                f"${sci(best.final_val)}$")
        if others:
            text += ", " + ", ".join(
                f"{_factor(o.final_val, best.final_val)} {display_name(o.written, o.name)} (${sci(o.final_val)}$)"
                for o in others)
        out.append(text + ".")
        best_t = min(ok, key=lambda r: r.final_train)
        if best_t is best:
            out.append(f"{_capital(display_name(best.written, best.name))} also has the lowest training MSE "
                       f"(${sci(best.final_train)}$).")
        else:
            out.append(f"On the training data {display_name(best_t.written, best_t.name)} is lowest "
                       f"(${sci(best_t.final_train)}$ against ${sci(best.final_train)}$), so the ranking "
                       "depends on which data the error is measured on.")
        gaps = [r for r in ok if r.final_val > 2 * r.final_train and r.final_val > 1e-3]
        for r in gaps:
            out.append(f"With {display_name(r.written, r.name)} the validation MSE is "
                       f"{r.final_val / r.final_train:.1f} times its training MSE.")
    gone = [f"{display_name(r.written, r.name)} (at epoch {r.diverged_at})" for r in runs
            if r.diverged_at is not None]
    if gone:
        names = gone[0] if len(gone) == 1 else ", ".join(gone[:-1]) + " and " + gone[-1]
        out.append(f"The training diverged with {names}: the training MSE exceeded $10^{{8}}$, so a "
                   "smaller learning rate may be needed" + ("; no activation finished the training, so "
                                                           "none is ranked." if not ok else "."))
    return out


def _downsample(values, limit: int):
    n = len(values)
    if n <= limit:
        return [(i, v) for i, v in enumerate(values)]
    step = (n - 1) / (limit - 1)
    idx = sorted({round(i * step) for i in range(limit)})
    return [(i, values[i]) for i in idx]


@dataclass(frozen=True)
class ExperimentBody:
    spec: ExperimentSpec
    runs: tuple
    rows: tuple                 # (name, training MSE text, validation MSE text, diverged)
    curves: tuple               # (name, train points, validation points)
    scatter: tuple              # (x, y) training data shown
    target_curve: tuple         # the noise-free target on the grid (spec data)
    y_range: tuple              # the fit plot's window
    curve_range: tuple          # the learning curves' window (log scale)
    paragraph: tuple
    n_train: int
    n_val: int
    data_text: str              # how the data were made, in words (LaTeX)
    loss_tex: str               # the loss, written out where the registry writes it out
    gradient_lines: tuple       # (label LaTeX, formula display) of one activation, the engine's
    gradient_activation: str
    colours: tuple


COLOURS = ("blue", "red", "black", "teal", "orange", "violet")


def solve(problem: Problem) -> Solution:
    import numpy as np

    spec: ExperimentSpec = problem.spec
    data = dataset(spec)
    runs, answers, checks = [], [], []
    shown_formulas, shown_for = (), ""
    for written, name in spec.activations:
        formulas, displays = derived_formulas(problem, spec, name)
        c = compile_formulas(spec, name, formulas)
        run = train(problem, spec, c, data, written, _kinks(spec, name))
        runs.append(run)
        label = f"[activation={written}]"
        final_t = sp.oo if run.diverged_at is not None else sp.Float(repr(run.final_train), 15)
        final_v = sp.oo if run.diverged_at is not None else sp.Float(repr(run.final_val), 15)
        answers += [Answer("final_mse" + label, final_t), Answer("final_validation_mse" + label, final_v),
                    Answer("gradient_check" + label, sp.Float(f"{run.check.relative:.3e}", 4))]
        checks.append(f"{written}: compiled gradients against central differences on batch "
                      f"{run.check.batch} ({run.check.entries} entries): largest relative difference "
                      f"{run.check.relative:.2e}")
        if not shown_formulas or shown_for == "identity":   # shown for the first nonlinear one
            shown_formulas, shown_for = displays, name
    checks.append("final MSEs recomputed by a separate forward pass from the registry's activations")
    rows = tuple((display_name(r.written, r.name),
                  "" if r.diverged_at is not None else sci(r.final_train),
                  "" if r.diverged_at is not None else sci(r.final_val), r.diverged_at) for r in runs)
    positive = [v for r in runs for v in r.train + r.val if math.isfinite(v) and 0 < v < DIVERGED]
    lo = 10 ** math.floor(math.log10(min(positive))) if positive else 1e-6
    hi = 10 ** math.ceil(math.log10(max(positive))) if positive else 1.0
    curves = []
    for r in runs:
        pts_t = [(i, v) for i, v in _downsample(r.train, CURVE_POINTS) if math.isfinite(v) and 0 < v < DIVERGED]
        pts_v = [(i, v) for i, v in _downsample(r.val, CURVE_POINTS) if math.isfinite(v) and 0 < v < DIVERGED]
        curves.append((display_name(r.written, r.name), tuple(pts_t), tuple(pts_v)))
    scatter, target_curve, y_range = (), (), (0.0, 1.0)
    if spec.layers[0] == 1 and spec.layers[-1] == 1:
        n = len(data.x_train)
        keep = np.linspace(0, n - 1, min(n, SCATTER_POINTS)).round().astype(int)
        scatter = tuple((float(data.x_train[i, 0]), float(data.y_train[i, 0])) for i in sorted(set(keep.tolist())))
        ys = [y for _, y in scatter] + [y for r in runs for _, y in r.fit]
        if data.clean is not None:
            grid = np.linspace(spec.data.low, spec.data.high, FIT_POINTS)
            target_curve = tuple(zip(grid.tolist(), np.asarray(data.clean(grid), dtype=float).tolist()))
        span = max(ys) - min(ys) or 1.0
        y_range = (min(y for _, y in scatter) - 0.25 * span, max(y for _, y in scatter) + 0.25 * span)
    body = ExperimentBody(spec, tuple(runs), rows, tuple(curves), scatter, target_curve, y_range, (lo, hi),
                          tuple(summary(runs)), len(data.x_train), len(data.x_val), _data_text(spec),
                          _loss_tex(spec.loss),
                          shown_formulas, display_name(next(w for w, n in spec.activations if n == shown_for),
                                                       shown_for), COLOURS)
    return Solution(problem, tuple(answers), body, tuple(checks), verified=True)


def _loss_tex(name: str) -> str:
    entry = LOSSES[name]
    if entry.symbol:   # the registry writes this loss out: ℓ(ŷ, y) = ½‖ŷ − y‖²
        return rf"{entry.symbol}(\hat y, y) = {entry.latex}"
    return rf"{entry.latex}(\hat y, y)"


def _data_text(spec: ExperimentSpec) -> str:
    """How the data were made, in words (LaTeX): the target written as the key writes formulas."""
    from ..assume import Scope
    from ..parse import Namespace, parse_expression
    from ..render import escape, tex
    from .derivative import namespace

    d = spec.data
    if not d.target:
        return rf"the {len(d.rows)} rows of the file ``{escape(d.csv)}''"
    scope = Scope()
    x = scope.symbol(d.var)
    ns = namespace(scope)
    ns = Namespace(symbols={**ns.symbols, d.var: x}, functions=ns.functions, make_symbol=ns.make_symbol)
    expr = parse_expression(d.target, ns)
    text = (rf"{d.samples} samples, ${tex(x)}$ drawn uniformly from $[{d.low_tex}, {d.high_tex}]$ and "
            rf"$y = {tex(expr)}")
    if d.noise:
        return text + rf" + \varepsilon$ with independent noise $\varepsilon \sim \mathcal{{N}}(0, {d.noise:g}^2)$"
    return text + "$ (no noise)"
