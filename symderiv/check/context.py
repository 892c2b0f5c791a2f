"""What a student's answer to one problem may mention: the key's names, domains and functions."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions import MatrixExpr

from ..assume import Domain, Scope, parse_assumption
from ..parse import Namespace
from .latex import Vocabulary
from .notation import publish
from .read import Reader


def _functions() -> dict[str, tuple]:
    """Lower-case names → (value builder, display builder), for LaTeX and plain math."""
    from ..derive.teacher import PHI_CDF, PHI_PDF, SIGMA
    from ..library import registry

    def sigmoid(u):
        return registry()["sigmoid"].build(u, {})

    same = {name: (fn, fn) for name, fn in {
        "exp": sp.exp, "log": sp.log, "ln": sp.log, "sin": sp.sin, "cos": sp.cos,
        "tan": sp.tan, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "erf": sp.erf,
        "sgn": sp.sign, "sign": sp.sign, "max": sp.Max, "min": sp.Min,
        "relu": lambda u: sp.Max(0, u), "softplus": lambda u: sp.log(1 + sp.exp(u)),
        "abs": sp.Abs, "sqrt": sp.sqrt, "sech": sp.sech, "csch": sp.csch, "coth": sp.coth,
        "sec": sp.sec, "csc": sp.csc, "cot": sp.cot,
    }.items()}
    same.update({
        "sigma": (sigmoid, SIGMA), "sigmoid": (sigmoid, SIGMA), "logistic": (sigmoid, SIGMA),
        "Phi": (lambda u: (1 + sp.erf(u / sp.sqrt(2))) / 2, PHI_CDF),
        "phi": (lambda u: sp.exp(-u ** 2 / 2) / sp.sqrt(2 * sp.pi), PHI_PDF),
        "varphi": (lambda u: sp.exp(-u ** 2 / 2) / sp.sqrt(2 * sp.pi), PHI_PDF),
    })
    return same


@dataclass
class Context:
    """One problem of the key, seen from the answers: names, domains, how to read."""

    problem: Any
    answers: dict[str, Any]
    scope: Scope
    symbols: dict[str, sp.Basic]
    reader: Reader
    notation: dict[str, Any] = dataclasses.field(default_factory=dict)  # the statement's names
    # a symbolic network: each name's definition in the sample and the parameters, put in on
    # both sides before comparing; and the statement's names → the key's (z3 → z2 with the
    # DS-GA numbering), for reading a left-hand side
    expansions: dict = dataclasses.field(default_factory=dict)
    renames: dict[str, str] = dataclasses.field(default_factory=dict)

    def domain(self, sym: sp.Symbol) -> Domain:
        if sym.name in self.scope.domains:
            return self.scope.domains[sym.name]
        return _domain_from_assumptions(sym)


def _domain_from_assumptions(sym: sp.Symbol) -> Domain:
    integer = bool(sym.is_integer)
    if sym.is_positive:
        return Domain(sym.name, lower=sp.Integer(0), integer=integer)
    if sym.is_nonnegative:
        return Domain(sym.name, lower=sp.Integer(0), lower_open=False, integer=integer)
    if sym.is_negative:
        return Domain(sym.name, upper=sp.Integer(0), integer=integer)
    return Domain(sym.name, integer=integer)


def _atoms(value: Any) -> tuple[set, set]:
    """(symbols, undefined function names) of an answer value of any shape."""
    if isinstance(value, (list, tuple)):
        syms, funcs = set(), set()
        for v in value:
            s, f = _atoms(v)
            syms |= s
            funcs |= f
        return syms, funcs
    if not isinstance(value, sp.Basic):
        return set(), set()
    syms = set(value.free_symbols)
    if isinstance(value, MatrixExpr):
        syms |= value.atoms(sp.MatrixSymbol)
    funcs = {str(a.func) for a in value.atoms(AppliedUndef)}
    return syms, funcs


def _aliases(name: str) -> set[str]:
    """Ways a student may write a key's name: ``f_0``/``f0``, ``w11``/``w_11``, ``fbar``."""
    out = {name, name.replace("_", "")}
    m = re.fullmatch(r"([A-Za-z]+)(\d+)", name)
    if m:
        out.add(f"{m.group(1)}_{m.group(2)}")
    return out


