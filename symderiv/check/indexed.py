"""General answers against a concrete key: index notation and matrix expressions at the key's size.

The key of a vector function's Jacobian is a concrete n×n matrix (the softmax Jacobian at the
file's n = 3, in x₁, x₂, x₃), but students answer for every n: ``s_i(\\delta_{ij} - s_j)``,
``\\operatorname{diag}(s) - s s^T``, ``f(x_i)(\\delta_{ij} - f(x_j))`` (the statement's f), a
``cases`` split on i = j, or the n×n matrix written out in s₁, …, sₙ. Such an answer is
evaluated at the key's size: for every (i, j) the indices are put in (δᵢⱼ becomes 1 or 0, the
row of a ``cases`` split whose condition holds is taken, Σₖ e^{x_k} is written out), and the
components sᵢ become the key's function of x; the matrix so built is compared entry by entry
with the key (:func:`~symderiv.check.compare.compare_matrix`), so the feedback names the entries
that differ. Nothing here evaluates text: each instance is read by the problem's reader, and the
matrix form by the whitelist parser (:mod:`symderiv.parse`).

Names of the components: ``s`` (the key's own name, ∂sᵢ/∂xⱼ), the registry name
(``\\operatorname{softmax}(x)_i``) and a name the statement defines for the function
(``f(x_i) = …``).
"""

from __future__ import annotations

import re
from typing import Any

import sympy as sp

from .base import Unreadable

INDEX_ROW, INDEX_COL = "i", "j"
MAX_SIZE = 8  # keys larger than this are compared as written (n² instances to read)

_FONTS = r"(?:\\(?:mathbf|boldsymbol|bm|vec|mathrm|mathit|operatorname|text)\s*)"
def _idx(group: str) -> str:
    """An index i or j after ``_``: ``_i``, ``_{i}`` (named groups ``group``, ``group2``)."""
    return (r"(?:\{\s*(?P<G>[ij])\s*\}|(?P<G2>[ij])(?![A-Za-z0-9]))").replace("G", group)


def jacobian_components(ctx, label: str, expected: sp.Matrix) -> tuple[list[sp.Expr], set[str]] | None:
    """(s₁, …, sₙ as the key's expressions, the names that denote them) for a vector
    function's Jacobian label ``<name>.jacobian``; None for any other label."""
    if not label.endswith(".jacobian") or ctx.problem is None or ctx.problem.kind != "derivative":
        return None
    from ..library import registry

    name = label[: -len(".jacobian")]
    spec = ctx.problem.spec
    fns = [fn for fn in spec.functions if fn.name == name and fn.entry]
    if not fns:
        return None
    entry = registry()[fns[0].entry]
    if not entry.vector:
        return None
    n = expected.rows
    by_name = {s.name: s for s in ctx.symbols.values() if isinstance(s, sp.Symbol)}
    by_name.update({s.name: s for s in expected.free_symbols})
    xs = [by_name.get(f"{spec.var}_{k}") for k in range(1, n + 1)]
    if any(x is None for x in xs):
        return None
    params = {p: by_name.get(p, sp.Symbol(p, real=True)) for p in entry.params}
    comps = list(entry.build(xs, params))
    if len(comps) != n:
        return None
    names = {"s", name, entry.name} | _statement_names(ctx.problem.statement, spec.var)
    return comps, names


def _statement_names(statement: str, var: str) -> set[str]:
    """Names the statement gives the function: ``f(x_i) = …``, ``\\sigma(\\mathbf{x})_i = …``."""
    out = set()
    pattern = (r"(?<![A-Za-z\\])(\\?[A-Za-z]+)\s*\(\s*" + _FONTS + r"?\{?\s*" + re.escape(var)
               + r"\s*\}?(?:_\{?\s*i\s*\}?)?\s*\)\s*(?:_\{?\s*i\s*\}?)?\s*=")
    for m in re.finditer(pattern, statement or ""):
        word = m.group(1).lstrip("\\")
        if word not in {"frac", "left", "right", "exp", "log", "ln", "sum"}:
            out.add(word)
    return out | _accented_names(statement, var)


