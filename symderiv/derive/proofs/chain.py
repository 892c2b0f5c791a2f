"""Proof chains checked step by step.

A chain is a list of lines, one relation each. A line is either

- a **continuation** ``OP expr`` (OP one of ``= <= < >= >``): the previous line's right-hand side
  OP expr; the chain's relation becomes first left-hand side (combined OP) expr;
- an **implication** ``=> relation`` or an **equivalence** ``<=> relation``: the new relation
  follows from (is equivalent to) the previous one;
- a **relation** ``lhs OP rhs`` on its own: it follows from its justification alone (a
  hypothesis, a cited fact), and starts a new chain;
- the first line may be a bare expression, the start of a calculation.

Every line has a justification (:class:`Justification`): ``algebra``, ``hyp NAME[, NAME] [at
k = 0]``, ``sum k=1..T``, ``mean >= min``, ``cauchy-schwarz``, ``am-gm``, ``jensen``, ``cited
TEXT`` or ``instances``. A justification contributes *facts* (relations known to hold: the
named hypotheses, the previous line, an instance of the named inequality that is itself
checked); the line holds when SymPy shows that its relation follows from these facts:

1. quantities that are not symbols (a term f(k + 1) of a sequence, a sum, a minimum) become
   atoms; an equation among the facts is solved for one atom and substituted;
2. the target's difference (rhs − lhs ≥ 0) is decided directly from the symbols' assumptions
   (terms of one sign, a factorisation, a quadratic form whose principal minors are ≥ 0), or
   after subtracting facts, or after writing each inequality fact with a slack
   (a ≤ b as b = a + s, s ≥ 0) and eliminating one atom per fact.

Independently, each line is evaluated at random points that satisfy its facts and every
hypothesis (the facts' atoms solved from random slacks, the rest drawn from their domains); a
point where the facts hold and the line fails is a counterexample, and it is reported. A line
SymPy cannot derive is a failure even without a counterexample: a step is never shown as
proved unless it was derived.

:func:`check_chain` is the entry point for a student's chain (plain math or LaTeX, one relation
per line); :func:`check_lines` is the one the ``proof`` kind uses.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass, field
from typing import Iterable

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from ...assume import Scope, parse_assumption
from ...errors import BadInput
from ...parse import ELEMENTARY, Namespace, parse_expression
from ... import memo
from ...verify import compiled, symbolic_zero

RELATIONS = ("=", "<=", "<", ">=", ">")
OPERATORS = ("<=>", "=>", "<=", ">=", "==", "=", "<", ">")
UNICODE = {"≤": "<=", "≥": ">=", "⩽": "<=", "⩾": ">=", "⇔": "<=>", "⟺": "<=>", "⇒": "=>",
           "⟹": "=>", "−": "-", "·": "*", "×": "*"}
JUSTIFICATIONS = ("algebra", "hyp NAME", "sum k=1..T", "mean >= min", "cauchy-schwarz", "am-gm",
                  "jensen", "cited TEXT", "instances")
SAMPLES = 40           # random points per step
SEARCH = 300           # points tried when looking for a counterexample
TOLERANCE = mpmath.mpf("1e-20")
SEQUENCE_KINDS = ("real", "nonnegative", "positive")


# --- expressions ---------------------------------------------------------------------------


class Minimum(sp.Expr):
    """min_{a ≤ k ≤ b} e(k): the least value of e over the integers k from a to b."""

    is_commutative = True

    def __new__(cls, expr, index, lower, upper):
        return sp.Expr.__new__(cls, expr, index, lower, upper)

    @property
    def free_symbols(self):
        e, k, a, b = self.args
        return (e.free_symbols - {k}) | a.free_symbols | b.free_symbols

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_nonnegative(self):
        return True if self.args[0].is_nonnegative else None

    def _eval_is_positive(self):
        return True if self.args[0].is_positive else None

    def doit(self, **hints):
        e, k, a, b = self.args
        if (b - a).is_Integer and b - a >= 0:
            return sp.Min(*[e.subs(k, a + i).doit() for i in range(int(b - a) + 1)])
        return self

    def terms(self) -> sp.Expr:
        """The number of values the minimum is over, b − a + 1."""
        return self.args[3] - self.args[2] + 1


def _sum(expr, index, lower, upper):
    if not isinstance(index, sp.Symbol):
        raise BadInput("sum(expr, k, a, b): the index k must be a name")
    return sp.Sum(expr, (index, lower, upper))


def _minimum(expr, index, lower, upper):
    if not isinstance(index, sp.Symbol):
        raise BadInput("minimum(expr, k, a, b): the index k must be a name")
    return Minimum(expr, index, lower, upper)


def sum_over(expr: sp.Expr, k: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
    """Σ_{k=lo}^{hi} expr with sequences shifted to one range, so that a telescoping sum
    collapses: Σ (f(k) − f(k+1)) = f(lo) − f(hi + 1), Σ G(k) stays a sum."""
    out = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr)):
        apps = [a for a in term.atoms(AppliedUndef) if k in a.free_symbols]
        if len(apps) == 1 and (apps[0].args[0] - k).is_Integer:
            app = apps[0]
            coeff = sp.cancel(term / app)
            shift = int(app.args[0] - k)
            if k not in coeff.free_symbols:
                seq = app.func
                total = sp.Sum(seq(k), (k, lo, hi))
                for i in range(shift):           # Σ_{lo+j}^{hi+j} = Σ_{lo}^{hi} − first j + last j
                    total += seq(hi + 1 + i) - seq(lo + i)
                for i in range(-shift):
                    total += seq(lo - 1 - i) - seq(hi - i)
                out += coeff * total
                continue
        out += sp.Sum(term, (k, lo, hi)).doit()
    return sp.expand(out)


def _bound_index(expr: sp.Basic) -> list[tuple[sp.Basic, sp.Symbol]]:
    """The sums and minima of ``expr`` with their index variables."""
    out = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Sum):
            out.append((node, node.limits[0][0]))
        elif isinstance(node, Minimum):
            out.append((node, node.args[1]))
    return out


@dataclass
class Context:
    """The symbols of a proof: their assumptions, the sequences (f(k), G(k)), the hypotheses
    by name and how names print (the question's notation)."""

    scope: Scope
    sequences: dict[str, str] = field(default_factory=dict)   # name -> real/nonnegative/positive
    given: dict[str, "Relation"] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)       # symbol name -> LaTeX
    seq_latex: dict[str, str] = field(default_factory=dict)   # sequence -> LaTeX with ? for the index

    def __post_init__(self):
        # the symbols with a stated assumption (L, T …); the others that appear only as a
        # sequence's index (k) range over every value: a hypothesis f(k) ≥ f̄ holds for each k
        self.declared = frozenset(self.scope.domains)

    def is_index(self, sym: sp.Symbol, rel: "Relation") -> bool:
        if sym.name in self.declared:
            return False
        for side in (rel.lhs, rel.rhs):
            outside = side.xreplace({a: sp.Integer(0) for a in side.atoms(AppliedUndef)})
            if sym in outside.free_symbols:
                return False
        return True

    def namespace(self) -> Namespace:
        functions = dict(ELEMENTARY)
        functions["sum"] = _sum
        functions["minimum"] = _minimum
        for name, kind in self.sequences.items():
            fn = sp.Function(name, real=True, nonnegative=kind != "real" or None,
                             positive=kind == "positive" or None)

            def call(*args, fn=fn, name=name):
                if len(args) != 1:
                    raise BadInput(f"the sequence {name} takes one index: {name}(k)")
                return fn(args[0])
            functions[name] = call
        return Namespace(symbols=dict(self.scope.symbols), functions=functions,
                         make_symbol=self.scope.symbol)

    def parse(self, text: str) -> sp.Expr:
        return parse_expression(text, self.namespace())

    def parse_shown(self, text: str) -> sp.Expr:
        """``text`` as written (not simplified), for display: f − G/L + (L/2)G/L² stays so."""
        with sp.evaluate(False):
            return parse_expression(text, self.namespace())

    def latex(self, expr: sp.Basic) -> str:
        return _printer(self).doprint(expr)

    def latex_written(self, expr: sp.Basic) -> str:
        """An expression as written (unevaluated): terms and factors in the writer's order."""
        return _printer(self, written=True).doprint(expr)


_PRINTERS: dict = {}