def _matrix_functions(matrix: dict, functions: dict) -> None:
    """In a matrix problem, σ(u_o^T v_c), \\operatorname{softmax}(U^T v_c), \\operatorname{diag}(s)
    are the matrix namespace's functions (σ entry by entry, or of a 1 × 1 product as a number),
    in LaTeX as in plain text."""
    for name, fn in matrix.items():
        if len(name) > 1 and name.isalpha() and name.lower() not in functions:
            functions[name.lower()] = (fn, fn)
    if "sigmoid" in matrix:   # (the statement's own σ, hidden_fn = "\sigma", is set after this)
        for name in ("sigma", "logistic"):
            functions[name] = (matrix["sigmoid"], matrix["sigmoid"])


def _statement_functions(problem, scope, functions: dict) -> None:
    """The functions a derivative question differentiates, by their names: SiLU′ written
    σ(x) + \\mathrm{SiLU}(x)(1 − σ(x)), ELU′ as \\mathrm{ELU}(x) + α, swish′ through
    \\mathrm{swish}_\\beta(x), \\mathrm{Huber}_\\delta(x, y) (i13-general: additive). A name the
    reader already knows (tanh, σ) keeps its meaning."""
    from ..library import registry

    spec = problem.spec
    known = registry()
    for fn in getattr(spec, "functions", ()):
        try:
            var = scope.symbol(spec.var)
            entry = known[fn.entry] if fn.entry else None
            if entry is not None:
                if entry.vector or entry.arity not in (1, 2):
                    continue
                params = {p: scope.symbol(p) for p in entry.params}
                y = scope.symbol("y")
                f = entry.build(var, params) if entry.arity == 1 else entry.build(var, y, params)
                names = {fn.name, entry.name}
            elif fn.expr:
                from ..derive.derivative import _build_inline

                f, y, names = _build_inline(fn, scope, var), None, {fn.name}
            else:
                continue
        except Exception:  # noqa: BLE001 - a name the reader cannot build is simply not known
            continue

        def build(*args, _f=f, _var=var, _y=y):
            if len(args) == 1:
                return _f.subs(_var, args[0])
            if len(args) == 2 and _y is not None:
                return _f.subs({_var: args[0], _y: args[1]}, simultaneous=True)
            raise ValueError("wrong number of arguments")
        for name in names:
            word = name.lower().replace("_", "")
            if word.isalpha() and len(word) > 2 and word not in functions:
                functions[word] = (build, build)


IDENTITY = sp.Symbol("I_identity", commutative=True)


def _sized(value, other, side: int):
    """``value`` with the identity marker made the identity matrix that fits ``other``."""
    if not isinstance(value, sp.Expr) or isinstance(value, MatrixExpr) or not value.has(IDENTITY):
        return value
    if not isinstance(other, MatrixExpr):
        return value
    coeff, rest = sp.diff(value, IDENTITY), value.subs(IDENTITY, 0)
    if coeff.has(IDENTITY) or rest != 0:
        return value
    return coeff * sp.Identity(other.shape[side])


def _with_identity(ns, alias: dict):
    """In a matrix problem that has no name I, ``I`` is the identity matrix of the size its
    neighbour needs: ``(X^T X + \\lambda I)\\theta`` (i13-general: additive)."""
    alias["I"] = IDENTITY
    add, matmul = ns.add, ns.matmul

    def add_sized(a, b):
        return add(_sized(a, b, 0), _sized(b, a, 0))

    def matmul_sized(a, b):
        return matmul(_sized(a, b, 0), _sized(b, a, 1))

    return dataclasses.replace(ns, symbols={**ns.symbols, "I": IDENTITY}, add=add_sized,
                               matmul=matmul_sized)


# --- 𝟏, the vector of ones of the size its product needs -------------------------------------

