"""Assumptions on symbols: ``"positive"``, ``"0 < a < 1"`` … → SymPy symbols and sample points.

A :class:`Domain` is an interval (possibly unbounded, possibly integer). It gives the symbol
its SymPy assumptions, the facts the new assumptions system can reason with (``ask``), and
random sample points for numeric checks that respect the assumption.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import sympy as sp

from . import memo
from .errors import BadInput

KEYWORDS = ("positive", "nonnegative", "negative", "real", "integer")
_OPS = re.compile(r"(<=|>=|<|>)")
# Unbounded domains are sampled in a window where every activation is well away from
# underflow yet still shows its curvature.
SAMPLE_WINDOW = 3


@dataclass(frozen=True)
class Domain:
    """The set a symbol ranges over: an interval of the reals, optionally integers only."""

    name: str
    lower: sp.Rational | None = None
    upper: sp.Rational | None = None
    lower_open: bool = True
    upper_open: bool = True
    integer: bool = False

    def symbol(self) -> sp.Symbol:
        """The SymPy symbol carrying every assumption SymPy's old system can hold."""
        kw: dict[str, bool] = {"real": True}
        if self.integer:
            kw["integer"] = True
        if self.lower is not None:
            if self.lower > 0 or (self.lower == 0 and self.lower_open):
                kw["positive"] = True
            elif self.lower == 0:
                kw["nonnegative"] = True
        if self.upper is not None:
            if self.upper < 0 or (self.upper == 0 and self.upper_open):
                kw["negative"] = True
            elif self.upper == 0:
                kw["nonpositive"] = True
        return sp.Symbol(self.name, **kw)

    def facts(self, sym: sp.Symbol) -> sp.Basic:
        """The domain as a predicate for ``sympy.ask`` (which handles a < 1 where Symbol can't)."""
        facts = [sp.Q.real(sym)]
        if self.integer:
            facts.append(sp.Q.integer(sym))
        if self.lower is not None:
            facts.append(sp.Q.gt(sym, self.lower) if self.lower_open else sp.Q.ge(sym, self.lower))
        if self.upper is not None:
            facts.append(sp.Q.lt(sym, self.upper) if self.upper_open else sp.Q.le(sym, self.upper))
        return sp.And(*facts)

    def interval(self) -> sp.Set:
        lo = self.lower if self.lower is not None else -sp.oo
        hi = self.upper if self.upper is not None else sp.oo
        return sp.Interval(lo, hi, self.lower_open, self.upper_open)

    def sample(self, rng: random.Random) -> sp.Rational:
        """A random rational point strictly inside the domain."""
        lo = float(self.lower) if self.lower is not None else None
        hi = float(self.upper) if self.upper is not None else None
        if lo is None and hi is None:
            lo, hi = -SAMPLE_WINDOW, SAMPLE_WINDOW
        elif lo is None:
            lo = hi - 2 * SAMPLE_WINDOW
        elif hi is None:
            hi = lo + 2 * SAMPLE_WINDOW
        if self.integer:
            first, last = int(sp.ceiling(lo)), int(sp.floor(hi))
            if self.lower_open and first == lo:
                first += 1
            if self.upper_open and last == hi:
                last -= 1
            return sp.Integer(rng.randint(first, max(first, last)))
        # keep a margin from the ends so that open ends are respected
        margin = (hi - lo) * 0.05
        value = rng.uniform(lo + margin, hi - margin)
        return sp.Rational(round(value * 1000), 1000) if (hi - lo) > 0.1 else sp.nsimplify(value)

    def describe(self) -> str:
        """A LaTeX description such as ``0 < a < 1``."""
        parts = []
        name = sp.latex(sp.Symbol(self.name))
        less, less_eq = "<", r"\le"
        if self.lower is not None:
            op = less if self.lower_open else less_eq
            parts.append(f"{sp.latex(self.lower)} {op} ")
        parts.append(name)
        if self.upper is not None:
            op = less if self.upper_open else less_eq
            parts.append(f" {op} {sp.latex(self.upper)}")
        text = "".join(parts)
        if self.integer:
            text += r",\ " + name + r" \in \mathbb{Z}"
        if self.lower is None and self.upper is None and not self.integer:
            text = name + r" \in \mathbb{R}"
        return text