def _printer(ctx: Context, written: bool = False):
    key = (tuple(sorted(ctx.names.items())), tuple(sorted(ctx.seq_latex.items())),
           tuple(sorted(ctx.sequences)), written)
    if key not in _PRINTERS:
        from ...render import KeyPrinter

        class ProofPrinter(KeyPrinter):
            def _print_Function(self, expr, exp=None):
                name = type(expr).__name__
                if isinstance(expr, AppliedUndef) and name in ctx.sequences:
                    index = self._print(expr.args[0])
                    template = ctx.seq_latex.get(name)
                    text = (template.replace("?", index) if template
                            else f"{self._print(sp.Symbol(name))}_{{{index}}}")
                    return f"\\left({text}\\right)^{{{exp}}}" if exp is not None else text
                return super()._print_Function(expr, exp)

            def _print_Add(self, expr, order=None):
                if not written:
                    return super()._print_Add(expr, order)
                # the terms in the order written; a subtracted sum keeps its brackets: a − (b + c)
                out = ""
                for i, term in enumerate(expr.args):
                    negative = term.could_extract_minus_sign()
                    shown = -term if negative else term
                    if negative and isinstance(term, sp.Mul) and term.args[0] == -1:
                        shown = sp.Mul(*term.args[1:], evaluate=False) if len(term.args) > 2 else term.args[1]
                    text = self._print(shown)
                    if isinstance(shown, sp.Add) or (i and isinstance(term, sp.Add)):
                        text = r"\left(" + text + r"\right)"
                    out += (" - " if negative else (" + " if i else "")) + text
                return out.strip()

            def _print_Mul(self, expr):
                # the factors in the order written (η G_k, not G_k η)
                from sympy.printing.latex import LatexPrinter
                if not written:
                    return super()._print_Mul(expr)
                return LatexPrinter._print_Mul(self, expr)

            def _print_Minimum(self, expr):
                e, k, a, b = expr.args
                return (rf"\min_{{{self._print(a)} \le {self._print(k)} \le {self._print(b)}}} "
                        + self.parenthesize(e, 50))

        symbol_names = {sp.Symbol(n, **a): v for n, v in ctx.names.items()
                        for a in ({}, {"real": True})}
        for name, value in ctx.names.items():
            if name in ctx.scope.symbols:
                symbol_names[ctx.scope.symbols[name]] = value
        settings = {"mul_symbol": None, "symbol_names": symbol_names}
        if written:
            settings["order"] = "none"
        _PRINTERS[key] = ProofPrinter(settings)
    return _PRINTERS[key]


# --- relations and facts --------------------------------------------------------------------


@dataclass(frozen=True)
class Relation:
    lhs: sp.Expr
    op: str
    rhs: sp.Expr

    def fact(self) -> "Fact":
        """The relation as one quantity and its sign: a ≤ b is b − a ≥ 0."""
        if self.op == "=":
            return Fact(self.rhs - self.lhs, "eq")
        if self.op in ("<=", "<"):
            return Fact(self.rhs - self.lhs, "ge" if self.op == "<=" else "gt")
        return Fact(self.lhs - self.rhs, "ge" if self.op == ">=" else "gt")

    def subs(self, mapping) -> "Relation":
        return Relation(self.lhs.subs(mapping), self.op, self.rhs.subs(mapping))

    def latex(self, ctx: Context) -> str:
        op = {"=": "=", "<=": r"\le", "<": "<", ">=": r"\ge", ">": ">"}[self.op]
        return f"{ctx.latex(self.lhs)} {op} {ctx.latex(self.rhs)}"

    def holds(self, values: dict) -> bool | None:
        return self.fact().holds(values)


@dataclass(frozen=True)
class Fact:
    """``expr`` = 0 (eq), ≥ 0 (ge) or > 0 (gt)."""

    expr: sp.Expr
    kind: str

    def holds(self, values) -> bool | None:
        v = _evaluate(self.expr, values)
        if v is None:
            return None
        scale = TOLERANCE * (1 + abs(v))
        if self.kind == "eq":
            return abs(v) <= scale * 1e10
        return v >= -scale * 1e10 if self.kind == "ge" else v > 0


def _evaluate(expr: sp.Expr, values: dict):
    """``expr`` at ``values`` (symbol → number) to 30 digits, or None when it is not a real
    number there. Compiled once per expression (mpmath), as the checks of verify.py are."""
    names = tuple(sorted(expr.free_symbols, key=sp.default_sort_key))
    if any(n not in values for n in names):
        return None
    fn = compiled(expr, names) or None
    try:
        with mpmath.workdps(30):
            if fn is None:
                v = sp.N(expr.xreplace({n: values[n] for n in names}), 30)
                if not v.is_number or v.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
                    return None
                v = complex(v)
            else:
                v = fn(*[mpmath.mpf(sp.Rational(values[n]).p) / sp.Rational(values[n]).q
                         if not isinstance(values[n], mpmath.mpf) else values[n] for n in names])
            if isinstance(v, (mpmath.mpc, complex)):
                if abs(v.imag) > 1e-25:
                    return None
                v = v.real
            v = mpmath.mpf(v)
            if not mpmath.isfinite(v):
                return None
            return v
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError):
        return None


# --- signs -----------------------------------------------------------------------------------

POS, ZERO, NEG = 1, 0, -1
ANY = frozenset({POS, ZERO, NEG})


_SIGN_CACHE: dict = memo.cache()


def _signs(expr: sp.Expr, depth: int = 0) -> frozenset | None:
    """The signs ``expr`` can take under its symbols' assumptions ({1}, {0, 1}, …), or None
    (the assumptions live on the symbols, so the expression is the whole key)."""
    key = (expr, depth)
    if key not in _SIGN_CACHE:
        if len(_SIGN_CACHE) > 20000:
            _SIGN_CACHE.clear()
        _SIGN_CACHE[key] = _signs_of(sp.sympify(expr, strict=True), depth)
    return _SIGN_CACHE[key]


def _signs_of(expr: sp.Expr, depth: int) -> frozenset | None:
    if expr.is_zero:
        return frozenset({ZERO})
    if expr.is_number:
        v = expr.evalf(30)
        if v.is_real:
            return frozenset({POS}) if v > 0 else frozenset({NEG}) if v < 0 else frozenset({ZERO})
        return None
    if expr.is_positive:
        return frozenset({POS})
    if expr.is_negative:
        return frozenset({NEG})
    out = None
    if expr.is_Add:
        out = _add_signs([_signs(t, depth + 1) for t in expr.args])
        if (out is None or out == ANY) and len(expr.args) == 2:
            out = _monotone(expr, depth) or out
    elif expr.is_Mul:
        out = _mul_signs([_signs(f, depth + 1) for f in expr.args])
    elif expr.is_Pow:
        base, e = expr.args
        if e.is_Integer and e % 2 == 0 and base.is_real:
            b = _signs(base, depth)
            out = frozenset({POS}) if b is not None and ZERO not in b else frozenset({ZERO, POS})
        elif e.is_Integer:
            b = _signs(base, depth)
            out = b if e > 0 else (b - {ZERO} if b and b != {ZERO} else None)
        elif base.is_nonnegative:
            out = frozenset({ZERO, POS})
    if out is not None and out != ANY:
        return _narrow(expr, out)
    if expr.is_nonnegative:
        return frozenset({ZERO, POS})
    if expr.is_nonpositive:
        return frozenset({ZERO, NEG})
    if depth >= 3:
        return None
    for form in (sp.expand, sp.factor):
        try:
            other = form(expr)
        except (sp.PolynomialError, TypeError, ValueError, NotImplementedError):
            continue
        if other != expr:
            s = _signs(other, depth + 1)
            if s is not None and s != ANY:
                return s
    if depth > 1:
        return None
    if _quadratic_psd(expr, depth):
        return frozenset({ZERO, POS})
    if _quadratic_psd(-expr, depth):
        return frozenset({ZERO, NEG})
    return None


_INCREASING = (sp.exp, sp.log, sp.atan, sp.tanh, sp.asinh, sp.erf)


