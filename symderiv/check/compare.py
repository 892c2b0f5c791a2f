"""Is a student's answer the key's answer? Symbolically, then numerically; and if not, why not.

Each comparison returns an :class:`Outcome`: the verdict, what the student's answer was read
as (for showing back, never the raw string), and feedback as a tuple of text and math parts
(:class:`Math`) so that the console, JSON and LaTeX each print it in their own way.

Rules (documented in docs/checking.md):

* expressions are equal when SymPy simplifies the difference to 0 under the problem's
  assumptions, or when they agree to 1e-9 (relative) at 8 random points of the domain that
  are away from every kink (as WeBWorK does);
* a number written with decimals is accepted within a relative tolerance (``rtol``, 1e-3 by
  default) of the key's exact value; exact numbers must be exact;
* matrices are compared entry by entry; a vector written as a column where the key has a row
  (or the other way round) is accepted with a note; sets and conditions are compared as sets
  of the variable's values inside its domain; an equation is accepted up to a non-zero factor.
"""

from __future__ import annotations

import dataclasses
import math
import random
import re
from typing import Any

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions import MatrixExpr

from .. import memo
from ..budget import time_budget
from ..errors import SolveTimeout
from .context import Context
from .base import Feedback, Math, Outcome, Read, Unreadable  # noqa: F401 (re-exported)
from .chain import grade_chain, last_after
from .feedback import diagnose_matrix_expr, diagnose_scalar
from .indexed import compare_entries, has_entry_indices, read_general, substitute_components
from .names import statement_words
from .network import entry_of, expand, gradient_shape_note, names_itself, squares_are_lengths
from .numeric import POINTS, REL_TOL, _close, _num, at_point, sample_points  # noqa: F401
from .relations import shape_member
from .read import read_shape

DECIMAL_RTOL = 1e-3
SIMPLIFY_SECONDS = 3.0


# --- scalars -------------------------------------------------------------------------------


def _symbolic_zero(diff: sp.Expr, label: str) -> bool:
    try:
        with time_budget(label, SIMPLIFY_SECONDS):
            if diff == 0:
                return True
            simple = sp.simplify(diff)
            return simple == 0 or sp.simplify(sp.expand(sp.piecewise_fold(simple))) == 0
    except (SolveTimeout, TypeError, ValueError, NotImplementedError, RecursionError):
        return False


def same_scalar(ctx: Context, label: str, expected: sp.Expr, got: Read,
                rtol: float) -> tuple[bool, str, list]:
    """(equal?, how it was decided, [(point, expected value, got value)] where they differ)."""
    e, g = expected, got.value
    if not isinstance(g, sp.Expr) or isinstance(g, (MatrixExpr, sp.MatrixBase)):
        return False, "exact", []
    if e.has(sp.oo, -sp.oo, sp.zoo) or g.has(sp.oo, -sp.oo, sp.zoo):
        return e == g, "exact", []
    tol = rtol if got.decimals else REL_TOL
    if e.is_number and g.is_number:
        ve, vg = _num(e), _num(g)
        if ve is None or vg is None:
            return e == g, "exact", []
        if not got.decimals and _symbolic_zero(e - g, label):
            return True, "exact", []
        ok = _close(ve, vg, tol if got.decimals else 1e-12)
        return ok, ("to the digits given" if got.decimals else "exact"), \
            ([] if ok else [({}, ve, vg)])
    rng = random.Random(f"check/{label}")
    points = sample_points(ctx, [e, g], rng)
    differ = []
    checked = 0
    for at in points:
        ve, vg = _num(at_point(e, at)), _num(at_point(g, at))
        if ve is None:
            continue
        checked += 1
        if vg is None or not _close(ve, vg, tol):
            differ.append((at, ve, vg))
    # two finite values that differ at a point settle it: no simplification of a wrong
    # answer (seconds for a skip-path graph's); an answer with no value where the key has
    # one may still be the key's expression in another form, which SymPy decides
    if differ and all(vg is not None for _, _, vg in differ):
        return False, "numeric", differ
    if not got.decimals and _symbolic_zero(e - g, label):
        return True, "symbolic", []
    if checked == 0:
        return False, "numeric", [({}, None, None)]
    return not differ, "numeric", differ


