"""The last stage: word the feedback, as a teacher writes it in the margin.

:func:`diagnose_scalar` is called for a wrong expression or number and tries, in order:
a name the key does not use; another part's answer (the other limit: "the two limits are
swapped?", or a distinctive value of another label, named in words); "still depends on x";
a global sign error; for numbers, a factor such as 2 or how close a decimal is; for piecewise
answers, the side of the kink that is wrong or the two cases swapped (one sentence); a
constant factor or shift (the same on both sides of every kink, never "plus 0"); the sign of
one term (σ(1 + σ) for σ(1 − σ)); an exponent off by one; else where it differs.

Feedback is a list of text and :class:`~.base.Math` parts, and never shows SymPy syntax or a
registry label: quantities are named in words (:func:`.names.words`).
"""

from __future__ import annotations

import random
import re

import sympy as sp
from sympy.matrices.expressions import MatrixExpr

from ..derive.branches import kink_arguments
from .base import Math, Read
from .names import of_label, words
from .numeric import _close, _num, at_point, sample_points

MAX_CANDIDATES = 40


def _foreign(ctx, got: sp.Basic, expected: sp.Basic) -> list[sp.Symbol]:
    known = set(ctx.symbols.values()) | set(expected.free_symbols)
    return sorted((s for s in got.free_symbols if s not in known), key=lambda s: s.name)


def diagnose_scalar(ctx, label: str, expected, got: Read, differ) -> list:
    """What a teacher would write next to a wrong expression or number."""
    e, g = expected, got.value
    foreign = _foreign(ctx, g, e)
    if foreign:
        names = ", ".join(sp.sstr(s) for s in foreign)
        return [f"uses {names}, which the key's answer does not (it is in terms of "
                + (", ".join(sorted(sp.sstr(s) for s in e.free_symbols)) or "numbers only")
                + ")"]
    sibling = _matching_sibling(ctx, label, g)
    if sibling:
        return [sibling]
    itself = _limit_of_the_function(ctx, label, e, g)
    if itself:
        return itself
    if e.has(sp.oo, -sp.oo) or g.has(sp.oo, -sp.oo):
        return ["the key's answer is ", Math(e)]
    if e.is_number and not g.is_number:
        return ["the key's answer is the number ", Math(e), "; this still depends on "
                + ", ".join(sorted(sp.sstr(s) for s in g.free_symbols))]
    if _is_zero_sum(ctx, label, e + g):
        return ["sign error: this is the negative of the key's answer"]
    if e.is_number and g.is_number:
        return _wrong_number(e, g)
    branches = _branch_feedback(ctx, label, e, g)
    if branches:
        return branches
    ratio = _constant(ctx, label, g / e) if e != 0 else None
    if ratio is not None and ratio not in (0, 1):
        return ["off by a constant factor: this is ", Math(ratio), " times the key's answer"]
    shift = _constant(ctx, label, g - e)
    if shift is not None and shift != 0:
        return ["off by a constant: this is the key's answer plus ", Math(shift)]
    for search in (_sign_of_a_term, _exponent_off_by_one):
        found = search(ctx, label, e, got)
        if found:
            return found
    if differ and differ[0][0]:
        at, ve, vg = differ[0]
        where = ", ".join(f"{sp.sstr(s)} = {sp.sstr(v)}" for s, v in at.items())
        return [f"differs from the key at {where}: the key gives {_short(ve)}, "
                f"this gives {_short(vg)}"]
    return []


# --- numbers -----------------------------------------------------------------------------

_FACTORS = {sp.Integer(2), sp.Rational(1, 2), sp.Integer(4), sp.Rational(1, 4), sp.Integer(10),
            sp.Rational(1, 10)}