def _monotone(expr: sp.Expr, depth: int) -> frozenset | None:
    """c·g(a) − c·g(b) for an increasing g (exp, log, √, arctan, tanh …) has the sign of a − b;
    a number n stands for g(g⁻¹(n)) (1 = e⁰, log 3)."""
    def split(t):
        c, rest = t.as_coeff_Mul()
        if isinstance(rest, _INCREASING):
            return c, rest.func, rest.args[0]
        if rest.is_Pow and rest.exp.is_positive and rest.exp.is_Rational and not rest.exp.is_Integer \
                and rest.base.is_nonnegative:
            return c, (lambda u, e=rest.exp: u ** e), rest.base
        return None
    a, b = expr.args
    pa, pb = split(a), split(b)
    if pa is None and pb is None:
        return None
    if pa is None or pb is None:
        known, number = (pa, b) if pb is None else (pb, a)
        if not number.is_number or known[1] not in (sp.exp, sp.log):
            return None
        c = known[0]
        inverse = sp.log(-number / c) if known[1] is sp.exp else sp.exp(-number / c)
        if known[1] is sp.exp and not (-number / c).is_positive:
            return None
        pa, pb = (known, (-c, known[1], inverse)) if known is pa else ((-c, known[1], inverse), known)
    (ca, ga, xa), (cb, gb, xb) = pa, pb
    if ga is not gb or ca + cb != 0 or not ca.is_positive:
        if ga is gb and ca + cb == 0 and ca.is_negative:
            inner = _signs(sp.expand(xb - xa), depth + 1)
            return inner
        return None
    return _signs(sp.expand(xa - xb), depth + 1)


def _narrow(expr, out):
    if out == frozenset({ZERO, POS}) and expr.is_nonzero:
        return frozenset({POS})
    return out


def _add_signs(parts) -> frozenset | None:
    if any(p is None for p in parts):
        return None
    if all(p <= {ZERO, POS} for p in parts):
        return frozenset({POS}) if any(p == {POS} for p in parts) else (
            frozenset({ZERO}) if all(p == {ZERO} for p in parts) else frozenset({ZERO, POS}))
    if all(p <= {ZERO, NEG} for p in parts):
        return frozenset({NEG}) if any(p == {NEG} for p in parts) else (
            frozenset({ZERO}) if all(p == {ZERO} for p in parts) else frozenset({ZERO, NEG}))
    return ANY


def _mul_signs(parts) -> frozenset | None:
    if any(p is None for p in parts):
        return None
    out = frozenset({POS})
    for p in parts:
        out = frozenset(a * b for a in out for b in p)
    return out


def _quadratic_psd(expr: sp.Expr, depth: int) -> bool:
    """True when ``expr`` is a quadratic form (with linear and constant terms) in its
    unconstrained symbols whose matrix has every principal minor ≥ 0: a sum of squares."""
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    if len(symbols) > 10 or not expr.is_polynomial(*symbols):
        return False
    for variables in (symbols, [s for s in symbols if s.is_nonnegative is not True]):
        if not variables or len(variables) > 6:
            continue
        try:
            poly = sp.Poly(sp.expand(expr), *variables)
        except (sp.PolynomialError, sp.GeneratorsError):
            continue
        if poly.total_degree() > 2 or poly.total_degree() < 1:
            continue
        n = len(variables)
        m = sp.zeros(n + 1, n + 1)
        for (powers, coeff) in poly.terms():
            idx = [i for i, p in enumerate(powers) for _ in range(p)]
            i, j = (idx + [n, n])[:2]
            if i == j:
                m[i, i] += coeff
            else:
                m[i, j] += coeff / 2
                m[j, i] += coeff / 2
        ok = True
        for size in range(1, n + 2):
            for rows in itertools.combinations(range(n + 1), size):
                minor = sp.factor(m.extract(list(rows), list(rows)).det())
                s = _signs(minor, 3)
                if s is None or not s <= {ZERO, POS}:
                    ok = False
                    break
            if not ok:
                break
        if ok:
            return True
    return False


def decided(fact: Fact, scope: Scope | None = None) -> bool:
    """True when the symbols' assumptions alone show ``fact``."""
    expr = fact.expr
    if fact.kind == "eq":
        if symbolic_zero(sp.expand(expr)):
            return True
        # real sides with logarithms: a = b exactly when e^(a − b) = 1
        if expr.has(sp.log):
            try:
                return symbolic_zero(sp.simplify(sp.exp(expr)) - 1)
            except (TypeError, ValueError, NotImplementedError):
                return False
        return False
    forms = ()
    if not _refuted(expr):
        try:
            together = sp.cancel(sp.together(expr))
        except (sp.PolynomialError, TypeError, ValueError):
            together = expr
        forms = (expr,) if together == expr else (together, expr)
    for form in forms:
        num, den = sp.fraction(form)
        sn, sd = _signs(num), _signs(den)
        if sn is None or sd is None or ZERO in sd:
            continue
        s = _mul_signs([sn, sd])
        if s is not None and (s <= {POS} if fact.kind == "gt" else s <= {ZERO, POS}):
            return True
    if scope is not None:
        moved = _unbounded(expr, scope, strict=fact.kind == "gt")
        if moved is not None:
            return decided(Fact(moved, fact.kind), None)
    return False


_PROBES = (sp.Rational(1, 2), sp.Integer(1), sp.Integer(2), sp.Rational(7, 3), sp.Rational(1, 10),
           sp.Integer(5), sp.Integer(0), sp.Rational(-1, 2), sp.Integer(-1), sp.Integer(-3),
           sp.Rational(13, 4), sp.Rational(-7, 5))
_EXOTIC = ("even", "odd", "prime", "composite", "irrational", "zero", "noninteger")


def _admits(sym: sp.Symbol, v: sp.Rational) -> bool:
    """True when ``v`` is a value ``sym``'s assumptions allow."""
    return not ((sym.is_positive and v <= 0) or (sym.is_nonnegative and v < 0)
                or (sym.is_negative and v >= 0) or (sym.is_nonpositive and v > 0)
                or (sym.is_nonzero and v == 0) or (sym.is_integer and not v.is_integer))


def _refuted(expr: sp.Expr, tries: int = 10) -> bool:
    """True when a point the symbols' assumptions allow makes ``expr`` negative: then no sign
    analysis can show ``expr ≥ 0`` (it is sound), and `decided` skips it. Only a speed-up: a
    counterexample is searched among a few rational points (fixed seed), evaluated to 30 digits
    and counted only when clearly below zero; finding none proves nothing."""
    symbols = sorted(expr.free_symbols, key=sp.default_sort_key)
    if not symbols or len(symbols) > 8:
        return False
    for sym in symbols:
        if not sym.is_real or any(getattr(sym, "is_" + a) for a in _EXOTIC):
            return False
    rng = random.Random(len(symbols))
    names = tuple(symbols)
    for n in range(tries):
        values = {}
        for i, sym in enumerate(symbols):
            choices = [v for v in _PROBES if _admits(sym, v)]
            if not choices:
                return False
            values[sym] = choices[(n + i) % len(choices)] if n < 3 else rng.choice(choices)
        v = _evaluate(expr, {k: values[k] for k in names})
        if v is not None and v < -1e-12 * (1 + abs(v)):
            return True
    return False


def _unbounded(expr: sp.Expr, scope: Scope, strict: bool) -> sp.Expr | None:
    """``expr`` with each symbol of a bounded domain written through a positive t:
    lo < a < hi as a = lo + (hi − lo)t/(1 + t), a > lo as lo + t, a < hi as hi − t; so that
    1 − a for 0 < a < 1 is 1/(1 + t), whose sign the assumptions decide. None when nothing moves."""
    mapping = {}
    for sym in expr.free_symbols:
        d = scope.domains.get(sym.name)
        if d is None or scope.symbols.get(sym.name) != sym or d.integer:
            continue
        closed = not d.lower_open or not d.upper_open
        if strict and closed:
            continue
        t = sp.Dummy(f"t_{sym.name}", positive=True)
        if d.lower is not None and d.upper is not None:
            mapping[sym] = d.lower + (d.upper - d.lower) * t / (1 + t)
        elif d.lower is not None and d.lower != 0:
            mapping[sym] = d.lower + t
        elif d.upper is not None and d.upper != 0:
            mapping[sym] = d.upper - t
    if not mapping:
        return None
    return expr.xreplace(mapping)


# --- atoms and elimination ----------------------------------------------------------------