def compare_scalar(ctx: Context, label: str, expected, got: Read, rtol: float) -> Outcome:
    if isinstance(got.value, MatrixExpr) and getattr(ctx, "expansions", None):
        # ŷ − y for the key's ŷ_j − y_j: a vector answer read entry by entry
        entry = entry_of(ctx, got.value)
        if entry is not None:
            got = Read(entry, entry, got.decimals)
    if isinstance(got.value, sp.MatrixBase):
        if got.value.shape == (1, 1):
            got = Read(got.value[0, 0], got.display[0, 0] if isinstance(
                got.display, sp.MatrixBase) else got.display, got.decimals)
        else:
            return Outcome("incorrect", got.display,
                           (f"a {_shape(got.value)} matrix, but the key's answer is a single "
                            "expression",))
    if not isinstance(got.value, sp.Expr) or isinstance(got.value, MatrixExpr):
        return Outcome("incorrect", got.display, ("not an expression like the key's",))
    ok, how, differ = same_scalar(ctx, label, expected, got, rtol)
    if ok:
        note = ("rounded: the exact value is ", Math(expected)) \
            if how == "to the digits given" and _num(expected) != _num(got.value) else ()
        return Outcome("correct", got.display, note, how)
    return Outcome("incorrect", got.display,
                   tuple(diagnose_scalar(ctx, label, expected, got, differ)), how)


# --- matrices ----------------------------------------------------------------------------


def _shape(m) -> str:
    return f"{m.shape[0]}×{m.shape[1]}"


def compare_matrix(ctx: Context, label: str, expected: sp.Matrix, got: sp.Matrix,
                   display, decimals, rtol: float) -> Outcome:
    notes: list = []
    if expected.shape != got.shape:
        if expected.shape == got.shape[::-1]:
            flipped = compare_matrix(ctx, label, expected, got.T, display.T,
                                     [list(c) for c in zip(*decimals)], rtol)
            if flipped.verdict == "correct":
                if 1 in expected.shape:
                    kind = "row" if expected.shape[0] == 1 else "column"
                    return Outcome("correct", display,
                                   (f"same entries, written as a {'column' if kind == 'row' else 'row'}"
                                    f"; the key writes a {kind} ({_shape(expected)})",),
                                   flipped.method)
                return Outcome("incorrect", display,
                               ("this is the transpose of the key's answer (shape ",
                                _shape(expected), ")"))
        return Outcome("incorrect", display,
                       (f"shape {_shape(got)}, but the key's answer is {_shape(expected)}",))
    wrong = []
    how = "exact"
    for i in range(expected.rows):
        for j in range(expected.cols):
            cell = Read(got[i, j], display[i, j], decimals[i][j])
            ok, method, _ = same_scalar(ctx, f"{label}[{i},{j}]", expected[i, j], cell, rtol)
            if method != "exact":
                how = method
            if not ok:
                wrong.append((i, j))
    if not wrong:
        return Outcome("correct", display, tuple(notes), how)
    if expected.rows == expected.cols and all(
            same_scalar(ctx, label, expected[j, i], Read(got[i, j], got[i, j], decimals[i][j]),
                        rtol)[0] for i in range(got.rows) for j in range(got.cols)):
        return Outcome("incorrect", display, ("this is the transpose of the key's answer",))
    if all(same_scalar(ctx, label, -expected[i, j], Read(got[i, j], got[i, j], decimals[i][j]),
                       rtol)[0] for i, j in wrong):
        nonzero = {(i, j) for i in range(expected.rows) for j in range(expected.cols)
                   if expected[i, j] != 0}
        if set(wrong) == nonzero and len(nonzero) > 1:
            return Outcome("incorrect", display, ("sign error: every entry has the wrong sign",))
        where = ", ".join(f"({i + 1},{j + 1})" for i, j in wrong)
        return Outcome("incorrect", display, (f"sign error in {where}",))
    parts: list = []
    word = "entry" if len(wrong) == 1 else "entries"
    parts.append(f"{len(wrong)} of {expected.rows * expected.cols} {word} wrong: ")
    shown = 4
    for k, (i, j) in enumerate(wrong[:shown]):
        if k:
            parts.append("; ")
        if len(sp.sstr(expected[i, j])) <= 40:
            parts.extend([f"({i + 1},{j + 1}) should be ", Math(expected[i, j]), ", not ",
                          Math(display[i, j])])
        else:
            parts.extend([f"({i + 1},{j + 1}) is ", Math(display[i, j])])
    if len(wrong) > shown:
        parts.append(f"; and {len(wrong) - shown} more")
    return Outcome("incorrect", display, tuple(parts), how)