# \hat y = \operatorname{softmax}(\theta), \hat y_i = \frac{e^{\theta_i}}{…}: the statement's name for
# the components, an accented letter (i13-general: additive)
_ACCENTED = re.compile(r"\\(hat|bar|tilde)\s*\{?\s*(?:" + _FONTS + r"?\{\s*)?([A-Za-z])\s*\}?\s*\}?\s*"
                       r"(?:_\s*\{?\s*i\s*\}?\s*)?=\s*(?:\\operatorname\s*\{\s*softmax\s*\}|"
                       r"\\mathrm\s*\{\s*softmax\s*\}|softmax|\\frac\s*\{\s*e\s*\^)")


def _accented_names(statement: str, var: str) -> set[str]:
    return {m.group(2) + m.group(1) for m in _ACCENTED.finditer(statement or "")}


# --- the written-out matrix in s_1 … s_n --------------------------------------------------


def substitute_components(ctx, label: str, expected: sp.Matrix, value) -> Any:
    """A matrix written out in s₁, …, sₙ (or the statement's name) in the key's terms."""
    if not isinstance(value, sp.MatrixBase) or value.shape != expected.shape:
        return value
    found = jacobian_components(ctx, label, expected)
    if found is None:
        return value
    comps, names = found
    subs = {}
    for sym in value.free_symbols:
        m = re.fullmatch(r"(.+?)_?\{?(\d+)\}?", sym.name)
        if m and m.group(1) in names and 1 <= int(m.group(2)) <= len(comps):
            subs[sym] = comps[int(m.group(2)) - 1]
    return value.xreplace(subs) if subs else value


# --- index notation and the matrix form -----------------------------------------------------


def read_general(ctx, label: str, expected: sp.Matrix, text: str) -> tuple[Any, Any] | None:
    """(the answer at the key's size, its display) for an answer written for every n, or None
    when ``text`` is not such an answer (it is then read as written)."""
    n = expected.rows
    if expected.cols != n or n > MAX_SIZE:
        return None
    found = jacobian_components(ctx, label, expected)
    if found is None:
        return None
    comps, names = found
    body = _last_member(_strip(text))
    if body is None or re.search(r"\\begin\{[pbvBV]?matrix\}|\\begin\{array\}|\[\s*\[", body):
        return None
    if re.search(r"diag", body) and not _has_free_index(body, names):
        return _matrix_form(ctx, body, comps, names)
    if not _has_free_index(body, names):
        return None
    values, shown = [], []
    for a in range(1, n + 1):
        row, row_shown = [], []
        for b in range(1, n + 1):
            instance = _instantiate(body, names, a, b, n)
            if instance is None:
                return None
            read = ctx.reader.expr(instance)
            row_shown.append(read.value)
            row.append(_components_in(read.value, comps))
        values.append(row)
        shown.append(row_shown)
    return sp.Matrix(values), sp.Matrix(shown)


def _strip(text: str) -> str:
    body = text.strip()
    for opener, closer in (("$$", "$$"), (r"\[", r"\]"), ("$", "$")):
        if body.startswith(opener) and body.endswith(closer) and len(body) > len(opener) + len(closer):
            body = body[len(opener): len(body) - len(closer)].strip()
    body = re.sub(r"(\\[,;:!]|\\quad|\\qquad|\s|[.,;])+$", "", body)
    return body


def _last_member(body: str) -> str | None:
    """The right-hand side of ``J = …`` / ``\\frac{\\partial s_i}{\\partial x_j} = …`` (outside
    braces and environments); the whole text when there is no ``=``."""
    depth, env, cut = 0, 0, -1
    k = 0
    while k < len(body):
        if body.startswith(r"\begin", k):
            env += 1
        elif body.startswith(r"\end", k):
            env -= 1
        ch = body[k]
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif ch == "=" and depth == 0 and env == 0 and body[k - 1: k] not in ("<", ">", "!", "\\"):
            cut = k
        k += 1
    return body[cut + 1:].strip() if cut >= 0 else body


def _name_alternatives(names: set[str]) -> str:
    alts = []
    for name in sorted(names, key=len, reverse=True):
        accent = re.fullmatch(r"([A-Za-z])(hat|bar|tilde)", name)
        if accent:  # yhat written \hat y, \hat{y}, \hat{\boldsymbol{y}}
            letter, mark = accent.groups()
            alts.append(r"\\" + mark + r"\s*(?:\{\s*(?:" + _FONTS + r"\{\s*" + letter + r"\s*\}|" + letter
                        + r")\s*\}|" + letter + r"(?![A-Za-z]))")
        esc = re.escape(name)
        alts.append(_FONTS + r"?\{\s*\\?" + esc + r"\s*\}")
        alts.append(r"(?<![A-Za-z\\])\\?" + esc + r"(?![A-Za-z])")
    return "(?:" + "|".join(alts) + ")"