class Atoms:
    """Non-symbols (sequence terms, sums, minima) replaced by dummy symbols, consistently."""

    def __init__(self):
        self.of: dict[sp.Basic, sp.Symbol] = {}

    def __call__(self, expr: sp.Basic) -> sp.Basic:
        def visit(e):
            if isinstance(e, (sp.Sum, Minimum, AppliedUndef)):
                if e not in self.of:
                    kw = {"real": True}
                    inner = e.args[0] if not isinstance(e, AppliedUndef) else e
                    if isinstance(e, sp.Sum):
                        inner = e.function
                    if inner.is_positive and not isinstance(e, sp.Sum):
                        kw["positive"] = True
                    elif inner.is_nonnegative:
                        kw["nonnegative"] = True
                    self.of[e] = sp.Dummy(f"a{len(self.of)}", **kw)
                return self.of[e]
            if not e.args:
                return e
            return e.func(*[visit(a) for a in e.args])
        return visit(expr)

    def back(self) -> dict:
        return {v: k for k, v in self.of.items()}


def _candidates(expr: sp.Expr, target: sp.Expr, slacks) -> list[tuple[sp.Symbol, sp.Expr]]:
    """Symbols ``expr`` is linear in, with a coefficient of known sign: (symbol, coefficient),
    the best choices first (in the target, without sign assumptions)."""
    out = []
    for x in expr.free_symbols - set(slacks):
        c = sp.diff(expr, x)
        if x in c.free_symbols:
            continue
        s = _signs(sp.factor(c))
        if s is None or ZERO in s:
            continue
        constrained = x.is_nonnegative is True or x.is_nonpositive is True
        out.append(((constrained, x not in target.free_symbols, x.name), x, c))
    out.sort(key=lambda t: t[0])
    return [(x, c) for _, x, c in out]


def _eliminate(facts: list[Fact], target: sp.Expr, choice: Iterable[int]):
    """Write each fact as a substitution x = (slack − rest)/c; return (mapping, slacks, rest)
    where ``rest`` are the facts no symbol could be eliminated from (kept as constraints)."""
    mapping: dict = {}
    slacks: list[tuple[sp.Symbol, str]] = []
    rest: list[Fact] = []
    choice = list(choice)
    for i, fact in enumerate(facts):
        e = sp.expand(fact.expr.subs(mapping)) if mapping else sp.expand(fact.expr)
        cands = _candidates(e, target, [s for s, _ in slacks])
        if not cands:
            rest.append(Fact(e, fact.kind))
            continue
        x, c = cands[min(choice[i] if i < len(choice) else 0, len(cands) - 1)]
        if fact.kind == "eq":
            s = sp.Integer(0)
        else:
            s = sp.Dummy(f"s{i}", positive=fact.kind == "gt" or None, nonnegative=True)
            slacks.append((s, fact.kind))
        value = sp.expand(x - (e - s) / c)
        mapping = {k: sp.expand(v.subs(x, value)) for k, v in mapping.items()}
        mapping[x] = value
    return mapping, slacks, rest


def follows(target: Fact, facts: list[Fact], scope: Scope | None = None) -> bool:
    """True when SymPy shows ``target`` from ``facts`` (all over atoms already)."""
    if decided(target, scope):
        return True
    ineq = [f for f in facts if f.kind != "eq"]
    eqs = [f for f in facts if f.kind == "eq"]
    base = target
    if eqs:
        mapping, _, _ = _eliminate(eqs, target.expr, [])
        base = Fact(sp.expand(target.expr.subs(mapping)), target.kind)
        ineq = [Fact(sp.expand(f.expr.subs(mapping)), f.kind) for f in ineq]
        if decided(base, scope):
            return True
    if target.kind == "eq":
        return False
    # subtract facts: target − Σ cᵢ factᵢ ≥ 0 with cᵢ ∈ {1, target/fact when that is a number}
    for size in range(1, min(len(ineq), 3) + 1):
        for subset in itertools.combinations(ineq, size):
            rest = base.expr - sum(f.expr for f in subset)
            strict = base.kind == "gt" and not any(f.kind == "gt" for f in subset)
            if decided(Fact(rest, "gt" if strict else "ge"), scope):
                return True
    # target = r · fact with r ≥ 0 (r > 0 and a strict fact for a strict target)
    for f in ineq:
        if f.expr == 0 or (base.kind == "gt" and f.kind != "gt"):
            continue
        ratio = sp.cancel(base.expr / f.expr)
        if decided(Fact(ratio, "gt" if base.kind == "gt" else "ge"), scope):
            return True
    # slacks: eliminate one symbol per fact
    counts = [min(3, max(1, len(_candidates(sp.expand(f.expr), base.expr, [])))) for f in ineq]
    for n, choice in enumerate(itertools.product(*[range(c) for c in counts])):
        if n >= 27:
            break
        mapping, _, rest = _eliminate(ineq, base.expr, choice)
        if rest:
            continue
        e = sp.expand(base.expr.subs(mapping))
        if decided(Fact(e, base.kind), scope):
            return True
    return False


# --- sampling ------------------------------------------------------------------------------


def _sample_value(sym: sp.Symbol, scope: Scope, rng: random.Random):
    if sym.name in scope.domains and scope.symbols.get(sym.name) == sym:
        return scope.domains[sym.name].sample(rng)
    if sym.is_positive:
        return sp.Rational(rng.randint(1, 3000), 1000)
    if sym.is_nonnegative:
        return sp.Rational(rng.randint(0, 3000), 1000)
    if sym.is_integer:
        return sp.Integer(rng.randint(0, 5))
    return sp.Rational(rng.randint(-3000, 3000), 1000)


def sample_points(facts: list[Fact], target: sp.Expr, scope: Scope, rng: random.Random,
                  wanted: int, tries: int):
    """Up to ``wanted`` random points (dicts over the atoms' symbols) where every fact holds:
    one symbol per fact is solved from a random slack; facts that cannot be solved for a
    symbol are kept by rejection."""
    mapping, slacks, rest = _eliminate(facts, target, [])
    symbols = set(target.free_symbols)
    for f in facts:
        symbols |= f.expr.free_symbols
    free = sorted((symbols - set(mapping)) | {s for s, _ in slacks}, key=lambda s: s.name)
    free = [s for s in free if s not in mapping]
    points = []
    for _ in range(tries):
        values = {}
        for s in free:
            if any(s == t for t, _ in slacks):
                values[s] = sp.Rational(rng.randint(0 if s.is_positive is not True else 1, 3000), 1000)
            else:
                values[s] = _sample_value(s, scope, rng)
        ok = True
        for x, v in mapping.items():
            val = _evaluate(v, values)
            if val is None:
                ok = False
                break
            num = sp.Rational(str(val)) if abs(val) < 10 ** 12 else None
            if num is None or (x.is_nonnegative and num < 0) or (x.is_positive and num <= 0):
                ok = False
                break
            values[x] = num
        if not ok:
            continue
        if not all(f.holds(values) for f in facts):
            continue
        points.append(values)
        if len(points) >= wanted:
            break
    return points


# --- lines and justifications ------------------------------------------------------------


@dataclass(frozen=True)
class Justification:
    kind: str                      # algebra hyp sum mean-min cauchy-schwarz am-gm jensen cited instances
    names: tuple[str, ...] = ()
    at: tuple[tuple[str, str], ...] = ()
    index: tuple[str, str, str] = ("", "", "")
    text: str = ""

    def words(self) -> str:
        """The justification as a teacher says it (plain words with math in $…$)."""
        return {"algebra": "algebra", "hyp": "the hypotheses " + ", ".join(self.names),
                "sum": "summing over $" + self.index[0] + "$",
                "mean-min": "the minimum is at most the mean",
                "cauchy-schwarz": "the Cauchy--Schwarz inequality", "am-gm": "the AM--GM inequality",
                "jensen": "Jensen's inequality", "instances": "tested on random instances",
                }.get(self.kind, self.text)


_HYP = re.compile(r"^hyp\s+([^,]+?(?:\s*,\s*[^,]+?)*?)(?:\s+at\s+([A-Za-z]\w*\s*=.+))?$")
_SUM = re.compile(r"^sum\s+([A-Za-z]\w*)\s*=\s*(.+?)\s*\.\.\s*(.+)$")