def compare_matrix_expr(ctx: Context, label: str, expected, got: Read) -> Outcome:
    """Matrix expressions: compared entry by entry at concrete sizes with random matrices.

    In a symbolic network every name on both sides is first replaced by its definition (the
    student's ``\\hat y - y`` and the key's ``dL_dyhat`` are the same vector); a number where
    the key's answer is the loss (1 × 1) is that 1 × 1 matrix; a vector (or a number) where the
    key's answer is a diagonal Jacobian ∂h/∂z is read as its diagonal, as a grader reads
    "∂ŷ/∂z₃ = σ(z₃)(1 − σ(z₃))"."""
    g = got.value
    notes: tuple = ()
    if getattr(ctx, "expansions", None):
        expected, g = expand(ctx, expected), expand(ctx, g)
        if isinstance(g, sp.Expr) and not isinstance(g, (MatrixExpr, sp.MatrixBase)) \
                and expected.shape == (1, 1):
            g = sp.ImmutableMatrix([[g]])
        diagonal = _diagonal_reading(expected, g, label)
        if diagonal is not None:
            g, notes = diagonal
        got = Read(g, got.display, got.decimals)
    if not isinstance(g, (MatrixExpr, sp.MatrixBase)):
        return Outcome("incorrect", got.display,
                       ("a scalar, but the key's answer is a matrix of shape ",
                        Math(sp.Symbol(f"{sp.sstr(expected.shape[0])}×{sp.sstr(expected.shape[1])}")),))
    if g.shape != expected.shape and expected.shape == (1, 1) and g.shape[1] == 1 \
            and getattr(ctx, "expansions", None):
        # −y log ŷ − (1 − y) log(1 − ŷ) for the loss: the loss of each output, summed
        total = sp.MatMul(sp.OneMatrix(1, g.shape[0]), g)
        if _same_matrix_expr(expected, total, label):
            return Outcome("correct", got.display, ("read as the sum over the outputs",),
                           "numeric")
    if g.shape != expected.shape:
        if g.shape == expected.shape[::-1]:
            if _same_matrix_expr(expected, g.T, label):
                if 1 in expected.shape:
                    return Outcome("correct", got.display,
                                   ("same vector, transposed relative to the key",), "numeric")
                return Outcome("incorrect", got.display,
                               ("this is the transpose of the key's answer",), "numeric")
        return Outcome("incorrect", got.display,
                       (f"shape {sp.sstr(g.shape[0])}×{sp.sstr(g.shape[1])}, but the key's "
                        f"answer is {sp.sstr(expected.shape[0])}×{sp.sstr(expected.shape[1])}"
                        + gradient_shape_note(ctx, label),))
    if _same_matrix_expr(expected, g, label):
        return Outcome("correct", got.display, notes, "numeric")
    if _same_matrix_expr(expected, -g, label):
        return Outcome("incorrect", got.display,
                       ("sign error: this is the negative of the key's answer",), "numeric")
    scalars = sorted((s for s in expected.free_symbols if isinstance(s, sp.Symbol)),
                     key=lambda s: s.name)
    factors = [sp.Integer(2), sp.Rational(1, 2), sp.Integer(4), sp.Rational(1, 4)]
    factors += [f for s in scalars for f in (s, 1 / s, 2 * s, 1 / (2 * s))]
    for c in factors:
        if _same_matrix_expr(expected, c * g, label):
            return Outcome("incorrect", got.display,
                           ("off by a constant factor: the key's answer is ", Math(c),
                            " times this"), "numeric")
    specific = diagnose_matrix_expr(expected, g, lambda a, b: _same_matrix_expr(a, b, label),
                                    ctx)
    return Outcome("incorrect", got.display,
                   tuple(specific or ("differs from the key's answer entry by entry at a "
                                      "concrete size",)), "numeric")


def _diagonal_reading(expected, g, label: str):
    """(diag(g), note) when the key's answer is a square diagonal matrix (∂h/∂z of an
    entrywise activation, the identity) and ``g`` is a vector of its width or a number."""
    if not (isinstance(expected, MatrixExpr) and expected.shape[0] == expected.shape[1]
            and expected.shape != (1, 1)):
        return None
    from ..derive.netexpr import Diag

    n = expected.shape[0]
    if isinstance(g, MatrixExpr) and g.shape[1] == 1 and g.shape[0] == n:
        return Diag(g), ("read as the diagonal of ∂h/∂z (the Jacobian of an entrywise "
                         "function is diagonal)",)
    if isinstance(g, sp.Expr) and not isinstance(g, (MatrixExpr, sp.MatrixBase)) \
            and not g.free_symbols:
        return g * sp.Identity(n), ("read as ", Math(g), " times the identity")
    return None