def _component_pattern(names: set[str]) -> re.Pattern:
    """sᵢ written as s_i, s_{i}, \\mathbf{s}_i, f(x_i), f(\\mathbf{x})_i, softmax(x)_i, s_i(x)."""
    name = _name_alternatives(names)
    x = r"(?:" + _FONTS + r"\{\s*x\s*\}|x)"
    return re.compile(
        r"(?:\\left)?\s*"
        r"(?:" + name + r"\s*(?:\\left)?\(\s*" + x + r"_" + _idx("a") + r"\s*(?:\\right)?\)"
        r"|" + name + r"\s*(?:\\left)?\(\s*" + x + r"\s*(?:\\right)?\)\s*_" + _idx("b")
        + r"|" + name + r"\s*_" + _idx("c") + r"(?:\s*(?:\\left)?\(\s*" + x
        + r"\s*(?:\\right)?\))?)")


def _index_of(m: re.Match) -> str:
    for g in ("a", "a2", "b", "b2", "c", "c2"):
        if m.group(g):
            return m.group(g)
    raise Unreadable("an index")  # pragma: no cover - the pattern always binds one


def _has_free_index(body: str, names: set[str]) -> bool:
    return bool(_component_pattern(names).search(body) or re.search(r"\\?delta", body))


DELTA = re.compile(r"\\?delta\s*_\s*(?:\{\s*([ij])\s*,?\s*([ij])\s*\}|([ij])\s*,?\s*([ij])(?![A-Za-z]))"
                   r"|(?:\\mathbb\s*\{?[1I]\}?|\\mathbf\s*\{?1\}?|\\mathds\s*\{?1\}?|\\mathbbm\s*\{?1\}?)"
                   r"\s*(?:_\{\s*i\s*=\s*j\s*\}|[\[(]\s*i\s*=\s*j\s*[\])]|\\\{\s*i\s*=\s*j\s*\\\})")
CASES = re.compile(r"\\begin\{cases\}(.*)\\end\{cases\}", re.S)
SUM = re.compile(r"\\sum\s*_\s*\{?\s*([a-z])\s*(?:=\s*1\s*)?\}?\s*(?:\^\s*\{?\s*(?:n|N|\d+)\s*\}?)?\s*"
                 r"(e\s*\^\s*\{[^{}]*\}|\\exp\s*(?:\\left)?\(\s*[^()]*?(?:\\right)?\))")


def _instantiate(body: str, names: set[str], a: int, b: int, n: int) -> str | None:
    """The answer at row a, column b: indices put in, δ and ``cases`` decided, sums expanded."""
    m = CASES.search(body)
    if m:
        chosen = _case_for(m.group(1), a, b)
        if chosen is None:
            return None
        body = body[: m.start()] + "(" + chosen + ")" + body[m.end():]

    def delta(match: re.Match) -> str:
        pair = [g for g in match.groups() if g]
        if pair and len(pair) == 2 and pair[0] == pair[1]:
            return "(1)"
        return "(1)" if a == b else "(0)"

    body = DELTA.sub(delta, body)

    def total(match: re.Match) -> str:
        k, term = match.group(1), match.group(2)
        if k in (INDEX_ROW, INDEX_COL) and re.search(r"[ij]", term.replace(k, "")):
            return match.group(0)
        parts = [re.sub(r"(?<![A-Za-z\\])" + k + r"(?![A-Za-z])", str(m), term) for m in range(1, n + 1)]
        return "\\left(" + " + ".join(parts) + "\\right)"

    body = SUM.sub(total, body)
    if "\\sum" in body:
        return None
    value = {INDEX_ROW: a, INDEX_COL: b}
    body = _component_pattern(names).sub(lambda m: "s_{" + str(value[_index_of(m)]) + "}", body)
    body = re.sub(r"(?:" + _FONTS + r"\{\s*x\s*\}|(?<![A-Za-z\\])x)\s*_\s*" + _idx("d"),
                  lambda m: "x_{" + str(value[m.group("d") or m.group("d2")]) + "}", body)
    if re.search(r"_\s*(?:\{[^{}]*\b[ij]|[ij](?![A-Za-z]))|\\?delta", body):
        return None  # an index left that is not a component, x or δ: not understood here
    return body