def _wrong_number(e, g) -> list:
    if e != 0:
        ratio = sp.nsimplify(g / e) if (g / e).is_Rational or (g / e).is_Float else g / e
        if ratio in _FACTORS or -ratio in _FACTORS:
            return ["off by a factor of ", Math(abs(ratio)) if ratio > 0 else Math(ratio),
                    ": this is ", Math(ratio), " times the key's answer"]
    ve, vg = _num(e), _num(g)
    if ve is not None and vg is not None and ve != 0:
        rel = abs(vg - ve) / abs(ve)
        if rel < 0.05:
            return [f"close, but off by {100 * rel:.2g}% (decimals are accepted within the "
                    "tolerance)"]
    return ["the key's answer is ", Math(e)]


def _short(v) -> str:
    if v is None:
        return "no finite value"
    if abs(v.imag) < 1e-12:
        return f"{v.real:.6g}"
    return f"{v.real:.6g}{v.imag:+.6g}i"


# --- another part's answer ---------------------------------------------------------------


def _matching_sibling(ctx, label: str, g) -> str | None:
    """The value equals another answer of the same problem: the other limit (swapped), or a
    distinctive value of another part (a coincidence of 0, 1 or ∞ is not worth a word)."""
    for other, value in ctx.answers.items():
        if other == label or not isinstance(value, sp.Expr) or isinstance(value, MatrixExpr):
            continue
        if value.has(sp.oo, -sp.oo) != g.has(sp.oo, -sp.oo):
            continue
        try:
            equal = value == g or (value.is_number and g.is_number and _num(value) is not None
                                   and _num(g) is not None and _close(_num(value), _num(g), 1e-12))
        except TypeError:
            equal = False
        if not equal or value == ctx.answers.get(label):
            continue
        if ".limit(" in other and ".limit(" in label and other.split(".limit(")[0] == \
                label.split(".limit(")[0]:
            side = other.split(".limit(")[1].rstrip(")")
            here = label.split(".limit(")[1].rstrip(")")
            return (f"this is the limit at {_side(side)}, not at {_side(here)}: "
                    f"the two limits are swapped?")
        if _distinctive(g):
            return f"this is the key's answer to another part: {label_in_words(ctx, other)}"
    return None


def _distinctive(value) -> bool:
    if value.has(sp.oo, -sp.oo, sp.zoo):
        return False
    if not value.is_number:
        return True
    v = sp.nsimplify(value)
    if v.is_Integer:
        return abs(v) > 10
    if v.is_Rational:
        return v.q > 4
    return True


def label_in_words(ctx, label: str) -> str:
    quantity = of_label(label, ctx.problem)
    if quantity is not None:
        return words(quantity)
    text = label.replace("_", " ").replace("[", " (").replace("]", ")")
    return text.replace("alpha=", "α = ").replace("=", " = ")


def _side(text: str) -> str:
    return {"+oo": "+∞", "-oo": "−∞", "oo": "+∞"}.get(text, text)


# --- the limit of the function, not of its derivative ------------------------------------

FUNCTION_LIMIT_SECONDS = 1.5
_LIMIT_LABEL = re.compile(r"(?P<name>[^/]+)\.limit\((?P<side>[+-]?oo)\)")


def _limit_of_the_function(ctx, label: str, e, g) -> list | None:
    r"""``\infty`` for the limit of SiLU′ at +∞, −α for ELU′ at −∞, 1 for softsign′ at +∞: the
    limit of the function itself, where the question asks for its derivative's."""
    m = _LIMIT_LABEL.fullmatch(label)
    problem = getattr(ctx, "problem", None)
    if m is None or problem is None or problem.kind != "derivative":
        return None
    function = _function_of(ctx, m.group("name"))
    if function is None:
        return None
    f, var, title = function
    side = sp.oo if m.group("side") != "-oo" else -sp.oo
    from ..budget import time_budget
    from ..errors import SolveTimeout

    try:
        with time_budget(f"feedback/{label}", FUNCTION_LIMIT_SECONDS):
            value = sp.limit(_far_branch(ctx, f, var, side), var, side)
            if value.has(sp.oo, -sp.oo, sp.zoo) or g.has(sp.oo, -sp.oo, sp.zoo):
                same = value == g
            else:
                same = not value.has(sp.AccumBounds, sp.Limit) and sp.simplify(value - g) == 0
    except (SolveTimeout, TypeError, ValueError, NotImplementedError, AttributeError,
            ArithmeticError, RecursionError):
        return None
    if not same or value == e:
        return None
    return [f"this is the limit of {title} itself at {_side(m.group('side'))}, not of its "
            "derivative: the key's answer is ", Math(e)]