def _same_matrix_expr(a, b, label: str) -> bool:
    """Equal entry by entry at two concrete sizes with random matrices. The draws are the same
    in every process (the matrices in name order), and a draw where the argument of a kink
    (ReLU, its derivative, an indicator) has entries of one sign only is drawn again: with
    every entry of z₃ positive, 𝟏[z₃ > 0] would be the identity's diagonal."""
    rng = random.Random(f"matrix/{label}")
    dims = sorted({d for m in (a, b) for M in m.atoms(sp.MatrixSymbol) for d in M.shape
                   if isinstance(d, sp.Symbol)}, key=lambda s: s.name)
    matrices = sorted(a.atoms(sp.MatrixSymbol) | b.atoms(sp.MatrixSymbol), key=lambda M: M.name)
    free = sorted((s for s in (a.free_symbols | b.free_symbols) if isinstance(s, sp.Symbol)),
                  key=lambda s: s.name)
    kinks = _kink_arguments(a) + _kink_arguments(b)
    for trial in range(2):
        sizes = {d: 2 + (k + trial) % 3 for k, d in enumerate(dims)}
        for attempt in range(12):
            subs = {}
            for M in matrices:
                r, c = (_dim(x, sizes) for x in M.shape)
                subs[M] = sp.Matrix(int(r), int(c),
                                    lambda i, j: sp.Rational(rng.randint(-9, 9), rng.randint(1, 4)))
            scalars = _sizes_by_name({s: sp.Rational(rng.randint(1, 9), rng.randint(1, 3))
                                      for s in free if s not in sizes}, sizes)
            if not kinks or _both_signs(kinks, sizes, subs, scalars):
                break
        try:
            ea = _explicit(a, sizes, subs, scalars)
            eb = _explicit(b, sizes, subs, scalars)
        except (TypeError, ValueError, sp.ShapeError):
            return False
        if ea.shape != eb.shape or not _same_entries(ea, eb):
            return False
    return True


def _kink_arguments(m) -> list:
    """The vector arguments of ReLU, its derivative and the indicators in a matrix expression."""
    from ..derive.matrix import Elementwise
    from ..derive.netexpr import Activation, ActivationPrime

    if not isinstance(m, sp.Basic):
        return []
    out = []
    for node in sp.preorder_traversal(m):
        if isinstance(node, (Activation, ActivationPrime)) and node.fname in {"relu", "leaky_relu"}:
            out.append(node.operands[0])
        elif isinstance(node, Elementwise) and node.name in {"relu", "step"}:
            out.append(node.arg)
    return out


def _both_signs(kinks, sizes, subs, scalars) -> bool:
    for u in kinks:
        try:
            values = [float(v) if v.is_Rational else complex(sp.N(v)).real
                      for v in _explicit(u, sizes, subs, scalars)]
        except (TypeError, ValueError, sp.ShapeError):
            continue
        if len(values) > 1 and (all(v > 0 for v in values) or all(v < 0 for v in values)):
            return False
    return True


def _same_entries(ea, eb) -> bool:
    """Entry by entry, at concrete random numbers: numerically to 20 digits (a wrong answer is
    refused at once, a right one accepted without simplifying large expressions), symbolically
    only where an entry has no numerical value."""
    fast: tuple[dict, dict] = ({}, {})
    for x, y in zip(ea, eb):
        d = x - y
        if d == 0:
            continue
        verdict = _fast_verdict(x, y, fast)
        if verdict is True:
            continue
        if verdict is False:
            return False
        try:
            vd, vx, vy = (complex(sp.N(t, 30)) for t in (d, x, y))
        except (TypeError, ValueError):
            if sp.simplify(d) != 0:
                return False
            continue
        if not all(math.isfinite(abs(v)) for v in (vd, vx, vy)):
            return False
        if abs(vd) > 1e-20 * max(1.0, abs(vx), abs(vy)):
            return False
    return True


def _fast_verdict(x, y, seen: tuple[dict, dict]) -> bool | None:
    """Whether ``x`` and ``y`` agree to 20 digits, from their trees evaluated node by node in
    mpmath (``verify.mp_tree``, no compilation, no adaptive precision: SymPy's ``evalf`` costs
    milliseconds an entry). Equal at 60 digits is equal. A difference is taken only when the
    same difference comes out at 100 digits (to 8 digits of its own): a difference that is
    cancellation error changes with the precision. None when undecided (then ``evalf``)."""
    from ..verify import mp_tree

    def difference(dps, memo):
        with mpmath.workdps(dps):
            vx, vy = mp_tree(x, memo, dps), mp_tree(y, memo, dps)
            if not (mpmath.isfinite(abs(vx)) and mpmath.isfinite(abs(vy))):
                raise ValueError("not finite")
            return vx - vy, max(1, abs(vx), abs(vy))

    try:
        d60, scale = difference(60, seen[0])
        with mpmath.workdps(60):
            if abs(d60) <= mpmath.mpf("1e-20") * scale:
                return True
        d100, scale = difference(100, seen[1])
        with mpmath.workdps(100):
            if abs(d100) > mpmath.mpf("1e-20") * scale and abs(d100 - d60) <= mpmath.mpf("1e-8") * abs(d100):
                return False
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError):
        pass
    return None


