"""Rule-based differentiation with named rules, one smooth expression at a time.

Each rule is a function registered in :data:`RULES` under the expression's head (``Add``,
``Mul``, ``Pow``, ``exp`` …). A rule returns the one-level expansion of ``d/dx expr``:
an expression in which the derivatives of the immediate subexpressions still stand as
unevaluated ``Derivative`` nodes. :func:`derivation_tree` applies the rules recursively
into a tree of :class:`Step`; :func:`chain_lines` turns the tree into the aligned lines a
teacher writes, expanding one level of the tree per line.
"""

from __future__ import annotations

import functools
from typing import Callable

import sympy as sp

from ..errors import InternalLimit
from .steps import Line, Step

D = sp.Derivative
Rule = Callable[[sp.Expr, sp.Symbol], "tuple[str, sp.Expr, str] | None"]

RULES: dict[type, Rule] = {}


def rule(*heads: type):
    """Register a rule function for expressions whose head is one of ``heads``."""

    def register(fn: Rule) -> Rule:
        for head in heads:
            RULES[head] = fn
        return fn

    return register


def _d(expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """``d/dx expr`` left unevaluated, or its value right away when it is immediate."""
    if not expr.has(x):
        return sp.S.Zero
    if expr == x:
        return sp.S.One
    if _is_linear(expr, x):
        return sp.expand(expr).coeff(x)
    return D(expr, x)


def _is_linear(expr: sp.Expr, x: sp.Symbol) -> bool:
    return expr.is_polynomial(x) and sp.degree(expr, x) == 1


@rule(sp.Add)
def sum_rule(expr, x):
    """d(u + v) = du + dv; constant terms vanish."""
    return "sum", sp.Add(*[_d(t, x) for t in expr.args]), "the derivative of a sum is the sum of the derivatives"


@rule(sp.Mul)
def product_rules(expr, x):
    """Constant multiple, quotient or product rule, whichever the factors call for."""
    const, rest = expr.as_independent(x, as_Add=False)
    if const != 1:
        return "constant multiple", const * _d(rest, x), "constants factor out"
    num, den = sp.fraction(rest)
    if den != 1 and den.has(x) and num.has(x):
        return ("quotient", (_d(num, x) * den - num * _d(den, x)) / den ** 2,
                r"(u/v)' = (u'v - uv')/v^2")
    factors = rest.args
    terms = []
    for i, factor in enumerate(factors):
        others = sp.Mul(*(factors[:i] + factors[i + 1:]))
        terms.append(others * _d(factor, x))
    return "product", sp.Add(*terms), r"(uv)' = u'v + uv'"


@rule(sp.Pow)
def power_rules(expr, x):
    """Power rule with the chain rule; exponentials a^u; x^x by logarithmic differentiation."""
    base, expo = expr.args
    if not expo.has(x):
        if base == x:
            return "power", expo * x ** (expo - 1), r"\frac{d}{dx} x^n = n x^{n-1}"
        name = "reciprocal, chain" if expo == -1 else "power, chain"
        return name, expo * base ** (expo - 1) * _d(base, x), r"(u^n)' = n u^{n-1} u'"
    if not base.has(x):
        return "exponential, chain", expr * sp.log(base) * _d(expo, x), r"(a^u)' = a^u \ln a \, u'"
    return ("logarithmic differentiation", expr * _d(expo * sp.log(base), x),
            r"u^v = e^{v \ln u}")


@rule(sp.exp)
def exp_rule(expr, x):
    """(e^u)' = e^u u'."""
    (u,) = expr.args
    return ("exp" if u == x else "exp, chain"), expr * _d(u, x), r"(e^u)' = e^u u'"


@rule(sp.log)
def log_rule(expr, x):
    """(ln u)' = u'/u."""
    (u,) = expr.args
    return ("log" if u == x else "log, chain"), _d(u, x) / u, r"(\ln u)' = u'/u"


_KNOWN: dict[type, tuple[str, Callable[[sp.Expr], sp.Expr], str]] = {
    sp.tanh: ("hyperbolic", lambda u: 1 - sp.tanh(u) ** 2, r"\tanh' = 1 - \tanh^2"),
    sp.sinh: ("hyperbolic", sp.cosh, r"\sinh' = \cosh"),
    sp.cosh: ("hyperbolic", sp.sinh, r"\cosh' = \sinh"),
    sp.sin: ("trigonometric", sp.cos, r"\sin' = \cos"),
    sp.cos: ("trigonometric", lambda u: -sp.sin(u), r"\cos' = -\sin"),
    sp.tan: ("trigonometric", lambda u: 1 + sp.tan(u) ** 2, r"\tan' = 1 + \tan^2"),
    sp.erf: ("erf", lambda u: 2 / sp.sqrt(sp.pi) * sp.exp(-u ** 2),
             r"\operatorname{erf}'(u) = \tfrac{2}{\sqrt\pi} e^{-u^2}"),
}


@rule(*_KNOWN)
def known_function_rule(expr, x):
    """Table of derivatives of named functions, with the chain rule."""
    name, derivative, why = _KNOWN[type(expr)]
    (u,) = expr.args
    return (name if u == x else f"{name}, chain"), derivative(u) * _d(u, x), why


# Named rules whose formula the key shows beside the rule's name ("inverse tangent
# d/dx atan x = 1/(1 + x²)"): what a student looks up, with the domain where it holds.
NAMED: dict[type, tuple[str, Callable[[sp.Expr], sp.Expr], str]] = {
    sp.atan: ("inverse tangent", lambda u: 1 / (1 + u ** 2), ""),
    sp.asin: ("inverse sine", lambda u: 1 / sp.sqrt(1 - u ** 2), "|u| < 1"),
    sp.acos: ("inverse cosine", lambda u: -1 / sp.sqrt(1 - u ** 2), "|u| < 1"),
    sp.asinh: ("inverse hyperbolic sine", lambda u: 1 / sp.sqrt(u ** 2 + 1), ""),
    # 1/(√(u − 1) √(u + 1)), not 1/√(u² − 1): equal for u > 1, and the first is also the
    # derivative of SymPy's (complex) arcosh where u < −1
    sp.acosh: ("inverse hyperbolic cosine", lambda u: 1 / (sp.sqrt(u - 1) * sp.sqrt(u + 1)), "u > 1"),
    sp.atanh: ("inverse hyperbolic tangent", lambda u: 1 / (1 - u ** 2), "|u| < 1"),
    sp.sech: ("hyperbolic secant", lambda u: -sp.sech(u) * sp.tanh(u), ""),
    sp.csch: ("hyperbolic cosecant", lambda u: -sp.csch(u) * sp.coth(u), ""),
    sp.coth: ("hyperbolic cotangent", lambda u: 1 - sp.coth(u) ** 2, ""),
    sp.sign: ("sign", lambda u: sp.S.Zero, "u \\ne 0"),
}
NOTES: dict[str, sp.Basic] = {}  # rule name → its formula, for the key


def rule_formula(head: type, u: sp.Symbol) -> sp.Equality:
    """d/du head(u) = … as an unevaluated equation (the note the key prints)."""
    name, derivative, _ = NAMED[head]
    return sp.Eq(D(head(u), u), derivative(u), evaluate=False)


@rule(*NAMED)
def named_function_rule(expr, x):
    """Inverse trigonometric and hyperbolic functions, sech, csch, coth and sign, with the
    chain rule; the rule's formula is shown beside its name."""
    name, derivative, where = NAMED[type(expr)]
    (u,) = expr.args
    label = name if u == x else f"{name}, chain"
    NOTES[label] = rule_formula(type(expr), x if u == x else sp.Symbol("u", real=True))
    return label, derivative(u) * _d(u, x), where


@rule(sp.Abs)
def abs_rule(expr, x):
    """|u|' = sign(u) u' where u ≠ 0."""
    (u,) = expr.args
    return "absolute value", sp.sign(u) * _d(u, x), r"|u|' = \operatorname{sign}(u)\,u' \text{ for } u \ne 0"


def one_level(expr: sp.Expr, x: sp.Symbol) -> tuple[str, sp.Expr, str]:
    """The rule that applies to ``d/dx expr`` and its one-level expansion."""
    if not expr.has(x):
        return "constant", sp.S.Zero, "the expression does not depend on the variable"
    if expr == x:
        return "variable", sp.S.One, ""
    if _is_linear(expr, x):
        return "linear", sp.expand(expr).coeff(x), ""
    fn = RULES.get(type(expr))
    if fn is None:
        raise InternalLimit(f"differentiate {sp.sstr(expr)}: it has no differentiation rule "
                            f"for {type(expr).__name__}",
                            shown="a function in this part has no differentiation rule yet.")
    return fn(expr, x)


def derivation_tree(expr: sp.Expr, x: sp.Symbol) -> Step:
    """The whole tree of rule applications for ``d/dx expr``."""
    name, after, why = one_level(expr, x)
    subs = tuple(derivation_tree(d.expr, x) for d in _pending(after))
    return Step(name, D(expr, x), after, why, subs)


def _pending(expr: sp.Expr) -> list[sp.Derivative]:
    found: list[sp.Derivative] = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Derivative) and node not in found:
            found.append(node)
    return found