def parse_justification(text: str) -> Justification:
    """``by`` text → :class:`Justification` (a BadInput names what is wrong)."""
    if not isinstance(text, str) or not text.strip():
        raise BadInput("a step needs a justification: " + ", ".join(JUSTIFICATIONS))
    t = " ".join(text.split())
    low = t.lower()
    if low in ("algebra", "cauchy-schwarz", "am-gm", "jensen", "instances"):
        return Justification(low)
    if low in ("mean >= min", "min <= mean", "mean ≥ min"):
        return Justification("mean-min")
    if low.startswith("cited"):
        rest = t[5:].strip()
        if not rest:
            raise BadInput("'cited' needs the fact it cites, e.g. \"cited Lemma 3.1\"")
        from ...texsafe import check_latex_fragment
        check_latex_fragment(rest)
        return Justification("cited", text=rest)
    m = _HYP.match(t)
    if m:
        names = tuple(n.strip() for n in m.group(1).split(",") if n.strip())
        at = []
        if m.group(2):
            for part in m.group(2).split(","):
                if "=" not in part:
                    raise BadInput(f"cannot read 'at {m.group(2)}': write e.g. 'at k = 0'")
                name, value = part.split("=", 1)
                at.append((name.strip(), value.strip()))
        return Justification("hyp", names, tuple(at))
    m = _SUM.match(t)
    if m:
        return Justification("sum", index=(m.group(1), m.group(2), m.group(3)))
    raise BadInput(f"unknown justification {t!r} (use one of: {', '.join(JUSTIFICATIONS)})")


def split_relation(text: str) -> tuple[str | None, str | None, str]:
    """``text`` → (lhs or None, operator or None, rhs): ``<= x`` is (None, '<=', 'x')."""
    s = "".join(UNICODE.get(ch, ch) for ch in text).strip()
    depth = 0
    found = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch in "<>=" and not s.startswith("**", i):
            for op in OPERATORS:
                if s.startswith(op, i):
                    found.append((i, "=" if op == "==" else op, len(op)))
                    i += len(op)
                    break
            else:
                i += 1
            continue
        i += 1
    if not found:
        return None, None, s
    if len(found) > 1 and not (len(found) == 2 and found[0][0] == 0):
        raise BadInput(f"one relation per line: {text.strip()!r} has {len(found)}")
    if found[0][0] == 0:
        pos, op, n = found[0]
        rest = s[n:].strip()
        if len(found) == 2:
            if op not in ("=>", "<=>"):
                raise BadInput(f"{text.strip()!r}: a line continuing with {op} has one expression")
            _, op2, _ = found[1]
            lhs, _, rhs = split_relation(rest)
            return None, op, f"{lhs} {op2} {rhs}"
        return None, op, rest
    pos, op, n = found[0]
    if op in ("=>", "<=>"):
        raise BadInput(f"{text.strip()!r}: ⇒ and ⇔ start a line")
    return s[:pos].strip(), op, s[pos + n:].strip()


@dataclass(frozen=True)
class Step:
    """One parsed line: its form (start, cont, imp, iff, rel), expressions and justification."""

    number: int
    form: str
    op: str | None
    lhs: sp.Expr | None
    rhs: sp.Expr
    by: Justification | None
    text: str = ""
    name: str = ""
    source: str = ""   # ``from``: the named line it builds on (default: the line before)


def parse_step(number: int, text: str, by: str | None, ctx: Context, *, name: str = "",
               source: str = "") -> Step:
    lhs_t, op, rhs_t = split_relation(text)
    if op is None:
        form, lhs, rhs = "start", None, ctx.parse(rhs_t)
    elif lhs_t is None and op in ("=>", "<=>"):
        inner_l, inner_op, inner_r = split_relation(rhs_t)
        if inner_op is None or inner_l is None:
            raise BadInput(f"{text.strip()!r}: after {op} write a relation, e.g. {op} a <= b")
        form, lhs, rhs, op2 = ("imp" if op == "=>" else "iff"), ctx.parse(inner_l), ctx.parse(inner_r), inner_op
        return Step(number, form, op2, lhs, rhs, parse_justification(by) if by else None, text, name, source)
    elif lhs_t is None:
        form, lhs, rhs = "cont", None, ctx.parse(rhs_t)
    else:
        form, lhs, rhs = "rel", ctx.parse(lhs_t), ctx.parse(rhs_t)
    justification = parse_justification(by) if by is not None else None
    if form != "start" and justification is None:
        raise BadInput(f"step {number} needs a justification (by): " + ", ".join(JUSTIFICATIONS))
    return Step(number, form, op, lhs, rhs, justification, text, name, source)


# --- checking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What checking one line found."""

    step: Step
    relation: Relation | None      # what the line claims (prev rhs OP expr, or the relation)
    status: str                    # "proved", "tested", "cited", "start", "failed"
    reason: str = ""               # why it failed, in words (math in $…$)
    counterexample: str = ""       # the point, in the question's notation
    detail: str = ""               # what was checked (LaTeX)
    after: Relation | None = None  # the chain's relation after this line (first lhs … this rhs)

    @property
    def passed(self) -> bool:
        return self.status != "failed"


def _combine(op1: str, op2: str) -> str | None:
    if op1 == "=":
        return op2
    if op2 == "=":
        return op1
    up = {"<=", "<"}
    if (op1 in up) != (op2 in up):
        return None
    strict = "<" in (op1, op2) or ">" in (op1, op2)
    return ("<" if strict else "<=") if op1 in up else (">" if strict else ">=")