def _concrete_trials(ctx: Context, expected, label: str) -> list:
    """The key at two concrete sizes, as for :func:`_same_matrix_expr`: (explicit key, {name:
    explicit matrix} for its matrices and the statement's names, {scalar: value})."""
    rng = random.Random(f"entries/{label}")
    named = {n: v for n, v in (getattr(ctx, "notation", None) or {}).items()
             if isinstance(v, (MatrixExpr, sp.MatrixBase))}
    exprs = [expected, *named.values()]
    dims = sorted({d for m in exprs for M in m.atoms(sp.MatrixSymbol) for d in M.shape
                   if isinstance(d, sp.Symbol)}, key=lambda s: s.name)
    trials = []
    for trial in range(2):
        sizes = {d: 2 + (k + trial) % 3 for k, d in enumerate(dims)}
        subs = {}
        for M in sorted(set().union(*(m.atoms(sp.MatrixSymbol) for m in exprs)),
                        key=lambda M: M.name):
            r, c = (_dim(x, sizes) for x in M.shape)
            subs[M] = sp.Matrix(int(r), int(c),
                                lambda i, j: sp.Rational(rng.randint(-9, 9), rng.randint(1, 4)))
        scalars = _sizes_by_name({s: sp.Rational(rng.randint(1, 9), rng.randint(1, 3))
                   for s in sorted({s for m in exprs for s in m.free_symbols
                                    if isinstance(s, sp.Symbol)}, key=lambda s: s.name)
                   if s not in sizes}, sizes)
        try:
            explicit = _explicit(expected, sizes, subs, scalars)
            matrices = {M.name: _explicit(M, sizes, subs, scalars) for M in subs}
            for name, value in named.items():
                matrices[name] = _explicit(value, sizes, subs, scalars)
        except (TypeError, ValueError, sp.ShapeError):
            return []
        trials.append((explicit, matrices, scalars))
    return trials


def _entries_outcome(expected, same: bool, wrong) -> Outcome:
    """The verdict on an answer written entry by entry (see indexed.compare_entries)."""
    if same:
        return Outcome("correct", None, (), "numeric")
    if wrong == "range":
        return Outcome("incorrect", None, (
            "the indices do not fit the shapes: i runs over the rows of the key's answer "
            f"({sp.sstr(expected.shape[0])}), j over its columns ({sp.sstr(expected.shape[1])})",),
            "numeric")
    every = wrong[-1] == "all"
    wrong = [w for w in wrong if w != "all"]
    ratios = {complex(round((g / w).real, 9), round((g / w).imag, 9))
              for _, _, g, w in wrong if abs(w) > 1e-12}
    if every and len(ratios) == 1 and all(abs(w) > 1e-12 for _, _, _, w in wrong):
        c = ratios.pop()
        if abs(c.imag) < 1e-9 and c.real != 0:
            factor = sp.nsimplify(1 / c.real, rational=True)
            if factor == -1:
                return Outcome("incorrect", None,
                               ("sign error: this is the negative of the key's answer",), "numeric")
            return Outcome("incorrect", None, ("off by a constant factor: the key's answer is ",
                                               Math(factor), " times this"), "numeric")
    where = ", ".join(f"({i},{j})" if expected.shape[1] != 1 else f"{i}" for i, j, _, _ in wrong[:4])
    word = "entries" if len(wrong) > 1 else "entry"
    return Outcome("incorrect", None,
                   (f"differs from the key's answer entry by entry at a concrete size "
                    f"({word} {where})",), "numeric")


def _sizes_by_name(scalars: dict, sizes: dict) -> dict:
    """A number named like a dimension is that dimension (the N of 1/N is the batch size N of
    X's N × D): the key may hold it as a separate symbol, and the reader may resolve the
    student's N to either."""
    by_name = {d.name: v for d, v in sizes.items() if isinstance(d, sp.Symbol)}
    return {s: by_name.get(s.name, v) for s, v in scalars.items()}


def _dim(d, sizes) -> sp.Integer:
    """A matrix dimension (an int or a symbol such as n) at the concrete sizes."""
    return sp.Integer(d) if isinstance(d, int) else d.xreplace(sizes)


_EXPLICITS: dict = memo.cache()


def _explicit(m, sizes, subs, scalars):
    """``m`` at the concrete sizes, matrices and scalars, entry by entry. Kept per process:
    the key's side of a comparison is the same for every answer to its part whose names are
    the key's (the draws depend only on the label and the names), and the feedback's variants
    evaluate it again."""
    key = (m, tuple(sorted(sizes.items(), key=str)),
           tuple((M, sp.ImmutableMatrix(v)) for M, v in sorted(subs.items(), key=lambda kv: kv[0].name)),
           tuple(sorted(scalars.items(), key=str)))
    if key not in _EXPLICITS:
        if len(_EXPLICITS) > 2048:
            _EXPLICITS.clear()
        _EXPLICITS[key] = sp.ImmutableMatrix(_explicit_now(m, sizes, subs, scalars))
    return sp.Matrix(_EXPLICITS[key])