def chain_lines(tree: Step) -> list[Line]:
    """Aligned lines: start at ``d/dx f``, expand every pending derivative one level per line."""
    expansions = {step.before: step for step in tree.walk()}
    current: sp.Expr = tree.before
    lines = [Line(current)]
    while current.has(sp.Derivative):
        pending = _pending(current)
        used = []
        for node in pending:
            if expansions[node].rule not in used:
                used.append(expansions[node].rule)
        current = current.xreplace({node: expansions[node].after for node in pending})
        notes = [NOTES[r] for r in used if r in NOTES]
        # one formula beside the rule names; with several on one line the names alone fit
        note = notes[0] if len(notes) == 1 else None
        lines.append(Line(current, tuple(used), note))
    return lines


MAX_EXP_DEGREE = 24


def _exp_degree(expr: sp.Expr) -> int:
    """The degree of ``expr`` as a polynomial in its exponentials' common generator: e^{x} and
    e^{2x} make 2, e^{1.702x} = e^{851x/500} makes 851 (SymPy's polynomial algorithms
    then work with e^{x/500} to the 851st power, for minutes)."""
    coeffs = []
    for e in expr.atoms(sp.exp):
        for term in sp.Add.make_args(e.args[0]):
            c, _ = term.as_coeff_Mul()
            if c.is_Rational:
                coeffs.append(c)
    if not coeffs:
        return 0
    den = functools.reduce(sp.ilcm, (c.q for c in coeffs), 1)
    return int(max(abs(c) for c in coeffs) * den)