ONES_SIZE = "ones_size"  # the name of a dimension of 𝟏 not decided yet


def ones_marker():
    """``\\mathbf{1}`` as a student writes it: a column of ones whose length is decided by the
    product or sum it sits in (``\\mathbf{1}^\\top e^{x}``: the length of x)."""
    return sp.OneMatrix(sp.Dummy(ONES_SIZE, integer=True, positive=True), 1)


def free_sizes(value) -> set:
    """The dimensions of 𝟏 in ``value`` that nothing has decided."""
    if not isinstance(value, sp.Basic):
        return set()
    return {d for d in value.atoms(sp.Dummy) if _free(d)}


def _free(d) -> bool:
    return isinstance(d, sp.Dummy) and d.name == ONES_SIZE


def _shape(e):
    return e.shape if isinstance(e, MatrixExpr) else None


def _unified(a, b, pairs):
    """``a`` and ``b`` with every undecided dimension of 𝟏 in ``pairs`` (dimension of a,
    dimension of b) made the other side's."""
    table: dict = {}
    for da, db in pairs:
        # shapes' dimensions: ints or SymPy expressions, never text
        da, db = sp.sympify(da, strict=True).xreplace(table), sp.sympify(db, strict=True).xreplace(table)
        if da == db:
            continue
        if _free(da):
            table[da] = db
        elif _free(db):
            table[db] = da
    if not table:
        return a, b
    return a.xreplace(table), b.xreplace(table)


def _bare_ones(e) -> bool:
    """𝟏, 𝟏ᵀ or a number times one of them, its size undecided."""
    if not isinstance(e, MatrixExpr) or not free_sizes(e):
        return False
    ones = e.atoms(sp.OneMatrix)
    return len(ones) == 1 and not e.atoms(sp.MatrixSymbol) and \
        not (e.atoms(MatrixExpr) - ones - {e} - set(e.atoms(sp.MatMul, sp.MatAdd)))


def _entrywise_pair(a, b):
    """For a sum or an entrywise product: 𝟏 next to a vector or matrix is the ones of its
    shape (𝟏 − Y is the matrix of ones minus Y); other undecided sizes take the other side's."""
    sa, sb = _shape(a), _shape(b)
    if sa is None or sb is None or sa == (1, 1) or sb == (1, 1):
        return a, b
    if _bare_ones(a) and not _bare_ones(b):
        a = a.xreplace({next(iter(a.atoms(sp.OneMatrix))): sp.OneMatrix(*sb)})
    elif _bare_ones(b) and not _bare_ones(a):
        b = b.xreplace({next(iter(b.atoms(sp.OneMatrix))): sp.OneMatrix(*sa)})
    else:
        a, b = _unified(a, b, list(zip(sa, sb)))
    return a, b


def _with_ones(ns):
    """The matrix namespace with 𝟏 (:func:`ones_marker`) sized by its neighbours: in a product
    by the inner dimension (𝟏ᵀv, A𝟏, A𝟏𝟏ᵀ), in a sum or entrywise product by the other side's
    shape. What stays undecided is refused when the answer has been read."""
    add, matmul, hadamard, divide = ns.add, ns.matmul, ns.hadamard, ns.divide

    def matmul_sized(a, b):
        sa, sb = _shape(a), _shape(b)
        if sa is not None and sb is not None and sa != (1, 1) and sb != (1, 1):
            a, b = _unified(a, b, [(sa[1], sb[0])])
        return matmul(a, b)

    def entrywise(op):
        def call(a, b):
            return op(*_entrywise_pair(a, b))
        return call

    functions = dict(ns.functions)
    if "hadamard" in functions:
        functions["hadamard"] = entrywise(functions["hadamard"])
    return dataclasses.replace(
        ns, matmul=matmul_sized, functions=functions,
        add=None if add is None else entrywise(add),
        hadamard=None if hadamard is None else entrywise(hadamard),
        divide=None if divide is None else entrywise(divide))


