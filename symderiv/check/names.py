"""What a left-hand side names: ``\\frac{\\partial L}{\\partial W^{(1)}}``, ``\\hat y``, ``f'(x)``,
``\\nabla_w L``, ``\\lim_{x \\to \\infty} \\sigma'(x)``, ``\\frac{d}{dx}\\text{sigmoid}(x)``.

A *quantity* is a small tuple:

* ``("value", name)``: a named value (``yhat``, ``z1``, ``L``);
* ``("d", of, wrt)``: a derivative of ``of`` (a function's name, or None for a loss or an
  unnamed function) with respect to ``wrt`` (a canonical name such as ``W1``, ``yhat``, ``x``);
* ``("lim", side, inner)``: a limit at ``+oo`` or ``-oo`` of the quantity ``inner`` (or None).

:func:`recognise` reads a member's text into a quantity, or None when it is not a name the
reader recognises (then it is read as mathematics instead). :func:`of_label` gives the quantity
a key's label is about. Two quantities *conflict* only when both say something definite that
differs (a different variable, the other side, another of the key's functions); a generic
name (``f'(x)``, ``\\sigma'(x)``, which the statement may use for any activation) never does.
"""

from __future__ import annotations

import re
import unicodedata

LOSS_NAMES = {"L", "ell", "l", "J", "E", "C", "MSE", "loss", "mathcal{L}", "R", "err"}
FUNCTION_WORDS = {  # explicit function names → the registry's name
    "sigmoid": "sigmoid", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
    "leakyrelu": "leaky_relu", "leaky_relu": "leaky_relu", "lrelu": "leaky_relu",
    "softplus": "softplus", "elu": "elu", "gelu": "gelu", "swish": "swish", "silu": "swish",
    "softmax": "softmax",
}
_LIMIT = re.compile(r"^\\lim\s*_\s*\{(?P<under>[^{}]*(?:\{[^{}]*\}[^{}]*)*)\}\s*(?P<rest>.*)$", re.S)
_FRAC = re.compile(r"^\\frac\s*\{\s*(?P<d1>\\partial|d|\\mathrm\s*\{d\}|\\text\s*\{d\})\s*"
                   r"(?P<of>[^{}]*(?:\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}[^{}]*)*)\}\s*"
                   r"\{\s*(?P<d2>\\partial|d|\\mathrm\s*\{d\}|\\text\s*\{d\})\s*"
                   r"(?P<wrt>[^{}]*(?:\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}[^{}]*)*)\}\s*(?P<rest>.*)$", re.S)
_SLASH = re.compile(r"^(?P<d1>\\partial|d)\s*(?P<of>[^/]*?)\s*/\s*(?P<d2>\\partial|d)\s*"
                    r"(?P<wrt>.+)$", re.S)
_NABLA = re.compile(r"^\\nabla\s*(_\s*(?P<wrt>\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}|\\?[A-Za-z]+))?"
                    r"\s*(?P<of>.*)$", re.S)
_PRIME = re.compile(r"^(?P<f>.+?)\s*(\^\s*\{\s*\\prime\s*\}|\^\s*\\prime|')\s*"
                    r"(\(\s*(?P<var>[^()]*)\s*\))?$", re.S)


def canonical_name(text: str) -> str | None:
    """``\\hat{y}`` → ``yhat``, ``W^{(1)}`` → ``W1``, ``\\mathbf{W}_1`` → ``W1``, ``z^{[2]}`` →
    ``z2``, ``f(x; \\theta)`` → ``f``; None when the text is not one name."""
    s = text.strip()
    s = re.sub(r"\\(mathbf|boldsymbol|bm|vec|mathrm|mathit|text|operatorname|mathcal)\s*"
               r"\{([^{}]*)\}", lambda m: ("mathcal{%s}" % m.group(2) if m.group(1) == "mathcal"
                                           else m.group(2)), s)
    s = re.sub(r"\\(hat|widehat)\s*\{?\s*([A-Za-z])\s*\}?", r"\2hat", s)
    s = re.sub(r"\\(bar|overline)\s*\{?\s*([A-Za-z])\s*\}?", r"\2bar", s)
    s = re.sub(r"\(\s*[^()]*\)$", "", s).strip()  # f(x; θ) → f
    m = re.fullmatch(r"(\\?[A-Za-z]+(?:\{[A-Z]\})?)\s*(?:\^\s*\{?\s*[(\[]\s*(\d+)\s*[)\]]\s*\}?"
                     r"|_\s*\{?\s*([A-Za-z0-9]+)\s*\}?|(\d+))?", s)
    if not m:
        return None
    base = m.group(1).lstrip("\\")
    index = m.group(2) or m.group(3) or m.group(4) or ""  # W^{(1)}, W_1, W1
    return base + index