def _explicit_now(m, sizes, subs, scalars):
    m = m.xreplace(sizes).xreplace({sp.MatrixSymbol(M.name, *[_dim(x, sizes) for x in M.shape]): v
                                for M, v in subs.items()}).xreplace(scalars)
    # a matrix of ones, zeros or the identity at a concrete size as its entries, so that a
    # product with it evaluates (Trace(OneMatrix(1, 2)·v) has no number otherwise)
    m = m.replace(lambda a: isinstance(a, (sp.OneMatrix, sp.ZeroMatrix, sp.Identity))
                  and all(d.is_Integer for d in a.shape), lambda a: sp.ImmutableMatrix(a.as_explicit()))
    m = m.doit()
    if isinstance(m, MatrixExpr):
        m = m.as_explicit()
    m = sp.Matrix(m).applyfunc(lambda t: t.doit() if hasattr(t, "doit") else t)
    return m.applyfunc(lambda t: sp.Matrix(t)[0, 0] if isinstance(t, (MatrixExpr, sp.MatrixBase))
                       else t)


# --- lists, sets, equations, shapes ------------------------------------------------------


def compare_sequence(ctx: Context, label: str, expected: list, got: list[Read],
                     rtol: float) -> Outcome:
    """Value by value. A number may be rounded as written: to the decimals it shows (``96.88``
    for 96.875, ``-1039`` for -1039.0625: within half a unit of its last digit) or to the
    relative tolerance ``rtol``; the feedback names the entries that differ."""
    shown = [_as_decimal(r.display) if r.decimals else r.display for r in got]
    wrong = []
    rounded = False
    for k, (e, g) in enumerate(zip(expected, got)):
        ok, _, _ = same_scalar(ctx, f"{label}[{k}]", e, g, rtol)
        if not ok and _rounded_as_written(e, g.value, rtol):
            ok = True
        if ok and _num(e) != _num(g.value):
            rounded = True
        if not ok:
            wrong.append(k)
    notes: list = []
    if len(got) != len(expected):
        notes.append(f"{len(got)} values, but the key lists {len(expected)}")
        if wrong:
            notes.append("; ")
    if wrong:
        name = _entry_namer(ctx, label)
        if len(wrong) > 1:
            notes.append(f"{len(wrong)} of {min(len(got), len(expected))} values differ: ")
        for n, k in enumerate(wrong[:3]):
            if n:
                notes.append("; ")
            notes.extend([f"{name(k)} should be ", Math(_as_decimal(expected[k])), ", not ",
                          Math(shown[k])])
        if len(wrong) > 3:
            notes.append(f"; and {len(wrong) - 3} more")
    if notes:
        return Outcome("incorrect", shown, tuple(notes))
    if rounded:
        return Outcome("correct", shown, ("rounded as written; the exact values are ",
                                          Math([_as_decimal(e) for e in expected])),
                       "to the digits given")
    return Outcome("correct", shown, (), "exact")


def _digits_after_point(value) -> int | None:
    """How many decimals a number written with a terminating decimal expansion shows
    (``96.88`` → 2, ``-1039`` → 0); None for anything else."""
    if not isinstance(value, (sp.Rational, sp.Float)):
        return None
    r = sp.Rational(str(value)) if isinstance(value, sp.Float) else value
    for d in range(0, 16):
        if (r * 10 ** d).is_integer:
            return d
    return None


def _rounded_as_written(expected, got, rtol: float) -> bool:
    """``got`` is ``expected`` rounded to the decimals ``got`` shows (half a unit of its last
    digit), or within ``rtol`` of it: the rounding rule for listed numbers."""
    if not (isinstance(expected, sp.Expr) and expected.is_number):
        return False
    d = _digits_after_point(got)
    ve, vg = _num(expected), _num(got)
    if d is None or ve is None or vg is None or abs(ve.imag) > 1e-12:
        return False
    if abs(vg.real - ve.real) <= 0.5 * 10 ** (-d) * (1 + 1e-12):
        return True
    return _close(ve, vg, rtol)


def _as_decimal(value):
    """A rational with a short terminating decimal expansion as that decimal (175/2 → 87.5),
    the way a teacher lists iterates; anything else unchanged."""
    if isinstance(value, sp.Rational) and not value.is_integer:
        d = _digits_after_point(value)
        if d is not None and d <= 8:
            text = format(sp.Float(value, 30), f".{d}f")
            return sp.Float(text, len(text.lstrip("-").replace(".", "")))
    return value