class ChainChecker:
    def __init__(self, ctx: Context, seed: str = "proof"):
        self.ctx = ctx
        self.seed = seed
        self.named: dict[str, Relation] = {}

    # facts a justification contributes -------------------------------------------------
    def _hyp(self, j: Justification, step: Step, claim: Relation | None = None,
             previous: Relation | None = None) -> list[Relation]:
        """The named hypotheses; one stated for every k (f(k) ≥ f̄) is also used at each index
        the line mentions (f(T + 1) ≥ f̄), unless ``at`` says which."""
        out = []
        for name in j.names:
            if name in self.ctx.given:
                rel = self.ctx.given[name]
            elif name in self.named:
                rel = self.named[name]
            else:
                raise BadInput(f"step {step.number}: 'hyp {name}': no hypothesis or named step "
                               f"{name!r} (known: {', '.join(sorted(self.ctx.given) + sorted(self.named)) or 'none'})")
            if j.at:
                mapping = {}
                for var, value in j.at:
                    mapping[self.ctx.scope.symbol(var)] = self.ctx.parse(value)
                rel = rel.subs(mapping)
            out.append(rel)
            if not j.at and claim is not None:
                out += self._instances_of(rel, claim, previous)
        return out

    def _instances_of(self, rel: Relation, claim: Relation, previous: Relation | None) -> list[Relation]:
        mentioned = set()
        for r in (claim, previous):
            if r is not None:
                for side in (r.lhs, r.rhs):
                    mentioned |= {a for a in side.atoms(AppliedUndef) if a.func.__name__ in self.ctx.sequences}
        out = []
        for app in {a for side in (rel.lhs, rel.rhs) for a in side.atoms(AppliedUndef)}:
            arg = app.args[0]
            for k in arg.free_symbols:
                offset = sp.expand(arg - k)
                if k in offset.free_symbols or not self.ctx.is_index(k, rel):
                    continue
                for other in mentioned:
                    if other.func == app.func and other != app:
                        value = sp.expand(other.args[0] - offset)
                        instance = rel.subs({k: value})
                        if instance not in out and instance != rel:
                            out.append(instance)
        return out[:12]

    def _generated(self, kind: str, relation: Relation, previous: Relation | None) -> list[Fact]:
        """Instances of a named inequality found in the line (each checked where it is made)."""
        exprs = [relation.lhs, relation.rhs] + ([previous.lhs, previous.rhs] if previous else [])
        out = []
        if kind == "mean-min":
            for e in exprs:
                for node in sp.preorder_traversal(e):
                    if isinstance(node, Minimum):
                        body, k, a, b = node.args
                        out.append(Fact(sp.Sum(body, (k, a, b)) / node.terms() - node, "ge"))
        elif kind == "am-gm":
            for e in (relation.lhs, relation.rhs):
                if e.is_Add and len(e.args) >= 2 and all(decided(Fact(t, "ge")) for t in e.args):
                    n = len(e.args)
                    out.append(Fact(e - n * sp.Mul(*e.args) ** sp.Rational(1, n), "ge"))
        elif kind == "cauchy-schwarz":
            for e in (relation.lhs, relation.rhs):
                dot = e.base if (e.is_Pow and e.exp == 2 and e.base.is_Add) else (
                    e.args[0] if isinstance(e, sp.Abs) else e if e.is_Add else None)
                if dot is None:
                    continue
                pairs = []
                for t in sp.Add.make_args(sp.expand(dot)):
                    c, rest = t.as_coeff_Mul()
                    fs = sp.Mul.make_args(rest)
                    if len(fs) < 2:
                        pairs = []
                        break
                    pairs.append((c * fs[0], sp.Mul(*fs[1:])))
                if len(pairs) < 2:
                    continue
                a2 = sum(p[0] ** 2 for p in pairs)
                b2 = sum(p[1] ** 2 for p in pairs)
                lagrange = sum((pairs[i][0] * pairs[j][1] - pairs[j][0] * pairs[i][1]) ** 2
                               for i in range(len(pairs)) for j in range(i + 1, len(pairs)))
                if not symbolic_zero(sp.expand(a2 * b2 - dot ** 2 - lagrange)):
                    continue
                out.append(Fact(a2 * b2 - dot ** 2, "ge"))
                out.append(Fact(sp.sqrt(a2) * sp.sqrt(b2) - sp.Abs(dot), "ge"))
                out.append(Fact(sp.sqrt(a2) * sp.sqrt(b2) - dot, "ge"))
        elif kind == "jensen":
            out += self._jensen(relation)
        return out

    def _jensen(self, relation: Relation) -> list[Fact]:
        out = []
        for a, b in ((relation.lhs, relation.rhs), (relation.rhs, relation.lhs)):
            if isinstance(a, sp.Pow) and a.exp.is_number:
                u = sp.Dummy("u", real=True)
                phi, m = u ** a.exp, a.base
            elif isinstance(a, (sp.exp, sp.log)) or (isinstance(a, sp.Function) and len(a.args) == 1):
                u = sp.Dummy("u", real=True)
                phi, m = a.func(u), a.args[0]
            else:
                continue
            w, x = sp.Wild("w"), sp.Wild("x")
            weights, points = [], []
            for t in sp.Add.make_args(b):
                match = t.match(w * phi.subs(u, x))
                if not match or match.get(x) is None:
                    break
                weights.append(match.get(w, sp.Integer(1)))
                points.append(match[x])
            else:
                if len(weights) < 2 or not symbolic_zero(sum(weights) - 1):
                    continue
                if not all(decided(Fact(wi, "ge")) for wi in weights):
                    continue
                if not symbolic_zero(sp.expand(sum(wi * xi for wi, xi in zip(weights, points)) - m)):
                    continue
                nonneg = all(decided(Fact(p, "ge")) for p in points)
                v = sp.Dummy("v", positive=nonneg or None, real=True)   # the open domain
                second = sp.diff(phi, u, 2).subs(u, v)
                if decided(Fact(second, "ge")):
                    out.append(Fact(b - a, "ge"))
                elif decided(Fact(-second, "ge")):
                    out.append(Fact(a - b, "ge"))
        return out

    # one line --------------------------------------------------------------------------
    def check(self, steps: list[Step]) -> list[Verdict]:
        verdicts: list[Verdict] = []
        current: Relation | None = None
        start: sp.Expr | None = None
        for step in steps:
            if step.source:
                if step.source not in self.named:
                    raise BadInput(f"step {step.number}: from {step.source!r}: no earlier step has that name")
                current, start = self.named[step.source], None
            verdict, current, start = self._line(step, current, start)
            from dataclasses import replace
            verdict = replace(verdict, after=current)
            verdicts.append(verdict)
            if step.name and current is not None:
                self.named[step.name] = current
            if not verdict.passed:
                break
        return verdicts

    def _line(self, step: Step, current: Relation | None, start):
        if step.form == "start":
            if step.number != 1 and step.by is None:
                raise BadInput(f"step {step.number}: a line without a relation can only start the proof")
            return Verdict(step, None, "start"), None, step.rhs
        previous = None
        if step.form == "cont":
            if current is None and start is None:
                raise BadInput(f"step {step.number}: {step.op} continues a line, but there is none before it")
            left = start if current is None else current.rhs
            claim = Relation(left, step.op, step.rhs)
            first = start if current is None else current.lhs
            combined = step.op if current is None else _combine(current.op, step.op)
            if combined is None:
                return (Verdict(step, claim, "failed",
                                "the chain mixes $\\le$ and $\\ge$, so it proves nothing about its two ends"),
                        current, start)
            after = Relation(first, combined, step.rhs)
        else:
            claim = Relation(step.lhs, step.op, step.rhs)
            after = claim
            if step.form in ("imp", "iff"):
                if current is None:
                    raise BadInput(f"step {step.number}: {'⇒' if step.form == 'imp' else '⇔'} follows "
                                   "a relation, but there is none before it")
                previous = current
        return self._judge(step, claim, previous), after, None

    def _judge(self, step: Step, claim: Relation, previous: Relation | None) -> Verdict:
        conflict = self._index_conflict(claim)
        if conflict:
            # the index read as a letter of its own: is there a point where the line fails?
            used = {s.name for s in claim.lhs.free_symbols | claim.rhs.free_symbols}
            fresh = sp.Symbol(next(n for n in ("j", "i", "m", "n", "l") if n not in used), integer=True)

            def rebind(e):
                e = e.replace(lambda x: isinstance(x, Minimum),
                              lambda x: Minimum(x.args[0].subs(x.args[1], fresh), fresh, x.args[2], x.args[3]))
                return e.replace(lambda x: isinstance(x, sp.Sum),
                                 lambda x: sp.Sum(x.function.subs(x.limits[0][0], fresh),
                                                  (fresh, x.limits[0][1], x.limits[0][2])))
            other = self._judge_core(step, Relation(rebind(claim.lhs), claim.op, rebind(claim.rhs)), previous)
            return Verdict(step, claim, "failed", conflict, other.counterexample if not other.passed else "")
        return self._judge_core(step, claim, previous)

    def _judge_core(self, step: Step, claim: Relation, previous: Relation | None) -> Verdict:
        ctx, j = self.ctx, step.by
        if j.kind == "cited":
            return Verdict(step, claim, "cited", detail=j.text)
        hyps = self._hyp(j, step, claim, previous) if j.kind == "hyp" else []
        if j.kind == "sum":
            return self._sum(step, claim, previous)
        facts = [h.fact() for h in hyps]
        generated = self._generated(j.kind, claim, previous) if j.kind in (
            "mean-min", "am-gm", "cauchy-schwarz", "jensen") else []
        if j.kind in ("am-gm", "cauchy-schwarz", "jensen") and not generated:
            return Verdict(step, claim, "failed",
                           f"the line is not an instance of {j.words()} that could be recognised")
        directions = [(claim, ([previous] if previous else []))]
        if step.form == "iff":
            directions.append((previous, [claim]))
        rng = random.Random(f"{self.seed}/{step.number}")
        for target, extra in directions:
            atoms = Atoms()
            t = Fact(atoms(target.fact().expr), target.fact().kind)
            fs = [Fact(atoms(f.expr), f.kind) for f in facts + [r.fact() for r in extra] + generated]
            world = fs + [Fact(atoms(h.fact().expr), h.fact().kind) for h in ctx.given.values()]
            symbolic = j.kind != "instances" and follows(t, fs, ctx.scope)
            points = sample_points(world if not symbolic else fs, t.expr, ctx.scope, rng, SAMPLES, SAMPLES * 5)
            if symbolic and len(points) < SAMPLES // 4:
                points = sample_points(fs, t.expr, ctx.scope, rng, SAMPLES, SAMPLES * 5)
            bad = next((p for p in points if t.holds(p) is False), None)
            if bad is None and not symbolic:
                more = sample_points(world, t.expr, ctx.scope, rng, SEARCH, SEARCH * 3)
                bad = next((p for p in more if t.holds(p) is False), None)
                if bad is None and j.kind == "instances" and len(more) >= SAMPLES:
                    return Verdict(step, claim, "tested",
                                   detail=f"{len(more)} random points satisfying the hypotheses")
            which = "" if target is claim else "the converse: "
            if bad is not None:
                return Verdict(step, claim, "failed",
                               f"{which}${target.latex(ctx)}$ does not follow"
                               + (f" from {j.words()}" if j.kind not in ("algebra", "instances") else ""),
                               self._point(bad, atoms))
            if not symbolic:
                why = ("it does not follow" if j.kind == "instances" and not points else
                       "SymPy could not derive it")
                return Verdict(step, claim, "failed",
                               f"{which}${target.latex(ctx)}$: {why} from "
                               + (j.words() if j.kind not in ("algebra", "instances") else "the assumptions by algebra")
                               + (f" (no counterexample among {SEARCH} random points either)" if j.kind != "instances" else ""))
        detail = f"{len(points)} random points" if points else ""
        return Verdict(step, claim, "proved", detail=detail)

    def _sum(self, step: Step, claim: Relation, previous: Relation | None) -> Verdict:
        ctx = self.ctx
        if previous is None:
            return Verdict(step, claim, "failed", "a sum needs the inequality for each $k$ on the line before (start the line with ⇒)")
        k_name, lo_t, hi_t = step.by.index
        k = ctx.scope.symbol(k_name)
        lo, hi = ctx.parse(lo_t), ctx.parse(hi_t)
        old, new = previous.fact(), claim.fact()
        if old.kind != new.kind and not (old.kind == "gt" and new.kind == "ge"):
            return Verdict(step, claim, "failed", "summing keeps the kind of the relation")
        summed = sum_over(old.expr, k, lo, hi)
        written = sp.expand(new.expr.replace(lambda e: isinstance(e, sp.Sum),
                                             lambda e: sum_over(e.function, *e.limits[0])))
        gap = sp.expand(written - summed)
        if not symbolic_zero(gap):
            ratio = sp.cancel(written / summed) if summed != 0 else None
            if ratio is None or ratio.free_symbols or not ratio.is_positive:
                return Verdict(step, claim, "failed",
                               f"summing ${previous.latex(ctx)}$ over ${ctx.latex(k)} = {ctx.latex(lo)}, \\dots, "
                               f"{ctx.latex(hi)}$ gives ${ctx.latex(summed)} \\ge 0$, not this line")
        # numerically: random lengths and random sequences (the identity, term by term)
        rng = random.Random(f"{self.seed}/{step.number}")
        if symbolic_zero(gap) and hi.is_Symbol and lo.is_Integer:
            for _ in range(6):
                sub = {hi: lo + rng.randint(0, 5)}
                table: dict = {}

                def concrete(e):
                    e = e.subs(sub).doit()
                    return e.replace(lambda a: isinstance(a, AppliedUndef) and a.args[0].is_number,
                                     lambda a: table.setdefault(a, sp.Rational(
                                         rng.randint(0 if a.is_nonnegative else -3000, 3000), 1000)))
                a_e = concrete(new.expr)
                b_e = concrete(sp.Sum(old.expr, (k, lo, hi)))
                values = {s: _sample_value(s, ctx.scope, rng)
                          for s in (a_e.free_symbols | b_e.free_symbols)}
                a, b = _evaluate(a_e, values), _evaluate(b_e, values)
                if a is None or b is None or abs(a - b) > 1e-15 * (1 + abs(a)):
                    return Verdict(step, claim, "failed",
                                   f"the sum does not match at {ctx.latex(hi)} = {sub[hi]}")
        return Verdict(step, claim, "proved", detail=f"the sum of the line before over {k_name}")

    def _index_conflict(self, relation: Relation) -> str:
        free = relation.lhs.free_symbols | relation.rhs.free_symbols
        for side in (relation.lhs, relation.rhs):
            for node, k in _bound_index(side):
                if k in free:
                    what = "minimum" if isinstance(node, Minimum) else "sum"
                    return (f"${self.ctx.latex(k)}$ is the index of the {what} "
                            f"${self.ctx.latex(node)}$ and also stands outside it, so the line "
                            f"does not say which ${self.ctx.latex(k)}$ is meant (use another letter "
                            f"for the index, or the bound that holds for every ${self.ctx.latex(k)}$)")
        return ""

    def _point(self, values: dict, atoms: Atoms) -> str:
        back = atoms.back()
        parts = []
        for s, v in sorted(values.items(), key=lambda kv: kv[0].name):
            if isinstance(s, sp.Dummy) and s not in back:
                continue
            shown = back.get(s, s)
            num = sp.nsimplify(v) if isinstance(v, sp.Basic) else v
            value = sp.Rational(num) if isinstance(num, sp.Rational) else num
            parts.append(f"{self.ctx.latex(shown)} = {self.ctx.latex(_shown_number(value))}")
        return ("$" + ",\\ ".join(parts) + "$") if parts else "every value (the line is false)"


