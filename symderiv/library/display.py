"""How the registry writes a definition: display-only heads and named stand-ins.

A definition is shown as a teacher writes it (max{0, x}, (1/β) ln(1 + e^{βx}), x σ(x)),
but it stays a SymPy expression in the problem's own variable, so it can be checked
against the expression the engine differentiates: :func:`explicit` turns the display
into plain SymPy.
"""

from __future__ import annotations

import sympy as sp


class MaxSet(sp.Function):
    """max{a, b}, as a teacher writes it."""

    def _latex(self, printer, exp=None):
        text = r"\max\{" + ", ".join(printer._print(a) for a in self.args) + r"\}"
        return f"{text}^{{{exp}}}" if exp else text


class MinSet(sp.Function):
    """min{a, b}."""

    def _latex(self, printer, exp=None):
        text = r"\min\{" + ", ".join(printer._print(a) for a in self.args) + r"\}"
        return f"{text}^{{{exp}}}" if exp else text


class Ln(sp.Function):
    """ln u (SymPy writes log)."""

    nargs = 1

    def _latex(self, printer, exp=None):
        arg = printer._print(self.args[0])
        head = r"\ln" if exp is None else rf"\ln^{{{exp}}}"
        if self.args[0].is_Symbol:
            return rf"{head} {arg}"
        return rf"{head}\left({arg}\right)"


class Product(sp.Function):
    """A product kept as written, factor by factor: 1/(1 + e^{-x}) · e^{-x}/(1 + e^{-x})."""

    def _latex(self, printer, exp=None):
        parts = []
        for f in self.args:
            text = printer._print(f)
            if f.is_Add or (f.could_extract_minus_sign() and parts):
                text = r"\left(" + text + r"\right)"
            parts.append(text)
        out = parts[0]
        for f, text in zip(self.args[1:], parts[1:]):
            fraction = text.startswith(r"\frac") or f.is_Number
            out += (r" \cdot " if fraction else " ") + text
        return out

    def _sympystr(self, printer):
        return "*".join(printer.parenthesize(f, 50) for f in self.args)


SIGMA = sp.Function(r"\sigma")
PHI_CDF = sp.Function(r"\Phi")
SOFTPLUS = sp.Function(r"\operatorname{softplus}")

# stand-in -> its explicit value (a function of the argument)
MEANING = {
    SIGMA: lambda w: 1 / (1 + sp.exp(-w)),
    PHI_CDF: lambda w: (1 + sp.erf(w / sp.sqrt(2))) / 2,
    SOFTPLUS: lambda w: Ln(1 + sp.exp(w)),
}


def explicit(expr: sp.Basic) -> sp.Basic:
    """The display with every display head and stand-in replaced by plain SymPy."""
    for head, value in MEANING.items():
        expr = expr.replace(head, value)
    expr = expr.replace(MaxSet, sp.Max).replace(MinSet, sp.Min).replace(Ln, sp.log)
    return expr.replace(Product, lambda *fs: sp.Mul(*fs))


def stand_ins(expr: sp.Basic, var: sp.Symbol | None = None) -> dict:
    """The stand-ins that occur in ``expr``, each with its explicit value: σ(x) = 1/(1 + e^{-x}).
    One per function: defined at ``var`` when it is given (σ(x) = 1/(1 + e^{−x}) for x σ(1.702x)
    too: σ(2x) needs no definition of its own), else at its first occurrence."""
    found = [a for a in sorted(expr.atoms(sp.Function), key=sp.default_sort_key) if a.func in MEANING]
    out = {}
    for head in dict.fromkeys(a.func for a in found):
        pick = head(var) if var is not None else next(a for a in found if a.func is head)
        out[pick] = MEANING[head](*pick.args)
    return out