def _far_branch(ctx, f, var, side):
    """The formula of a piecewise ``f`` (ELU, Huber) that holds far out on ``side``."""
    if not f.has(sp.Piecewise, sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.sign):
        return f
    pw = sp.piecewise_fold(f.rewrite(sp.Piecewise))
    if not isinstance(pw, sp.Piecewise):
        return f
    rng = random.Random("far")
    at = {s: ctx.domain(s).sample(rng) for s in pw.free_symbols if s != var}
    at[var] = sp.Integer(10) ** 9 * (1 if side == sp.oo else -1)
    for value, cond in pw.args:
        if cond.subs(at) == sp.true:
            return value
    return f


def _function_of(ctx, name: str):
    """(the function named ``name`` in the key's derivative problem, its variable, its name in
    words), or None."""
    from ..library import registry

    spec = ctx.problem.spec
    fns = [fn for fn in getattr(spec, "functions", ()) if fn.name == name]
    if not fns:
        return None
    fn = fns[0]
    try:
        var = ctx.scope.symbol(spec.var)
        if fn.entry:
            entry = registry()[fn.entry]
            if entry.vector or entry.arity not in (1, 2):
                return None
            params = {p: ctx.scope.symbol(p) for p in entry.params}
            f = entry.build(var, params) if entry.arity == 1 else \
                entry.build(var, ctx.scope.symbol("y"), params)
            title = entry.title or fn.title or name
        elif fn.expr:
            from ..derive.derivative import _build_inline

            f = _build_inline(fn, ctx.scope, var)
            title = fn.title or name
        else:
            return None
    except Exception:  # noqa: BLE001 - feedback is a courtesy: no function, no sentence
        return None
    if not isinstance(f, sp.Expr):
        return None
    if " " not in title and not any(c.isupper() for c in title[1:]):
        title = title.lower()  # tanh, softsign; SiLU, ELU as written
    return f, var, title


# --- shapes of a wrong expression --------------------------------------------------------


def _is_zero_sum(ctx, label: str, expr) -> bool:
    if expr == 0:
        return True
    points = sample_points(ctx, [expr], random.Random(f"sign/{label}"), 4)
    values = [_num(at_point(expr, p)) for p in points]
    return bool(values) and all(v is not None and abs(v) < 1e-9 for v in values)


def _constant(ctx, label: str, expr) -> sp.Expr | None:
    """The value of ``expr`` if it is the same number at every sample point (on both sides
    of every kink: 𝕀(z < 0) is the ReLU′ plus 1 on one side only)."""
    if not expr.free_symbols:
        try:
            return sp.nsimplify(sp.simplify(expr)) if _num(expr) is not None else None
        except (TypeError, ValueError):
            return None
    points = _both_sides(ctx, label, [expr], 8)
    if points is None:
        return None
    values = [_num(at_point(expr, p)) for p in points]
    if len(values) < 2 or any(v is None for v in values):
        return None
    if all(_close(v, values[0], 1e-9) for v in values):
        v = values[0]
        return sp.nsimplify(round(v.real, 10), rational=True) if abs(v.imag) < 1e-12 else None
    return None


def _kink(exprs) -> sp.Expr | None:
    kinks = [k for e in exprs for k in kink_arguments(e) if k.free_symbols]
    symbols = [k for k in kinks if isinstance(k, sp.Symbol)]
    return (symbols or kinks or [None])[0]