def parse_assumption(name: str, text: str) -> Domain:
    """Read one assumption: a keyword or a chain of inequalities around ``name``."""
    if not isinstance(text, str):
        raise BadInput(f"assumption must be a string, got {type(text).__name__}")
    spec = text.strip()
    if spec == "real":
        return Domain(name)
    if spec == "positive":
        return Domain(name, lower=sp.Integer(0))
    if spec == "nonnegative":
        return Domain(name, lower=sp.Integer(0), lower_open=False)
    if spec == "negative":
        return Domain(name, upper=sp.Integer(0))
    if spec == "integer":
        return Domain(name, integer=True)
    pieces = [p.strip() for p in _OPS.split(spec)]
    if len(pieces) not in (3, 5):
        raise BadInput(f"cannot read assumption {text!r}: use one of {', '.join(KEYWORDS)} "
                       f"or an inequality such as '0 < {name} < 1'")
    terms, ops = pieces[0::2], pieces[1::2]
    if terms.count(name) != 1:
        raise BadInput(f"assumption {text!r} must mention {name!r} exactly once")
    from .parse import parse_expression  # local: parse imports nothing from here

    values = {}
    for i, term in enumerate(terms):
        if term == name:
            continue
        value = parse_expression(term)
        if not (value.is_number and value.is_real and value.is_finite):
            raise BadInput(f"assumption {text!r}: {term!r} is not a finite number")
        values[i] = sp.nsimplify(value)
    lower = upper = None
    lower_open = upper_open = True
    for k, op in enumerate(ops):
        left, right = k, k + 1
        less = op in ("<", "<=")
        strict = op in ("<", ">")
        if terms[left] == name:  # name OP value
            if less:
                upper, upper_open = values[right], strict
            else:
                lower, lower_open = values[right], strict
        elif terms[right] == name:  # value OP name
            if less:
                lower, lower_open = values[left], strict
            else:
                upper, upper_open = values[left], strict
        else:
            raise BadInput(f"assumption {text!r}: each inequality must involve {name!r}")
    if lower is not None and upper is not None and lower >= upper:
        raise BadInput(f"assumption {text!r} describes an empty set")
    return Domain(name, lower, upper, lower_open, upper_open)


_SIGNS: dict = memo.cache()  # (expression, domains) -> sign: the same kinks recur in every file


def _free(positive: bool) -> sp.Dummy:
    """t > 0 (an open end) or t ≥ 0 (a closed one)."""
    return sp.Dummy("t", positive=True) if positive else sp.Dummy("t", nonnegative=True)