def _independent_exponentials(expr: sp.Expr):
    """``expr`` with each exponential replaced by its own symbol, and the way back."""
    atoms = sorted(expr.atoms(sp.exp), key=sp.default_sort_key)
    dummies = {a: sp.Dummy(f"e{i}", positive=True) for i, a in enumerate(atoms)}
    return expr.xreplace(dummies), {d: a for a, d in dummies.items()}


def tidy(expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """The simplest equal form we can find quickly: fewest operations wins."""
    expr = _fold_sign(expr)
    if _exp_degree(expr) > MAX_EXP_DEGREE:
        # rewrite with each exponential as a symbol of its own: the forms are as simple,
        # the relations between e^{ax} and e^{2ax} are not used, and nothing takes minutes
        plain, back = _independent_exponentials(expr)
        return tidy(plain, x).xreplace(back)
    allowed = _heads(expr)
    factored = sp.factor(expr)
    candidates = [expr, sp.cancel(expr), factored, sp.together(expr), _positive_lead(factored)]
    if not _rational_in_exponentials(expr):
        # a rational function of exponentials has its simplest forms among cancel and
        # factor already; simplify is for logs, roots, trigonometric identities
        try:
            candidates.append(sp.factor(_fold_sign(sp.simplify(expr))))
        except (TypeError, ValueError, NotImplementedError):
            pass
    # simplify likes 1/(4 cosh^2(x/2)); a teacher keeps the functions the problem speaks of
    def cost(e: sp.Expr) -> tuple[int, int]:
        text = sp.sstr(e)
        return sp.count_ops(e), text.count("(-") + text.startswith("-")

    best, best_cost = expr, cost(expr)
    for cand in candidates:
        # keep the form the derivation reached unless another is strictly simpler
        if _heads(cand) <= allowed and cost(cand) < best_cost:
            best, best_cost = cand, cost(cand)
    return best


def _positive_lead(expr: sp.Expr) -> sp.Expr:
    """(y − ŷ)/(ŷ(ŷ − 1)) → (ŷ − y)/(ŷ(1 − ŷ)): move a minus sign into a factor of the denominator."""
    num, den = sp.fraction(expr)
    if not num.could_extract_minus_sign():
        return expr
    factors = list(sp.Mul.make_args(den))
    for i, fac in enumerate(factors):
        if fac.is_Add and fac.could_extract_minus_sign() is False:
            factors[i] = sp.Add(*[-t for t in fac.args], evaluate=False)
            return sp.Mul(-num, evaluate=False) / sp.Mul(*factors, evaluate=False)
    return expr


HYPERBOLIC = {sp.sinh, sp.cosh, sp.tanh}


def _rational_in_exponentials(expr: sp.Expr) -> bool:
    """True when ``expr`` is a rational function of its symbols and of exp(·) of them."""
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Function) and not isinstance(node, sp.exp):
            return False
        if node.is_Pow and not node.exp.is_Integer:
            return False
    return True


def _heads(expr: sp.Expr) -> set[type]:
    heads = {type(f) for f in expr.atoms(sp.Function)}
    # tanh = sinh/cosh is no new idea where sinh and cosh already stand
    return heads | HYPERBOLIC if heads & HYPERBOLIC else heads


def _fold_sign(expr: sp.Expr) -> sp.Expr:
    """u·sign(u) = |u| and sign(u)² = 1: what |u|' leaves behind."""
    expr = sp.together(expr) if expr.has(sp.sign) else expr
    for s in expr.atoms(sp.sign):
        (u,) = s.args
        expr = expr.subs(s ** 2, 1)
        expr = sp.expand(expr).subs(u * s, sp.Abs(u)) if u.is_Symbol else expr.subs(u * s, sp.Abs(u))
        expr = sp.together(expr)
    return expr