def _both_sides(ctx, label, exprs, count) -> list[dict] | None:
    """Sample points, with some on each side of the first kink when there is one."""
    points = sample_points(ctx, exprs, random.Random(f"const/{label}"), count)
    k0 = _kink(exprs)
    if k0 is None:
        return points
    signs = {(_num(at_point(k0, p)) or 0).real > 0 for p in points}
    return points if len(signs) == 2 else None


def _branch(expr, point):
    """The formula of ``expr`` that applies at ``point`` (a Piecewise's active piece)."""
    expr = sp.piecewise_fold(expr.rewrite(sp.Piecewise))
    if not isinstance(expr, sp.Piecewise):
        return expr
    for value, cond in expr.args:
        try:
            if cond.subs(point) == sp.true:
                return value
        except TypeError:
            return None
    return None


def _branch_feedback(ctx, label: str, e, g) -> list | None:
    """For piecewise answers: the two cases swapped, or the one side of the kink that is wrong."""
    k0 = _kink([e, g])
    if k0 is None:
        return None
    points = sample_points(ctx, [e, g, k0], random.Random(f"branch/{label}"), 16)
    neg = [p for p in points if (_num(at_point(k0, p)) or 0).real < 0]
    pos = [p for p in points if (_num(at_point(k0, p)) or 0).real > 0]
    if not neg or not pos:
        return None

    def right(side):
        values = [(_num(at_point(e, p)), _num(at_point(g, p))) for p in side]
        return all(a is not None and b is not None and _close(a, b, 1e-9) for a, b in values)

    right_neg, right_pos = right(neg), right(pos)
    if right_neg and right_pos:
        return None
    try:
        en, ep, gn, gp = (_branch(e, neg[0]), _branch(e, pos[0]), _branch(g, neg[0]),
                          _branch(g, pos[0]))
    except (TypeError, ValueError, AttributeError):
        return None
    if any(v is None for v in (en, ep, gn, gp)):
        return None
    where_neg, where_pos = _where(k0, "<"), _where(k0, ">")
    if not right_neg and not right_pos:
        if _same(gn, ep) and _same(gp, en):
            return ["the two cases are swapped, so this differs from the key at every point: "
                    "the key's answer is ", Math(en), f" where {where_neg} and ", Math(ep),
                    f" where {where_pos}"]
        return None
    wrong, value, given = (where_neg, en, gn) if not right_neg else (where_pos, ep, gp)
    fine = where_pos if not right_neg else where_neg
    return [f"right where {fine}, but not where {wrong}: there the key's answer is ", Math(value),
            ", not ", Math(given)]


def _where(k0, op: str) -> str:
    from .read import describe

    return f"{describe(k0)} {op} 0"


def _same(a, b) -> bool:
    try:
        return sp.simplify(a - b) == 0
    except (TypeError, ValueError):
        return False


def _to_value(ctx, display):
    """A displayed answer (σ(x) as a function of its own, ŷ as a name) as a value."""
    from ..derive.teacher import PHI_CDF, PHI_PDF, SIGMA

    names = {sp.Symbol(n, real=True): v for n, v in (getattr(ctx, "notation", {}) or {}).items()
             if isinstance(v, sp.Expr) and not isinstance(v, MatrixExpr)}
    display = display.xreplace(names) if names else display
    return display.replace(SIGMA, lambda u: 1 / (1 + sp.exp(-u))).replace(
        PHI_CDF, lambda u: (1 + sp.erf(u / sp.sqrt(2))) / 2).replace(
        PHI_PDF, lambda u: sp.exp(-u ** 2 / 2) / sp.sqrt(2 * sp.pi))


def _agrees(ctx, label: str, e, h) -> bool:
    points = sample_points(ctx, [e, h], random.Random(f"agree/{label}"), 4)
    if not points:
        return False
    for p in points:
        a, b = _num(at_point(e, p)), _num(at_point(h, p))
        if a is None or b is None or not _close(a, b, 1e-9):
            return False
    return True