def _shown_number(value) -> sp.Basic:
    """A sampled value as a counterexample shows it: an integer as it is, anything else as a
    fraction close to it (a sample may be an irrational power: 7**(15/49) …)."""
    value = sp.sympify(value, strict=True)
    if isinstance(value, sp.Integer):
        return value
    if not value.is_Rational:
        value = sp.Rational(str(float(value)))
    return value.limit_denominator(1000)


def check_lines(ctx: Context, steps: list[Step], seed: str = "proof") -> list[Verdict]:
    """Check ``steps`` in order; the list stops at the first line that fails."""
    return ChainChecker(ctx, seed).check(steps)


# --- students' chains ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainResult:
    """The verdicts line by line; ``failed`` is the first line that does not follow (or None)."""

    verdicts: tuple[Verdict, ...]

    @property
    def failed(self) -> Verdict | None:
        return next((v for v in self.verdicts if not v.passed), None)

    @property
    def ok(self) -> bool:
        return self.failed is None

    def report(self) -> list[dict]:
        """One plain entry per line checked: {"line", "status", "reason", "counterexample"}
        (reason and counterexample are LaTeX in $…$, empty when the line passed)."""
        return [{"line": v.step.number, "status": v.status, "reason": v.reason,
                 "counterexample": v.counterexample} for v in self.verdicts]


def make_context(symbols: dict[str, str] | None = None, given: dict[str, str] | None = None,
                 sequences: dict[str, str] | None = None, notation: dict[str, str] | None = None) -> Context:
    """A context from plain data: ``symbols`` name → assumption (``"positive"``, ``"0 < a < 1"``),
    ``given`` name → relation, ``sequences`` name → real/nonnegative/positive, ``notation``
    name → LaTeX (a sequence's LaTeX has ``?`` where its index goes: ``f(\\theta^{?})``)."""
    scope = Scope({n: parse_assumption(n, t) for n, t in (symbols or {}).items()})
    for name, kind in (sequences or {}).items():
        if kind not in SEQUENCE_KINDS:
            raise BadInput(f"sequence {name}: use one of {', '.join(SEQUENCE_KINDS)}")
    notation = dict(notation or {})
    seqs = dict(sequences or {})
    ctx = Context(scope, seqs, {}, {n: v for n, v in notation.items() if n not in seqs},
                  {n: v for n, v in notation.items() if n in seqs})
    for name, text in (given or {}).items():
        lhs, op, rhs = split_relation(text)
        if op not in RELATIONS or lhs is None:
            raise BadInput(f"given {name}: expected a relation such as 'a <= b', got {text!r}")
        ctx.given[name] = Relation(ctx.parse(lhs), op, ctx.parse(rhs))
    return ctx


def check_chain(lines: list[str], *, given: dict[str, str] | None = None,
                symbols: dict[str, str] | None = None, sequences: dict[str, str] | None = None,
                notation: dict[str, str] | None = None, by: list[str | None] | None = None,
                seed: str = "student", context: Context | None = None) -> ChainResult:
    """Check a student's chain: ``lines`` are relations in plain math or LaTeX, one per line
    (a line may start with = ≤ ≥ ⇒ ⇔ to continue the one before). A line with no stated
    justification may use any hypothesis (and the line before). Returns every verdict up to
    the first line that does not follow, which :attr:`ChainResult.failed` names with the
    reason and, where one was found, a counterexample.

    ``context`` (instead of the four tables) is a written proof's own, from
    :func:`symderiv.derive.proofs.written.context`: the student's chain is then read in the
    question's notation and may use the question's hypotheses.

    Raises:
        BadInput: a line cannot be read (the message names the line).
    """
    key = None
    if context is None:   # the same chain under the same tables: the same verdicts (seeded points)
        key = (tuple(lines), tuple(by or ()), seed) + tuple(
            tuple(sorted((table or {}).items())) for table in (given, symbols, sequences, notation))
        if key in _CHAINS:
            return _CHAINS[key]
    ctx = context or make_context(symbols, given, sequences, notation)
    hyp = ("hyp " + ", ".join(ctx.given)) if ctx.given else "algebra"
    steps = []
    for i, text in enumerate(lines, start=1):
        stated = by[i - 1] if by and i - 1 < len(by) else None
        try:
            plain = latex_to_plain(text, ctx) if "\\" in text or "{" in text else text
            steps.append(parse_step(i, plain, stated or (hyp if i > 1 or split_relation(plain)[1] else None), ctx))
        except BadInput as exc:
            raise BadInput(f"line {i}: {exc.message}") from None
    result = ChainResult(tuple(check_lines(ctx, steps, seed)))
    if key is not None:
        _CHAINS[key] = result
    return result