def _case_for(rows: str, a: int, b: int) -> str | None:
    """The expression of the ``cases`` row whose condition holds at i = a, j = b."""
    fallback = None
    for row in re.split(r"\\\\", rows):
        if "&" not in row:
            continue
        expr, _, cond = row.partition("&")
        cond = re.sub(r"\\text\s*\{\s*(if|for|when)\s*\}|\b(if|for|when)\b|[,.]", " ", cond).strip()
        expr = expr.strip().rstrip(",")
        if re.fullmatch(r"\\text\s*\{\s*(otherwise|else|sonst)\s*\}|otherwise|else", cond):
            fallback = expr
            continue
        if re.fullmatch(r"i\s*=\s*j|j\s*=\s*i", cond):
            if a == b:
                return expr
            continue
        if re.fullmatch(r"i\s*(\\neq?|\\not\s*=|!=|\\ne)\s*j|j\s*(\\neq?|\\not\s*=|!=)\s*i", cond):
            if a != b:
                return expr
            continue
        return None  # a condition not on i and j
    return fallback


def _components_in(value, comps: list[sp.Expr]):
    subs = {}
    for sym in getattr(value, "free_symbols", ()):
        m = re.fullmatch(r"s_?\{?(\d+)\}?", sym.name)
        if m and 1 <= int(m.group(1)) <= len(comps):
            subs[sym] = comps[int(m.group(1)) - 1]
    return value.xreplace(subs) if subs else value


def _refuse_name(name: str):
    raise Unreadable(f"{name} is not a name the key defines")


def _matrix_form(ctx, body: str, comps: list[sp.Expr], names: set[str]):
    """``\\operatorname{diag}(s) - s s^T`` with s the vector of components (n×1)."""
    from ..errors import BadInput
    from ..parse import Namespace, parse_expression

    plain = body
    plain = re.sub(r"\\left|\\right", "", plain)
    plain = re.sub(r"\\(?:operatorname|mathrm|text|textrm)\s*\{\s*diag\s*\}|\\diag\b", "diag", plain)
    name = _name_alternatives(names)
    plain = re.sub(name, " s ", plain)
    plain = re.sub(r"\^\s*\{?\s*(?:\\top|T|\\intercal|\\mathsf\{T\}|\\mathrm\{T\})\s*\}?|'", ".T", plain)
    plain = re.sub(r"\\cdot|\\times", "*", plain)
    plain = re.sub(r"\\[,;:! ]|\\quad", " ", plain)
    if re.search(r"[\\{}]", plain):
        return None
    # implicit products: s s.T, diag(s)(I - s), 2 s
    plain = re.sub(r"(\)|\bs(?:\.T)?|\d)\s*(?=\bs\b|\(|diag|\bI\b)", r"\1*", plain)
    n = len(comps)
    vector = sp.Matrix(n, 1, comps)
    ns = Namespace(symbols={"s": vector, "I": sp.eye(n)},
                   functions={"diag": lambda v: sp.diag(*list(v))},
                   transpose=lambda m: m.T, make_symbol=_refuse_name)
    try:
        value = parse_expression(plain, ns)
    except BadInput as exc:
        raise Unreadable(exc.message) from None
    except sp.ShapeError:
        raise Unreadable("the shapes do not fit together (s is a column of n entries, "
                         "diag(s) is n×n)") from None
    if not isinstance(value, sp.MatrixBase) or value.shape != (n, n):
        return None
    s = sp.Matrix(n, 1, [sp.Symbol(f"s_{k}") for k in range(1, n + 1)])
    shown = parse_expression(plain, Namespace(symbols={"s": s, "I": sp.eye(n)},
                                              functions={"diag": lambda v: sp.diag(*list(v))},
                                              transpose=lambda m: m.T))
    return value, shown


# --- index notation against a matrix expression (matrix_gradient) ---------------------------

_INDEXED_NAME = (r"(?:" + _FONTS + r"\{\s*(?P<fn>[A-Za-z])\s*\}|(?<![A-Za-z\\])(?P<n>[A-Za-z]))"
                 r"\s*_\s*(?:\{\s*(?P<i1>[ij])\s*,?\s*(?P<i2>[ij])?\s*\}|(?P<i3>[ij])(?![A-Za-z]))")