def _entrywise_step(ns):
    """The matrix namespace with ``Heaviside`` (the reader's 𝟙[M > 0]) entry by entry on a
    vector or matrix, as the key writes its ReLU masks (0 at 0)."""
    from ..derive.matrix import Elementwise

    scalar = ns.functions.get("Heaviside")

    def step(*args):
        if len(args) == 1 and isinstance(args[0], MatrixExpr) and args[0].shape != (1, 1):
            return Elementwise("step", args[0])
        if scalar is None:
            raise ValueError("Heaviside takes a number")
        return scalar(*args)
    return dataclasses.replace(ns, functions={**ns.functions, "Heaviside": step})


# key symbols shortened from a Greek letter's name (Python reserves ``lambda``)
_GREEK_SHORT = {"lam": ("lambda", "lamda"), "lmbda": ("lambda", "lamda"), "lamda": ("lambda",),
                "eps": ("epsilon", "varepsilon")}


def _notation_aliases(problem, alias: dict) -> dict:
    """A key's symbol is answered by the name the question writes for it: the problem's
    ``notation`` table (``lam = "\\lambda"``: λ is lam, ``vc = "\\boldsymbol{v}_c"``), and a
    Greek letter's name the symbol shortens (lam ↔ lambda, lamda; i13-general: additive)."""
    from .names import canonical_name

    added: dict = {}
    table = getattr(getattr(problem, "spec", None), "notation", None)
    pairs = table if isinstance(table, tuple) else tuple(table.items()) if isinstance(table, dict) else ()
    for name, latex in pairs:
        if name == "function" or name not in alias or not isinstance(latex, str):
            continue
        written = canonical_name(latex)
        if written and written not in alias:
            added[written] = alias[written] = alias[name]
    for short, names in _GREEK_SHORT.items():
        if short in alias:
            for written in names:
                if written not in alias:
                    added[written] = alias[written] = alias[short]
    return added