def _candidates(ctx, got: Read, make):
    """Variants of the student's answer (displayed form) made by ``make`` at each node."""
    shown = got.display if isinstance(got.display, sp.Expr) else got.value
    count = 0
    for node in sp.preorder_traversal(shown):
        for variant in make(node):
            count += 1
            if count > MAX_CANDIDATES:
                return
            try:
                yield node, variant, _to_value(ctx, shown.xreplace({node: variant}))
            except (TypeError, ValueError):
                continue


def _sign_of_a_term(ctx, label: str, e, got: Read) -> list | None:
    """σ(x)(1 + σ(x)) for σ(x)(1 − σ(x)): one term of a sum has the wrong sign."""
    def flips(node):
        if isinstance(node, sp.Add) and len(node.args) <= 6:
            return [node - 2 * t for t in node.args]
        return []

    shown = got.display if isinstance(got.display, sp.Expr) else got.value
    for node, variant, value in _candidates(ctx, got, flips):
        if _agrees(ctx, label, e, value):
            if node == shown and sp.count_ops(node) > LONG_SUM:
                # a long sum: name the term, not the whole answer twice
                term = next((t for t in node.args if node - 2 * t == variant), None)
                if term is not None:
                    return ["sign error in one term: the key's answer has ", Math(-term),
                            " where this has ", Math(term)]
            return ["sign error in one term: the key's answer has ", Math(variant),
                    " where this has ", Math(node)]
    return None


LONG_SUM = 4  # operations: beyond it, a sum is quoted by its wrong term only


def _exponent_off_by_one(ctx, label: str, e, got: Read) -> list | None:
    """(1 − α)^{t+1} for (1 − α)^t: an exponent off by one."""
    def shifts(node):
        if isinstance(node, sp.Pow) and node.exp != -1 and not node.exp.is_Rational or \
                isinstance(node, sp.Pow) and node.exp.is_Integer and abs(node.exp) > 1:
            return [sp.Pow(node.base, node.exp + d) for d in (1, -1)]
        return []

    for node, variant, value in _candidates(ctx, got, shifts):
        if _agrees(ctx, label, e, value):
            return ["an exponent is off by one: the key's answer has ", Math(variant),
                    " where this has ", Math(node)]
    return None


# --- matrix expressions --------------------------------------------------------------------

MAX_TERMS = 8


MATRIX_FEEDBACK_SECONDS = 2.5  # CPU, a safety net: the search is bounded by MAX_COMPARISONS
# each comparison builds both sides at two concrete sizes; a count (fewer for large
# expressions, whose comparisons are slow), so that the feedback does not depend on the machine
MAX_COMPARISONS, MAX_COMPARISONS_LARGE, LARGE_OPS = 16, 4, 40
COUPLED = ("softmax", "logsumexp")


class _Enough(Exception):
    """The search for a specific sentence has made its comparisons."""


def diagnose_matrix_expr(expected, got, same, ctx=None) -> list | None:
    """What a teacher marks on a wrong matrix expression (see :func:`_diagnose_matrix_expr`),
    in the question's names; None when nothing specific is found within its CPU budget."""
    from ..budget import time_budget
    from ..errors import SolveTimeout

    calls = [0]
    try:  # functions (softmax, σ, exp) and entrywise products are slow to build at a size
        large = any(m.atoms(sp.Function) or m.has(sp.HadamardProduct) for m in (expected, got)) \
            or sp.count_ops(expected) + sp.count_ops(got) > LARGE_OPS
    except (TypeError, ValueError, AttributeError):
        large = True
    limit = MAX_COMPARISONS_LARGE if large else MAX_COMPARISONS
    if any(name in str(m) for m in (expected, got) for name in COUPLED):
        return None  # softmax couples every entry: each comparison costs a second or so

    def counted(a, b):
        calls[0] += 1
        if calls[0] > limit:
            raise _Enough
        return same(a, b)
    try:
        with time_budget("feedback", MATRIX_FEEDBACK_SECONDS):
            found = _diagnose_matrix_expr(expected, got, counted)
    except (SolveTimeout, _Enough):
        return None
    if not found or ctx is None:
        return found
    names = _written_names(ctx)
    return [Math(p.value.xreplace(names)) if isinstance(p, Math) and names else p for p in found]