def function_name(text: str) -> str | None:
    """An explicit activation name (``\\text{sigmoid}``, ``\\tanh``, ``LeakyReLU``); None for
    ``\\sigma``, ``f``, ``g`` (generic in most statements)."""
    s = re.sub(r"\\(mathrm|text|operatorname|textrm|mathit)\s*\{([^{}]*)\}", r"\2", text)
    s = re.sub(r"\(\s*[^()]*\)\s*$", "", s).strip().lstrip("\\")
    s = re.sub(r"[\s\\{}]", "", s).lower().replace("-", "").replace("_", "")
    for word, name in FUNCTION_WORDS.items():
        if s == word.replace("_", ""):
            return name
    m = re.fullmatch(r"sigma_?(\w+)", s)  # σ_tanh: the statement's name for an activation
    if m and m.group(1) in FUNCTION_WORDS:
        return FUNCTION_WORDS[m.group(1)]
    return None


def _side(under: str) -> str | None:
    m = re.search(r"\\to\s*(\+|-)?\s*\\infty", under)
    if not m:
        return None
    return "-oo" if m.group(1) == "-" else "+oo"


def recognise(text: str) -> tuple | None:
    """The quantity a (normalised) member names, or None."""
    s = text.strip()
    m = _LIMIT.match(s)
    if m:
        side = _side(m.group("under"))
        if side is None:
            return None
        inner = recognise(m.group("rest")) if m.group("rest").strip() else None
        return ("lim", side, inner if inner and inner[0] == "d" else None)
    m = _FRAC.match(s) or _SLASH.match(s)
    if m:
        of, wrt = m.group("of").strip(), canonical_name(m.group("wrt"))
        rest = m.groupdict().get("rest") or ""
        if wrt is None:
            return None
        if not of:  # \frac{d}{dx} sigmoid(x)
            return ("d", function_name(rest) if rest.strip() else None, wrt)
        if rest.strip():
            return None
        name = canonical_name(of)
        return ("d", None if name in LOSS_NAMES or name is None else
                (function_name(of) or name), wrt)
    m = _NABLA.match(s)
    if m:
        wrt = m.group("wrt")
        if wrt and wrt.startswith("{"):
            wrt = wrt[1:-1]
        return ("d", None, canonical_name(wrt) if wrt else None)
    m = _PRIME.match(s)
    if m and "=" not in s:
        fname = m.group("f")
        name = function_name(fname)
        if name is None and canonical_name(fname) is None:
            return None
        var = canonical_name(m.group("var")) if m.group("var") else None
        return ("d", name, var)
    name = canonical_name(s)
    if name is not None:
        return ("value", name)
    return None


def of_label(label: str, problem=None) -> tuple | None:
    """The quantity an answer label is about: ``backward.dL/dyhat`` → ("d", None, "yhat")."""
    var = getattr(getattr(problem, "spec", None), "var", None) or "x"
    m = re.fullmatch(r"(\w+)\.derivative", label)
    if m:
        return ("d", m.group(1), var)
    m = re.fullmatch(r"(\w+)\.limit\(([+-]?)oo\)", label)
    if m:
        return ("lim", "-oo" if m.group(2) == "-" else "+oo", ("d", m.group(1), var))
    m = re.fullmatch(r"forward\.(\w+)", label)
    if m:
        return ("value", "L" if m.group(1) == "loss" else m.group(1))
    m = re.fullmatch(r"backward\.d\w+/d(\w+)", label) or re.fullmatch(r"grad\.(\w+)", label)
    if m:
        return ("d", None, m.group(1))
    m = re.fullmatch(r"d(\w+)/d(\w+)", label)
    if m:
        return ("d", None, m.group(2))
    if label == "gradient":
        wrt = getattr(getattr(problem, "spec", None), "wrt", None)
        return ("d", None, wrt if isinstance(wrt, str) else None)
    return None


def conflict(said: tuple, key: tuple) -> bool:
    """Do two quantities say something definite that differs?"""
    if said is None or key is None or said[0] != key[0]:
        return False
    if said[0] == "lim":
        return said[1] != key[1] or conflict(said[2], key[2])
    if said[0] == "d":
        of_s, wrt_s = said[1], said[2]
        of_k, wrt_k = key[1], key[2]
        if of_s is not None and of_k is not None and of_s in FUNCTION_WORDS.values() \
                and of_s != of_k:
            return True
        return wrt_s is not None and wrt_k is not None and _simple(wrt_s) != _simple(wrt_k)
    return _simple(said[1]) != _simple(key[1])


def _simple(name: str) -> str:
    return name.replace("_", "").replace("{", "").replace("}", "")


def words(quantity: tuple) -> str:
    """A quantity in words for feedback: "the limit at −∞", "∂L/∂W1", "ŷ"."""
    kind = quantity[0]
    if kind == "lim":
        inner = f" of {words(quantity[2])}" if quantity[2] and quantity[2][1] else ""
        return f"the limit{inner} at {'−∞' if quantity[1] == '-oo' else '+∞'}"
    if kind == "d":
        of, wrt = quantity[1], quantity[2]
        if of and of in FUNCTION_WORDS.values():
            return f"the derivative of {_title(of)}" + (f" in {pretty(wrt)}" if wrt
                                                         and wrt not in {"x", "z"} else "")
        if wrt in {"x", "z", "t", "u", "s"}:
            return f"the derivative in {wrt}"
        return f"∂L/∂{pretty(wrt)}" if wrt else "a gradient"
    return pretty(quantity[1])