def build_context(problem, solution, earlier: tuple = ()) -> Context:
    """``earlier``: the problems before this one in its file (a part "for the same loss"
    shares their statements' names, see notation.same_function)."""
    answers = {a.label: a.value for a in solution.answers}
    symbols: dict[str, sp.Basic] = {}
    applied: set[str] = set()
    for value in answers.values():
        syms, funcs = _atoms(value)
        applied |= funcs
        for s in syms:
            symbols.setdefault(s.name, s)
    domains = {}
    for name, text in problem.assume.items():
        domains[name] = parse_assumption(name, text)
    scope = Scope(domains)
    for name, sym in symbols.items():
        if isinstance(sym, sp.Symbol) and name not in scope.domains:
            scope.domains[name] = _domain_from_assumptions(sym)
            scope.symbols[name] = sym
    # the key's symbol objects win over fresh ones of the same name
    scope.symbols.update({n: s for n, s in symbols.items() if isinstance(s, sp.Symbol)})

    alias: dict[str, sp.Basic] = {}
    for name, sym in list(symbols.items()) + list(scope.symbols.items()):
        for a in _aliases(name):
            alias.setdefault(a, sym)
    fresh: dict[str, sp.Symbol] = {}

    def known(name: str) -> bool:
        return name in alias or name.replace("_", "") in alias

    def resolve(name: str) -> sp.Basic:
        if name in alias:
            return alias[name]
        if name.replace("_", "") in alias:
            return alias[name.replace("_", "")]
        return fresh.setdefault(name, sp.Symbol(name, real=True))

    functions = _functions()
    ops = None
    expansions: dict = {}
    renames: dict[str, str] = {}
    is_matrix = lambda e: False  # noqa: E731
    if problem.kind == "mlp" and not problem.spec.numeric:
        # a symbolic network's formulas are matrix expressions over x, W1, z1, dL_dz1 …
        from ..derive.netexpr import namespace as network_namespace

        from . import network

        base = network_namespace(problem.spec.layers, problem.spec.output_of_hidden)
        for name, sym in base.symbols.items():
            symbols.setdefault(name, sym)
            alias.setdefault(name, sym)
        # the statement's names for the network's quantities win over the key's plain names
        # (z_2 is the hidden output with the DS-GA numbering, a_2 with CS189's)
        renames = network.statement_names(problem.spec)
        for said, plain in renames.items():
            if plain in base.symbols:
                for a in _aliases(said):
                    alias[a] = base.symbols[plain]
        width = str(problem.spec.layers[-1])
        for a in (f"I_{width}", f"I{width}", f"I_{{{width}}}"):
            alias.setdefault(a, base.symbols["I"])
        expansions = network.expansions(problem.spec, base.symbols)
        for name, value in network.jacobian_names(answers, renames).items():
            alias.setdefault(name, value)
        for name, value in network.activation_jacobians(problem.spec, base.symbols,
                                                        renames).items():
            alias.setdefault(name, value)
        base = network.namespace(problem.spec, base)
        ns = display_ns = dataclasses.replace(
            base, symbols={**base.symbols, **alias}, make_symbol=resolve)
        ops = ns
        is_matrix = lambda e: isinstance(e, (MatrixExpr, sp.MatrixBase))  # noqa: E731
    elif problem.kind == "matrix_gradient":
        from ..derive.matrix import namespace as matrix_namespace

        ns = _entrywise_step(matrix_namespace(problem.spec))
        for name, sym in ns.symbols.items():
            symbols.setdefault(name, sym)
            alias.setdefault(name, sym)
        ops = ns
        display_ns = ns
        is_matrix = lambda e: isinstance(e, (MatrixExpr, sp.MatrixBase))  # noqa: E731
    else:
        from ..derive.derivative import namespace as derivative_namespace

        # elementary functions and the registry's activations, as in problem files
        plain_functions = dict(derivative_namespace(scope).functions)
        for name, (value_of, _) in functions.items():
            plain_functions.setdefault(name, value_of)
        for name in applied:
            plain_functions[name] = sp.Function(name)
        ns = Namespace(symbols=dict(alias), functions=plain_functions, make_symbol=resolve)
        shown = dict(plain_functions)
        shown.update({name: display_of for name, (_, display_of) in functions.items()
                      if name in {"sigma", "sigmoid", "logistic", "Phi", "phi", "varphi"}})
        display_ns = Namespace(symbols=dict(alias), functions=shown, make_symbol=resolve)
    if ops is not None:
        # a matrix problem's functions apply entry by entry to vectors (relu(W1 x + b1)); the
        # statement's σ is the hidden activation when its notation says so
        for name, fn in ns.functions.items():
            if name.lower() in functions or name in functions:
                functions[name.lower()] = (fn, fn)
        _matrix_functions(ns.functions, functions)
        if problem.kind == "mlp":
            # diag, hadamard, Heaviside, f and g, relu_prime … as in plain text
            for name, fn in ns.functions.items():
                functions.setdefault(name.lower(), (fn, fn))
            applied |= {n for n in ("f", "g") if n in ns.functions}
        spec = problem.spec
        hidden_fn = getattr(getattr(spec, "notation", None), "hidden_fn", "")
        hidden = getattr(spec, "hidden", None)
        if hidden_fn.strip() == r"\sigma" and isinstance(hidden, str) and hidden in ns.functions:
            functions["sigma"] = (ns.functions[hidden], ns.functions[hidden])
        if "relu" in ns.functions and "max" in functions:
            scalar_max = functions["max"][0]

            def max_of(*args, _relu=ns.functions["relu"], _max=scalar_max):
                # max(0, W1 x + b1): ReLU entry by entry
                if len(args) == 2 and 0 in args and any(is_matrix(a) for a in args):
                    return _relu(args[1] if args[0] == 0 else args[0])
                return _max(*args)
            functions["max"] = (max_of, max_of)
    if problem.kind == "derivative":
        _statement_functions(problem, scope, functions)
    if problem.kind == "matrix_gradient" and "I" not in alias:
        ns = display_ns = ops = _with_identity(ns, alias)
    if ops is not None:
        ns = display_ns = ops = _with_ones(ns)
    for written, sym in _notation_aliases(problem, alias).items():
        for namespace in (ns, display_ns):
            namespace.symbols.setdefault(written, sym)
    for name in applied:
        functions.setdefault(name, (sp.Function(name), sp.Function(name)))
    default = None
    if problem.kind == "derivative" and isinstance(getattr(problem.spec, "var", None), str):
        default = resolve(problem.spec.var)
    vocab = Vocabulary(functions=functions, resolve_symbol=resolve, known=known,
                       applied=frozenset(applied), matrix=is_matrix, ops=ops,
                       default_argument=default, ones=ones_marker if ops is not None else None)
    reader = Reader(vocab, ns, display_ns)
    taken = set(symbols) | {a for n in symbols for a in _aliases(n)}
    shown_as: dict[str, sp.Basic] = {}
    object.__setattr__(vocab, "shown", shown_as.get)

    def define(name: str, value) -> None:
        # a name of the statement's notation: read as its value wherever the student uses it,
        # shown as the name (in scalar problems; a matrix expression is shown as its value)
        scalar = isinstance(value, sp.Expr) and not isinstance(value, MatrixExpr)
        for a in _aliases(name):
            if a not in taken:
                alias[a] = value
                if scalar:
                    shown_as[a] = sp.Symbol(name, real=True)
                for namespace in {id(ns): ns, id(display_ns): display_ns}.values():
                    namespace.symbols[a] = value
                if scalar and display_ns is not ns:
                    display_ns.symbols[a] = sp.Symbol(name, real=True)

    raw_nodes = _graph_definitions(problem, ns)
    notation = publish(problem, solution, reader.expr,
                       lambda n: n in taken or n.replace("_", "") in taken, define, symbols,
                       tuple(earlier))
    for name, value in _graph_gradients(problem, raw_nodes).items():
        if name not in taken:
            define(name, value)
            notation[name] = value
    return Context(problem, answers, scope, symbols, reader, notation, expansions, renames)