def _written_names(ctx) -> dict:
    """The key's scalar symbols as the question writes them (lam is λ in the notation table)."""
    from .names import canonical_name

    table = getattr(getattr(getattr(ctx, "problem", None), "spec", None), "notation", None)
    pairs = table if isinstance(table, tuple) else ()
    out = {}
    for name, latex in pairs:
        sym = ctx.symbols.get(name)
        written = canonical_name(latex) if isinstance(latex, str) else None
        if isinstance(sym, sp.Symbol) and written and written != name and written.isalpha():
            out[sym] = sp.Symbol(written, **sym.assumptions0)
    return out


def _diagnose_matrix_expr(expected, got, same) -> list | None:
    """A wrong matrix expression of the key's shape, as a teacher would mark it: a term of the
    key's answer missing (``X^T(X\\theta - y)`` for ridge: "also has λθ"), one term too many, or
    a transpose missing (``S^{-1}`` for ``S^{-T}``). ``same(a, b)`` compares two matrix
    expressions at concrete sizes."""
    def terms(m):
        """The terms as written, then expanded (Xᵀ(y − Xθ) is one term, and two)."""
        try:
            expanded = sp.MatAdd.make_args(sp.expand(m))
        except (TypeError, ValueError, AttributeError, NotImplementedError):
            expanded = ()
        written = sp.MatAdd.make_args(m)
        return tuple(dict.fromkeys(written + expanded)) if len(written) > 1 else expanded or written

    def fits(a, b) -> bool:
        try:
            return same(a, b)
        except (TypeError, ValueError, AttributeError, NotImplementedError, sp.ShapeError):
            return False

    key_terms, got_terms = terms(expected), terms(got)
    if 1 < len(key_terms) <= MAX_TERMS:
        for t in key_terms:
            if getattr(t, "shape", None) == expected.shape and fits(expected - t, got):
                return ["a term is missing: the key's answer also has ", Math(t)]
    if 1 < len(got_terms) <= MAX_TERMS:
        for t in got_terms:
            if getattr(t, "shape", None) == expected.shape and fits(got - t, expected):
                return ["one term too many: the key's answer has no ", Math(t)]
    if 1 < len(got_terms) <= MAX_TERMS:
        for u in got_terms:
            if getattr(u, "shape", None) == expected.shape and fits(got - 2 * u, expected):
                return ["sign error in one term: the key's answer has ", Math(-u),
                        " where this has ", Math(u)]
    if 1 < len(key_terms) <= MAX_TERMS:
        for t in key_terms:
            if getattr(t, "shape", None) != expected.shape:
                continue
            for c in (-1, 2, sp.Rational(1, 2)):
                if fits(expected + (c - 1) * t, got):
                    if c == -1:
                        return ["sign error in one term: the key's answer has ", Math(t),
                                " where this has ", Math(-t)]
                    return ["one term is off by a factor of ", Math(c), ": the key's answer has ",
                            Math(t), " where this has ", Math(c * t)]
    for M in sorted(got.atoms(sp.MatrixSymbol), key=lambda m: m.name):
        if M.shape[0] != M.shape[1] and 1 in M.shape:
            continue  # a vector transposed changes the shape: already said
        try:
            flipped = got.xreplace({M: M.T})
        except (TypeError, ValueError, sp.ShapeError):
            continue
        if fits(expected, flipped):
            return ["a transpose is missing: the key's answer has ", Math(M.T), " where this has ",
                    Math(M)]
    return None