class Scope:
    """The symbols of one problem with their domains: one Symbol object per name."""

    def __init__(self, domains: dict[str, Domain] | None = None):
        self.domains: dict[str, Domain] = dict(domains or {})
        self.symbols: dict[str, sp.Symbol] = {n: d.symbol() for n, d in self.domains.items()}

    def with_defaults(self, defaults: dict[str, str]) -> "Scope":
        """A scope that also knows ``defaults`` (name → assumption) for names not set here."""
        scope = Scope(self.domains)
        scope.adopt(defaults)
        return scope

    def adopt(self, defaults: dict[str, str]) -> None:
        """Know ``defaults`` (name → assumption) from now on, for names not set yet: the
        parameters of a registry function called inside an instructor's own expression
        (β of softplus) are sampled inside their domain like any other name."""
        for name, text in defaults.items():
            if name not in self.domains:
                self.domains[name] = parse_assumption(name, text)
                self.symbols[name] = self.domains[name].symbol()

    def symbol(self, name: str) -> sp.Symbol:
        if name not in self.symbols:
            self.domains[name] = Domain(name)
            self.symbols[name] = self.domains[name].symbol()
        return self.symbols[name]

    def domain_of(self, sym: sp.Symbol) -> Domain:
        return self.domains.get(sym.name, Domain(sym.name))

    def facts(self) -> sp.Basic:
        return sp.And(*(d.facts(self.symbols[n]) for n, d in self.domains.items()))

    def sign(self, expr: sp.Basic) -> int | None:
        """+1, -1 or 0 when the assumptions decide the sign of ``expr``; None otherwise."""
        key = (expr, frozenset(self.domains.values()))
        if key not in _SIGNS:
            _SIGNS[key] = self._sign(expr)
        return _SIGNS[key]

    def _sign(self, expr: sp.Basic) -> int | None:
        expr = sp.simplify(expr)
        if expr.is_zero:
            return 0
        if expr.is_positive:
            return 1
        if expr.is_negative:
            return -1
        moved = self._moved_sign(expr)
        if moved is not None:
            return moved
        facts = self.facts()
        try:
            verdict = next((s for s, q in ((1, sp.Q.positive), (-1, sp.Q.negative), (0, sp.Q.zero))
                            if sp.ask(q(expr), facts)), None)
        except ValueError:   # "Inconsistent assumptions" on consistent ones (see below)
            return None
        return verdict if verdict is None or self._agrees(expr, verdict) else None

    def _moved_sign(self, expr: sp.Basic) -> int | None:
        """+1 or −1 when ``expr`` has that sign once each symbol of a real interval that its
        SymPy assumptions do not hold (0 < a < 1, a > 2, 0 ≤ a ≤ 1) is written exactly through
        a free t ≥ 0 or t > 0 (a = t/(1 + t), a = 2 + t) over one denominator: 1 − a becomes
        1/(1 + t), whose sign SymPy's old assumptions decide in microseconds where ``ask``
        takes a tenth of a second. [lo, hi] is [lo, hi) through t ≥ 0 and its end hi on its
        own. None when nothing moves or the sign stays open."""
        mapping, ends = {}, []
        for sym in expr.free_symbols:
            d = self.domains.get(sym.name)
            if d is None or self.symbols.get(sym.name) != sym or d.integer:
                continue
            lo, hi = d.lower, d.upper
            if lo is not None and hi is not None:
                frac = (hi - lo) * (t := _free(d.lower_open and d.upper_open)) / (1 + t)
                mapping[sym] = hi - frac if d.lower_open and not d.upper_open else lo + frac
                if not d.lower_open and not d.upper_open:
                    ends.append((sym, hi))
            elif lo is not None and lo != 0:
                mapping[sym] = lo + _free(d.lower_open)
            elif hi is not None and hi != 0:
                mapping[sym] = hi - _free(d.upper_open)
        if not mapping:
            return None
        try:
            moved = sp.factor(sp.together(expr.xreplace(mapping)))
        except (sp.PolynomialError, TypeError, ValueError, NotImplementedError):
            return None
        sign = 1 if moved.is_positive else -1 if moved.is_negative else None
        for sym, hi in ends:
            if sign is None:
                break
            at = expr.xreplace({sym: hi})
            if (at.is_positive if sign > 0 else at.is_negative) is not True \
                    and self._moved_sign(at) != sign:
                sign = None
        return sign

    def _agrees(self, expr: sp.Basic, verdict: int) -> bool:
        """False when ``expr`` has another sign than ``verdict`` at a closed end of a domain or
        at a sample point. SymPy 1.14's ``ask`` is wrong on closed ends: under x ≤ 3 it
        answers that 3 − x is positive, so its verdicts are tested before use."""
        symbols = [s for s in expr.free_symbols if self.symbols.get(s.name) == s]
        if len(symbols) != len(expr.free_symbols):
            return True   # not ours to sample (dummies of the caller)
        rng = random.Random(0)
        for n in range(8):
            point = {}
            for sym in symbols:
                d = self.domains[sym.name]
                end = (d.lower if not d.lower_open else None) if n == 0 else \
                      (d.upper if not d.upper_open else None) if n == 1 else None
                point[sym] = end if end is not None else d.sample(rng)
            value = expr.xreplace(point)
            if not value.is_number:
                continue
            actual = 0 if value.is_zero else 1 if value.is_positive else -1 if value.is_negative else None
            if actual is not None and actual != verdict:
                return False
        return True

    def sample(self, rng: random.Random, names=None) -> dict[sp.Symbol, sp.Rational]:
        """A random point for every symbol in ``names`` (default: all), inside its domain."""
        chosen = self.symbols if names is None else {n: self.symbol(n) for n in names}
        return {sym: self.domain_of(sym).sample(rng) for sym in chosen.values()}

    def described(self) -> list[str]:
        """LaTeX descriptions of the non-trivial assumptions, in name order."""
        return [d.describe() for n, d in sorted(self.domains.items())
                if d.lower is not None or d.upper is not None or d.integer]