def _graph_definitions(problem, ns) -> dict[str, sp.Expr]:
    """A computation graph's nodes, each in terms of the nodes before it (as symbols)."""
    if problem.kind != "graph":
        return {}
    from ..errors import BadInput
    from ..parse import parse_expression

    names = [name for name, _ in problem.spec.nodes]
    local = Namespace(symbols={k: v for k, v in ns.symbols.items() if k not in names},
                      functions=ns.functions, make_symbol=lambda n: sp.Symbol(n, real=True))
    out: dict[str, sp.Expr] = {}
    for name, text in problem.spec.nodes:
        try:
            out[name] = parse_expression(text, local)
        except BadInput:
            return {}
    return out


def _graph_gradients(problem, nodes: dict[str, sp.Expr]) -> dict[str, sp.Expr]:
    """∂out/∂v for every node v of a computation graph, in the inputs: ``dL_da4`` for
    ∂MSE/∂a₄ written as a factor (the sum over the paths from v to the output)."""
    if not nodes:
        return {}
    output = problem.spec.output
    symbol = {n: sp.Symbol(n, real=True) for n in nodes}

    def through(keep: str | None) -> sp.Expr:
        expr = symbol[output] if output != keep else symbol[keep]
        for _ in range(len(nodes) + 1):
            table = {symbol[n]: d for n, d in nodes.items() if n != keep}
            new = expr.xreplace(table)
            if new == expr:
                break
            expr = new
        return expr

    full = {}
    for n in nodes:
        e = symbol[n]
        for _ in range(len(nodes) + 1):
            new = e.xreplace({symbol[m]: d for m, d in nodes.items()})
            if new == e:
                break
            e = new
        full[n] = e
    out: dict[str, sp.Expr] = {}
    for n in nodes:
        if n == output:
            continue
        try:
            d = sp.diff(through(n), symbol[n]).xreplace({symbol[n]: full[n]})
        except (TypeError, ValueError, NotImplementedError):
            continue
        # the derivative at a kink is the left one (ReLU′(0) = 0), as in the key
        out[f"dL_d{n}"] = d.replace(sp.Heaviside, lambda a, *rest: sp.Heaviside(a, 0))
    return out