# a chain's verdicts, per process: a registered theorem's steps are checked in every key (and
# every variant) that uses it, with the same lines and tables (memo.clear() empties it)
_CHAINS: dict = memo.cache()


# --- LaTeX → plain math (for students' lines) ----------------------------------------------

_LATEX_OPS = [(r"\Leftrightarrow", " <=> "), (r"\iff", " <=> "), (r"\Longleftrightarrow", " <=> "),
              (r"\Rightarrow", " => "), (r"\implies", " => "), (r"\Longrightarrow", " => "),
              (r"\leqslant", " <= "), (r"\geqslant", " >= "), (r"\leq", " <= "), (r"\geq", " >= "),
              (r"\le", " <= "), (r"\ge", " >= "), (r"\cdot", " * "), (r"\times", " * "),
              (r"\left", " "), (r"\right", " "), (r"\bigl", " "), (r"\bigr", " "), (r"\Bigl", " "),
              (r"\Bigr", " "), (r"\big", " "), (r"\Big", " "), (r"\,", " "), (r"\;", " "), (r"\!", " "),
              (r"\quad", " "), (r"\qquad", " "), (r"\displaystyle", " ")]


def _group(text: str, i: int) -> tuple[str, int]:
    """The braced group starting at ``text[i] == '{'``, and the index after it."""
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j], j + 1
    raise BadInput("unbalanced braces")


def _arg(text: str, i: int) -> tuple[str, int]:
    while i < len(text) and text[i] == " ":
        i += 1
    if i < len(text) and text[i] == "{":
        return _group(text, i)
    if i < len(text) and text[i] == "\\":
        m = re.match(r"\\[A-Za-z]+", text[i:])
        return m.group(0), i + len(m.group(0))
    return text[i:i + 1], i + 1


def _operand_end(text: str, i: int) -> int:
    """Where the operand of a \\min or \\sum that starts at ``i`` ends: the next relation or
    closing bracket at its level."""
    depth = 0
    j = i
    while j < len(text):
        ch = text[j]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                return j
            depth -= 1
        elif depth == 0 and (ch in "<>=" or (ch in "+-" and j > i and text[i:j].strip())):
            return j
        j += 1
    return j


def latex_to_plain(text: str, ctx: Context) -> str:
    """A student's LaTeX line → the plain syntax of the safe parser (never run as code):
    the question's notation (``\\|\\nabla f(\\theta^k)\\|^2``, ``\\bar f``) read back as its
    names, \\frac, \\min_{a \\le k \\le b}, \\sum_{k=a}^{b}, implicit products."""
    s = text.strip().strip("$").strip()
    s = re.sub(r"^\\\[|\\\]$", "", s).strip()
    s = re.sub(r"\\(left|right|bigl|bigr|Bigl|Bigr|big|Big)(?![A-Za-z])", " ", s)
    # a numbered name: x_1, x_{1} is the plain x1 (a command's subscript, \sum_{…}, is not)
    s = re.sub(r"(?<![\\A-Za-z])([A-Za-z])_(?:\{(\d+)\}|(\d))",
               lambda m: m.group(1) + (m.group(2) or m.group(3)), s)

    def norm(t):
        return re.sub(r"(?<![A-Za-z])\s+|\s+(?![A-Za-z])", "", re.sub(r"\s+", " ", t))
    s = norm(s)
    # the question's notation read back as names, longest first: sequences (? marks the index;
    # a norm ‖c·v‖² of a multiple is read as c²‖v‖²), then symbols
    index = r"(\{[^{}]*\}|[A-Za-z0-9])"
    for name, template in sorted(ctx.seq_latex.items(), key=lambda kv: -len(kv[1])):
        t = norm(template)
        pieces = t.split("{?}") if "{?}" in t else t.split("?")
        if len(pieces) != 2:
            continue
        if pieces[0].startswith(r"\|") and pieces[1].endswith(r"\|^2"):
            inner = (re.escape(pieces[0][2:]) + index + re.escape(pieces[1][:-4]))
            s = re.sub(r"\\\|([^|]+?)" + inner + r"\\\|\^(?:2|\{2\})",
                       lambda m: f" (({m.group(1)}))**2*{name}({m.group(2).strip('{}')}) ", s)
        pattern = re.escape(pieces[0]) + index + re.escape(pieces[1])
        s = re.sub(pattern, lambda m: f" {name}({m.group(1).strip('{}')}) ", s)
    for name, latex in sorted(ctx.names.items(), key=lambda kv: -len(kv[1])):
        s = s.replace(norm(latex), f" {name} ")
    for a, b in _LATEX_OPS:
        s = re.sub(re.escape(a) + r"(?![A-Za-z])", b, s)
    out = []
    i = 0
    while i < len(s):
        if s.startswith(r"\frac", i):
            num, i = _arg(s, i + 5)
            den, i = _arg(s, i)
            out.append(f"(({num})/({den}))")
            continue
        if s.startswith(r"\min_", i) or s.startswith(r"\sum_", i):
            which = "minimum" if s.startswith(r"\min", i) else "sum"
            sub, i = _arg(s, i + 5)
            upper = None
            if which == "sum" and i < len(s) and s[i] == "^":
                upper, i = _arg(s, i + 1)
            end = _operand_end(s, i)
            body = latex_to_plain(s[i:end], ctx)
            i = end
            if which == "minimum":
                m = re.match(r"^(.+?)<=([A-Za-z]\w*)<=(.+)$", latex_to_plain(sub, ctx).replace(" ", ""))
                if not m:
                    raise BadInput(f"cannot read the range of \\min_{{{sub}}}: write \\min_{{1 \\le k \\le T}}")
                out.append(f" minimum({body}, {m.group(2)}, {m.group(1)}, {m.group(3)}) ")
            else:
                m = re.match(r"^([A-Za-z]\w*)=(.+)$", sub.replace(" ", ""))
                if not m or upper is None:
                    raise BadInput(f"cannot read the range of \\sum_{{{sub}}}: write \\sum_{{k=1}}^{{T}}")
                out.append(f" sum({body}, {m.group(1)}, {latex_to_plain(m.group(2), ctx)}, {latex_to_plain(upper, ctx)}) ")
            continue
        if s.startswith("\\", i):
            m = re.match(r"\\([A-Za-z]+)", s[i:])
            if not m:
                raise BadInput(f"cannot read {s[i:i + 10]!r}")
            word = m.group(1)
            if word in ("exp", "log", "ln", "sqrt", "sin", "cos", "tanh", "max", "min"):
                out.append(f" {word}")
            elif word in ("sigma", "alpha", "beta", "eta", "tau", "lambda", "mu", "theta", "gamma", "delta", "epsilon"):
                out.append(f" {'lam' if word == 'lambda' else word} ")
            else:
                raise BadInput(f"the command \\{word} is not understood here")
            i += len(m.group(0))
            continue
        ch = s[i]
        out.append({"{": "(", "}": ")", "[": "(", "]": ")", "^": "**"}.get(ch, ch))
        i += 1
    plain = "".join(out)
    return _implicit_products(plain, ctx)


_FUNCS = set(ELEMENTARY) | {"sum", "minimum"}


def _implicit_products(text: str, ctx: Context) -> str:
    tokens = re.findall(r"\d+\.?\d*|[A-Za-z_]\w*|<=>|=>|<=|>=|\*\*|\S", text)
    out = []
    prev = None
    for tok in tokens:
        atom_start = tok[0].isalnum() or tok == "("
        if prev is not None and atom_start:
            prev_end = prev[-1].isalnum() or prev == ")"
            if prev_end and not (tok == "(" and (prev in _FUNCS or prev in ctx.sequences)):
                out.append("*")
        out.append(tok)
        prev = tok
    return " ".join(out)