def has_entry_indices(text: str) -> bool:
    """``2(z_i - y_i)x_j``, ``\\frac{\\partial L}{\\partial W_{ij}} = …``: an entry by entry answer."""
    body = _last_member(_strip(text))
    return body is not None and "\\sum" not in body and bool(re.search(_INDEXED_NAME, body))


def compare_entries(ctx, label: str, expected, text: str, concrete) -> tuple[bool, list] | None:
    """An answer written entry by entry (indices i, j) against a matrix expression: at each
    concrete size of ``concrete`` (a list of (explicit key, {name: explicit matrix},
    {scalar symbol: value})), every entry (i, j) of the key is compared with the answer with
    i, j and the named entries put in. (all equal?, [(i, j, answer's value, key's value) where
    they differ, then "all" when every entry differs], or "range" when an index runs past its
    name's length) or None when the answer uses an indexed name the key does not define."""
    body = _last_member(_strip(text))
    if body is None:
        return None
    wrong: list = []
    for explicit, matrices, scalars in concrete:
        informative_right = False
        rows, cols = explicit.shape
        for a in range(1, rows + 1):
            for b in range(1, cols + 1):
                instance = _put_entries(body, matrices, a, b, cols == 1)
                if instance is None:
                    return None
                if instance is _OUT_OF_RANGE:
                    return False, "range"
                value = ctx.reader.expr(instance).value
                if hasattr(value, "atoms") and value.atoms(sp.MatrixSymbol):
                    # w^T x written as a product of the key's matrices: at this size
                    value = value.xreplace({M: sp.ImmutableMatrix(matrices[M.name])
                                            for M in value.atoms(sp.MatrixSymbol)
                                            if M.name in matrices})
                    try:
                        value = value.doit()
                    except (TypeError, ValueError, sp.ShapeError):
                        return None
                if isinstance(value, sp.MatrixBase) and value.shape == (1, 1):
                    value = value[0, 0]
                if not isinstance(value, sp.Expr):
                    return None
                by_name = {s.name: v for s, v in scalars.items()}
                value = value.xreplace({s: by_name[s.name] for s in value.free_symbols
                                        if s.name in by_name})
                if value.free_symbols:
                    return None
                try:
                    got, want = complex(sp.N(value, 30)), complex(sp.N(explicit[a - 1, b - 1], 30))
                except (TypeError, ValueError):
                    return None
                if abs(got - want) > 1e-9 * max(1.0, abs(got), abs(want)):
                    wrong.append((a, b, got, want))
                elif abs(want) > 1e-12:
                    informative_right = True
        if wrong:
            # "all": every entry that tells anything differs (the others are 0 in both)
            return False, wrong if informative_right else [*wrong, "all"]
    return True, wrong


_OUT_OF_RANGE = "out of range"  # an index running past its name's length (i and j swapped)


def _put_entries(body: str, matrices: dict, a: int, b: int, vector: bool) -> str | None:
    """The answer at entry (a, b): every indexed name replaced by that entry's number."""
    value = {INDEX_ROW: a, INDEX_COL: b}
    failed: list = []
    out_of_range: list = []

    def entry(m: re.Match) -> str:
        name = m.group("fn") or m.group("n")
        idx = [g for g in (m.group("i1"), m.group("i2"), m.group("i3")) if g]
        M = matrices.get(name)
        if M is None:
            failed.append(name)
            return m.group(0)
        if len(idx) == 2 and M.rows > 1 and M.cols > 1:
            r, c = value[idx[0]], value[idx[1]]
        elif len(idx) == 1 and M.cols == 1:
            r, c = value[idx[0]], 1
        elif len(idx) == 1 and M.rows == 1:
            r, c = 1, value[idx[0]]
        else:
            failed.append(name)
            return m.group(0)
        if r > M.rows or c > M.cols:
            out_of_range.append(name)
            return m.group(0)
        return r"\left(" + sp.latex(M[r - 1, c - 1]) + r"\right)"

    if vector and re.search(r"_\s*(?:\{[^{}]*\bj|j(?![A-Za-z]))", body):
        return None  # a j where the key is a column: not this key's layout
    out = re.sub(_INDEXED_NAME, entry, body)
    if out_of_range and not failed:
        return _OUT_OF_RANGE
    if failed or re.search(r"_\s*(?:\{[^{}]*\b[ij]|[ij](?![A-Za-z]))", out):
        return None
    return out