def _entry_namer(ctx: Context, label: str):
    """How the feedback names the k-th value (from 0): the iterate w_k of a run of gradient
    descent (its list starts at the initial value), otherwise the k-th value counted from 1."""
    param = ctx.problem.fields.get("param") if ctx.problem is not None else None
    if label.startswith("iterates") and isinstance(param, str):
        return lambda k: f"{param}_{k}"
    return lambda k: f"the {_ordinal(k + 1)} value"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def compare_set(ctx: Context, label: str, expected: sp.Set, got: Read,
                var: sp.Symbol | None) -> Outcome:
    g = got.value
    if not isinstance(g, sp.Set):
        return Outcome("incorrect", got.display, ("expected a set or a condition",))
    if var is not None:
        domain = ctx.domain(var).interval()
        g = sp.Intersection(g, domain)
        expected = sp.Intersection(expected, domain)
    extra = sp.Complement(g, expected)
    missing = sp.Complement(expected, g)
    if extra == sp.EmptySet and missing == sp.EmptySet:
        return Outcome("correct", got.display, (), "exact")
    name = sp.sstr(var) if var is not None else "the variable"
    parts: list = ["the key's set is ", Math(expected)]
    point = _point_in(extra)
    if point is not None:
        parts.extend([f"; {name} = ", Math(point), " satisfies yours but not the key's"])
    point = _point_in(missing)
    if point is not None:
        parts.extend([f"; {name} = ", Math(point), " satisfies the key's but not yours"])
    return Outcome("incorrect", got.display, tuple(parts))


def _point_in(s: sp.Set):
    if s == sp.EmptySet:
        return None
    if isinstance(s, sp.Union):
        s = s.args[0]
    if isinstance(s, sp.FiniteSet):
        return s.args[0]
    if isinstance(s, sp.Interval):
        lo, hi = s.inf, s.sup
        if lo == -sp.oo and hi == sp.oo:
            return sp.Integer(0)
        if lo == -sp.oo:
            return hi - 1
        if hi == sp.oo:
            return lo + 1
        return (lo + hi) / 2
    return None


def compare_equation(ctx: Context, label: str, expected: sp.Eq, got: Read) -> Outcome:
    g = got.value
    if not isinstance(g, sp.Equality):
        return Outcome("incorrect", got.display, ("expected an equation, like the key's ",
                                                  Math(expected)))
    de = expected.lhs - expected.rhs
    dg = g.lhs - g.rhs
    calls = {}
    for node in (de.atoms(AppliedUndef) | dg.atoms(AppliedUndef)):
        calls[node] = sp.Symbol(f"_{sp.sstr(node)}", real=True)
    de, dg = de.xreplace(calls), dg.xreplace(calls)
    ratio = sp.simplify(dg / de) if de != 0 else None
    if ratio is not None and ratio.is_number and ratio != 0 and ratio.is_finite:
        return Outcome("correct", got.display, (), "symbolic")
    return Outcome("incorrect", got.display,
                   ("not equivalent to the key's ", Math(expected)), "symbolic")


def compare_shape(expected: str, text: str) -> Outcome:
    want = read_shape(expected)
    got = read_shape(text)
    shown = " × ".join(got)
    if got == want:
        return Outcome("correct", shown, (), "exact")
    if got == want[::-1]:
        return Outcome("incorrect", shown, (f"this is the transposed shape; the key's is "
                                            f"{' × '.join(want)}",))
    return Outcome("incorrect", shown, (f"the key's shape is {' × '.join(want)}",))


# --- dispatch ----------------------------------------------------------------------------


def set_variable(ctx: Context) -> sp.Symbol | None:
    """The variable a set answer is about: the one free symbol the key's expressions share."""
    counts: dict = {}
    for value in ctx.answers.values():
        if isinstance(value, sp.Expr) and not isinstance(value, MatrixExpr):
            for s in value.free_symbols:
                counts[s] = counts.get(s, 0) + 1
    named = [s for s in counts if s.name in {"alpha", "eta", "lr", "step"}]
    if named:
        return named[0]
    return max(counts, key=counts.get) if len(counts) == 1 else None


NO_LIMIT = re.compile(r"\A\s*(does\s*not\s*exist|doesn't\s*exist|dne|no\s*limit|"
                      r"\\text\{\s*does not exist\s*\})\s*\.?\s*\Z", re.IGNORECASE)


def compare_no_limit(expected, text: str) -> Outcome:
    """The key says the limit does not exist (its values oscillate far out)."""
    if NO_LIMIT.match(text):
        if isinstance(expected, sp.AccumBounds):
            return Outcome("correct", text, (), "the limit does not exist")
        return Outcome("incorrect", text, ("the limit does not exist only in some cases: give it "
                                           "case by case",), "limit split by the sign of a parameter")
    return Outcome("incorrect", text, ("the limit does not exist: far out the values keep "
                                       "oscillating and do not settle",), "the limit does not exist")


def compare(ctx: Context, label: str, expected: Any, text: str, rtol: float) -> Outcome:
    """Read ``text`` in the shape of ``expected`` and compare; never raises for bad answers.
    The feedback's mathematics carries the statement's names for plain text (b₂, W⁽²⁾ᵀ, ŷ)."""
    outcome = _compare(ctx, label, expected, text, rtol)
    if not any(isinstance(p, Math) or (isinstance(p, str) and _MISMATCH.match(p))
               for p in outcome.feedback):
        return outcome
    words = statement_words(ctx)
    return dataclasses.replace(outcome, feedback=tuple(
        Math(p.value, words) if isinstance(p, Math) else
        _said_mismatch(p, ctx, words) if isinstance(p, str) else p for p in outcome.feedback))