def _title(name: str) -> str:
    """sigmoid, tanh, Leaky ReLU, ReLU: the registry's title where it is not just the name."""
    from ..library.activations import ACTIVATIONS

    entry = ACTIVATIONS.get(name)
    title = entry.title if entry is not None else name.replace("_", " ")
    return title if any(c.isupper() for c in title[1:]) else title.lower()


def pretty(name: str) -> str:
    m = re.fullmatch(r"([A-Za-z]+?)(hat|bar)?(\d*)", name or "")
    if not m:
        return name
    base = m.group(1) + {"hat": "\u0302", "bar": "\u0304"}.get(m.group(2) or "", "")
    digits = "".join("₀₁₂₃₄₅₆₇₈₉"[int(d)] for d in m.group(3))
    return unicodedata.normalize("NFC", base + digits)


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")
# a Greek letter's name (as LaTeX writes it after a backslash) → the letter
GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
         "zeta": "ζ", "eta": "η", "theta": "θ", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
         "xi": "ξ", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "varphi": "φ", "chi": "χ",
         "psi": "ψ", "omega": "ω", "ell": "ℓ", "Sigma": "Σ", "Theta": "Θ", "Phi": "Φ",
         "Omega": "Ω", "Lambda": "Λ", "Gamma": "Γ", "Delta": "Δ", "Psi": "Ψ"}


def latex_words(latex: str) -> str | None:
    """A name written in LaTeX as plain Unicode text: ``\\lambda`` → λ, ``\\hat{y}`` → ŷ,
    ``\\mathbf{W}^{(2)}`` → W⁽²⁾, ``w_{12}`` → w₁₂, ``\\boldsymbol{v}_c`` → v_c, ``W^\\top`` → Wᵀ;
    None when it is more than a name."""
    s = re.sub(r"\\(mathbf|boldsymbol|bm|vec|mathrm|mathit|text|operatorname|mathcal)\s*"
               r"\{([^{}]*)\}", r"\2", latex.strip())
    s = re.sub(r"\\(hat|widehat|bar|overline|tilde)\s*\{?\s*([A-Za-z])\s*\}?",
               lambda m: unicodedata.normalize("NFC", m.group(2) + {"hat": "\u0302", "widehat": "\u0302",
                                                                    "tilde": "\u0303"}.get(m.group(1), "\u0304")), s)
    s = re.sub(r"\\([A-Za-z]+)", lambda m: GREEK.get(m.group(1), m.group(0)), s)
    s = re.sub(r"\^\s*\{?\s*(\\top|T|\\intercal)\s*\}?", "ᵀ", s)
    s = re.sub(r"\^\s*\{\s*\((\d+)\)\s*\}|\^\s*\((\d+)\)",
               lambda m: f"({m.group(1) or m.group(2)})".translate(_SUP), s)
    s = re.sub(r"_\s*\{?\s*(\d+)\s*\}?", lambda m: m.group(1).translate(_SUB), s)
    s = re.sub(r"_\s*\{\s*([A-Za-z])\s*\}", r"_\1", s).replace(" ", "")
    return s if s and not re.search(r"[\\{}^$]", s) else None


def statement_words(ctx) -> tuple[tuple[str, str], ...]:
    """How the statement writes the key's names in plain text, for feedback in the console
    and the JSON (compare.Math's ``names``): a symbolic network's letters and numbering (h1 →
    a₂ in CS189's, z₂ in DS-GA's; W2 → W⁽²⁾ where the weights are written W^{(i)}; ŷ where
    the statement writes \\hat y), a
    matrix problem's ``notation`` table (lam → λ). Names not listed are written by
    report.said_name (b2 → b₂, yhat → ŷ)."""
    spec = getattr(getattr(ctx, "problem", None), "spec", None)
    notation = getattr(spec, "notation", None)
    out: dict[str, str] = {}
    if notation is not None and hasattr(notation, "weights") and hasattr(spec, "layers"):
        from .network import _said_names

        try:
            out.update(_said_names(spec))
        except (AttributeError, TypeError, ValueError):
            pass
        statement = getattr(getattr(ctx, "problem", None), "statement", "") or ""
        if re.search(r"\\(hat|widehat)\s*\{?\s*y", statement):   # CS189: MSE(ŷ), not a₃
            out.pop("yhat", None)
    elif isinstance(notation, tuple):
        for name, latex in notation:
            word = latex_words(latex) if isinstance(latex, str) and name != "function" else None
            if word and word != name:
                out[name] = word
    return tuple(sorted(out.items()))