_MISMATCH = re.compile(r"^(shape mismatch in (?:the entrywise (?:product|division) of )?)(.+?)(: .*)$", re.S)


def _said_mismatch(text: str, ctx: Context, words) -> str:
    """A shape mismatch the reader found, its expression in the statement's names: W⁽²⁾ᵀ·(-y + ŷ),
    not W2ᵀ·(-y + yhat) (the key's names, as the matrix namespace writes them)."""
    from .report import said_name

    m = _MISMATCH.match(text)
    if not m:
        return text
    said, known = dict(words), set(getattr(ctx, "symbols", {}) or {})
    inner = re.sub(r"(?<![\w.])([A-Za-z]+\d*)(?![A-Za-z0-9_(])",
                   lambda t: said_name(t.group(1), said) if t.group(1) in known else t.group(1),
                   m.group(2))
    return m.group(1) + inner + m.group(3)


def _compare(ctx: Context, label: str, expected: Any, text: str, rtol: float) -> Outcome:
    reader = ctx.reader
    try:
        if isinstance(expected, sp.AccumBounds) or (
                ".limit(" in label and isinstance(expected, sp.Piecewise) and expected.has(sp.AccumBounds)):
            return compare_no_limit(expected, text)
        if ".limit(" in label and isinstance(expected, sp.Piecewise) and not NO_LIMIT.match(text):
            # the key's limit depends on a parameter's sign (y > 0, y < 0, y = 0): one value
            # cannot be right for every case
            names = sorted({s.name for _, c in expected.args for s in c.free_symbols})
            return Outcome("incorrect", text, (
                "the limit depends on the sign of " + " and ".join(names) +
                ": give it case by case",), "limit split by the sign of a parameter")
        if isinstance(expected, str):
            return compare_shape(expected, shape_member(text))
        if isinstance(expected, (list, tuple)):
            return compare_sequence(ctx, label, list(expected), reader.sequence(text), rtol)
        if isinstance(expected, sp.Set):
            var = set_variable(ctx)
            text = last_after(text, r"\Rightarrow")
            return compare_set(ctx, label, expected, reader.set(text, var), var)
        if isinstance(expected, sp.Equality):
            text = last_after(text, r"\Rightarrow")
            return compare_equation(ctx, label, expected, reader.equation(text))
        if isinstance(expected, sp.MatrixBase):
            # an answer for every n read whole (its cases split on i = j is not a relation)
            general = read_general(ctx, label, sp.Matrix(expected), text)
            if general is not None:
                return compare_matrix(ctx, label, sp.Matrix(expected), general[0], general[1],
                                      [[0] * expected.cols for _ in range(expected.rows)], rtol)
        return grade_chain(ctx, label, expected, text,
                           lambda member: _judge_member(ctx, label, expected, member, rtol),
                           reader.expr, Outcome)
    except Unreadable as exc:
        return Outcome("unparseable", None, (str(exc),))


def _judge_member(ctx: Context, label: str, expected: Any, text: str, rtol: float) -> Outcome:
    """One member of a chain (or a whole answer) in the shape of the key's answer."""
    reader = ctx.reader
    try:
        if isinstance(expected, sp.MatrixBase):
            # an answer for every n (index notation, diag(s) - s s^T) at the key's size
            general = read_general(ctx, label, sp.Matrix(expected), text)
            if general is not None:
                value, display = general
                decimals = [[0] * expected.cols for _ in range(expected.rows)]
            else:
                value, display, decimals = reader.matrix(text)
                value = substitute_components(ctx, label, sp.Matrix(expected), value)
            return compare_matrix(ctx, label, sp.Matrix(expected), value, display, decimals, rtol)
        if isinstance(expected, MatrixExpr):
            if has_entry_indices(text):
                entries = compare_entries(ctx, label, expected, text,
                                          _concrete_trials(ctx, expected, label))
                if entries is not None:
                    return _entries_outcome(expected, *entries)
            with squares_are_lengths(expected.shape == (1, 1)):
                got = reader.expr(text)
            if names_itself(ctx, label, text, got.value):
                return Outcome("incorrect", got.display, (
                    "this only names the quantity asked for; write what it equals",))
            return compare_matrix_expr(ctx, label, expected, got)
        return compare_scalar(ctx, label, expected, reader.expr(text), rtol)
    except Unreadable as exc:
        if str(exc).startswith(WELL_READ_BUT_WRONG):
            # read, and wrong: a product of shapes that do not match, a matrix to a power y
            return Outcome("incorrect", None, (str(exc),))
        return Outcome("unparseable", None, (str(exc),))


WELL_READ_BUT_WRONG = ("shape mismatch", "a matrix to the power")
