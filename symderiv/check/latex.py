"""Students' LaTeX → SymPy, through SymPy's Lark-based ``parse_latex`` grammar; no code runs.

The Lark grammar reads fractions, powers, roots, products, ``\\exp``/``\\log`` and relations,
but not ``\\sigma``, ``\\pi``, ``\\bar{f}``, multi-digit subscripts, indicators or named
activations, and it returns every reading of an ambiguous string (``f(x)`` is a call or a
product). So a string goes through three stages:

1. **Rewrite** (:func:`_rewrite`): every construct the grammar lacks, every decimal and every
   named function call becomes a *placeholder* symbol ``Z_{zz…}`` whose value we build
   ourselves (arguments are read recursively). Any control sequence left that is not on a
   short whitelist makes the answer unreadable, so ``\\input``, ``\\write18``, ``\\def`` … never
   get further than this function (and TeX never sees a student's string at all). A term
   with an elementwise product ``a \\odot b`` is split at it first (:func:`_elementwise_term`);
   norms, positive parts, indicators, primes, ``\\frac{\\partial \\ell}{\\partial z}`` and
   ``\\sum_j`` over a vector's entries become placeholders built with the key's own functions,
   so each reads as its plain transliteration does.
2. **Parse** with the grammar, unevaluated, and pick among ambiguous readings the one that
   uses the key's names (a reading that calls an unknown function loses to a product).
3. **Rebuild** bottom-up with size checks before each power is evaluated, so ``2^{2^{100}}``
   is refused instead of computed.

Everything runs under the caller's time budget; the grammar is an Earley parser, so the text
length is capped as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

import sympy as sp
from sympy.core.function import AppliedUndef

from .. import memo
from ..errors import BadInput
from ..parse import MAX_INT_DIGITS, power_refusal
from .base import Read, Unreadable
from .conditions import RELATIONS, read_condition
from .normalise import MAX_LATEX, normalise, split_top

__all__ = ["MAX_LATEX", "Read", "Unreadable", "Vocabulary", "normalise", "read_scalar",
           "split_top", "explicit_products"]

MAX_NODES = 600
MAX_DEPTH = 200  # the grammar nests a sum of n terms n deep
MAX_NESTING = 12  # placeholders inside placeholders (function arguments)


# --- placeholders --------------------------------------------------------------------


@dataclass
class Placeholders:
    """Values standing in for the parts of a string the grammar cannot read."""

    values: list[sp.Basic] = field(default_factory=list)
    displays: list[sp.Basic] = field(default_factory=list)
    decimals: int = 0  # how many decimal literals were read

    def add(self, value: sp.Basic, display: sp.Basic | None = None) -> str:
        index = len(self.values)
        self.values.append(value)
        self.displays.append(value if display is None else display)
        return " " + _placeholder_name(index) + " "

    def lookup(self, name: str) -> int | None:
        m = _PLACEHOLDER_RE.fullmatch(name)
        if not m:
            return None
        index = 0
        for ch in m.group(1):
            index = index * 26 + (ord(ch) - ord("a"))
        return index


def _placeholder_name(index: int) -> str:
    letters = ""
    while True:
        letters = chr(ord("a") + index % 26) + letters
        index //= 26
        if index == 0:
            break
    # fixed width keeps the subscript all-letters (the grammar wants letters or one digit)
    return "Z_{zz" + letters.rjust(3, "a") + "}"


_PLACEHOLDER_RE = re.compile(r"Z_\{?zz([a-z]+)\}?")



# --- what the reader knows ---------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """Names an answer may use: the key's symbols and functions, and how to build calls.

    ``functions`` maps a lower-case name (``sigma``, ``relu``, ``tanh`` …) to a pair of
    builders: the value used for comparison and the form shown back to the student.
    ``resolve_symbol`` turns a name the student wrote (``f_0``, ``\\alpha`` → ``alpha``) into
    the key's symbol; ``applied`` lists undefined functions of the key (``F`` in F(q) = τ).
    """

    functions: dict[str, tuple[Callable, Callable]]
    resolve_symbol: Callable[[str], sp.Basic]
    known: Callable[[str], bool]
    applied: frozenset[str] = frozenset()
    matrix: Callable[[sp.Basic], bool] = lambda e: False
    ops: Any = None  # a parse.Namespace whose matmul/add/power/transpose build matrix answers
    default_argument: Any = None  # x in a derivative problem: σ alone, tanh² alone mean σ(x), tanh²(x)
    shown: Callable[[str], Any] = lambda name: None  # how a notation name is shown (ŷ, not 1.33)
    # 𝟏, a column of ones whose length its neighbours decide (matrix problems; None: refused)
    ones: Callable[[], Any] | None = None


GREEK = ("alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda "
         "mu nu xi rho varrho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta "
         "Lambda Xi Sigma Upsilon Phi Psi Omega").split()
# the grammar's own commands, left for it to read
GRAMMAR_COMMANDS = {"cdot", "times", "div", "infty",
                    "le", "leq", "leqslant", "ge", "geq", "geqslant", "neq", "ne"}
ACCENTS = {"bar": "bar", "overline": "bar", "hat": "hat", "widehat": "hat", "tilde": "tilde",
           "widetilde": "tilde", "dot": "dot"}
BOLD = {"mathbf", "boldsymbol", "bm", "vec", "mathit", "mathrm", "mathsf", "operatorname",
        "text", "textrm", "textit", "mathnormal"}
INDICATORS = {r"\mathbb{I}", r"\mathbb{1}", r"\mathbf{1}", r"\mathds{1}", r"\mathbb 1",
              r"\mathbb I", r"\mathbbm{1}", r"\mathcal{I}", r"\mathbf{I}"}
CONSTANT_NAMES = {"pi": sp.pi}
# commands that are functions whatever follows (\tanh x); Greek letters are functions
# (σ, Φ, φ) only when an opening parenthesis follows
FUNCTION_COMMANDS = {"exp", "log", "ln", "sin", "cos", "tan", "sinh", "cosh", "tanh", "max",
                     "min", "erf", "sgn", "sign", "sech", "csch", "coth", "sec", "csc", "cot"}
# σ_tanh(x), σ_{\text{ReLU}}(x): the statement's name for an activation, by its subscript
_NAMED_ACTIVATION = re.compile(r"_\s*\{?\s*(?:\\(?:text|mathrm|operatorname)\s*\{)?\s*\\?"
                               r"([A-Za-z]{2,12})\s*\}?\s*\}?")
# f(θ⁰), f(\theta^{T}), f(x_0): the value of f at an iterate, written f_0 in the key
_AT_ITERATE = re.compile(r"\(\s*(?:\\[A-Za-z]+|[A-Za-z])\s*(?:\^|_)\s*\{?\s*([0-9]+|[A-Za-z])\s*\}?\s*\)")


# --- stage 1: rewriting ------------------------------------------------------------------


_COMMAND = re.compile(r"\\([A-Za-z]+|.)", re.S)
def _command_at(text: str, i: int) -> re.Match:
    m = _COMMAND.match(text, i)
    if m is None:
        raise Unreadable("a backslash ends the answer")
    return m


_DECIMAL = re.compile(r"(?<![\w.])(\d+\.\d*|\.\d+)(?![\w.])")


def _group(text: str, start: int) -> tuple[str, int]:
    """The balanced ``{…}``, ``(…)``, ``[…]`` or ``\\{…\\}`` group at ``start``: (inside, end)."""
    pairs = {"{": "}", "(": ")", "[": "]"}
    if text.startswith(r"\{", start):
        opener, closer, i = r"\{", r"\}", start + 2
    elif start < len(text) and text[start] in pairs:
        opener, closer, i = text[start], pairs[text[start]], start + 1
    else:
        raise Unreadable("expected a bracketed group")
    depth = 1
    begin = i
    while i < len(text):
        if text.startswith("\\", i) and not text.startswith(opener, i) \
                and not text.startswith(closer, i):
            command = _command_at(text, i)
            if command is None:
                raise Unreadable("a backslash ends the answer")
            i += len(command.group(0))
            continue
        if text.startswith(closer, i):
            depth -= 1
            if depth == 0:
                return text[begin:i], i + len(closer)
            i += len(closer)
            continue
        if text.startswith(opener, i):
            depth += 1
            i += len(opener)
            continue
        i += 1
    raise Unreadable(f"unbalanced {opener}")


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i] == " ":
        i += 1
    return i


def _rewrite(text: str, ph: Placeholders, vocab: Vocabulary, depth: int) -> str:
    """Replace everything the grammar cannot read by placeholders (see the module doc)."""
    if depth > MAX_NESTING:
        raise Unreadable("the answer is nested too deeply")
    if _ELEMENTWISE_OP.search(text):
        terms = split_top(text, ("+", "-"), _binary_sign)
        if any(len(split_top(term, _ELEMENTWISE)) > 1 for term, _ in terms):
            out = []
            for term, sign in terms:
                out.append(sign)
                if len(split_top(term, _ELEMENTWISE)) > 1:
                    out.append(_elementwise_term(term, ph, vocab, depth))
                else:
                    out.append(_rewrite_flat(term, ph, vocab, depth))
            return explicit_products(" ".join(out))
    return explicit_products(_rewrite_flat(text, ph, vocab, depth))


# --- the elementwise product a ⊙ b ---------------------------------------------------------
#
# ⊙ (and ∘ between vectors) has the precedence of a product and groups to the left, as in the
# plain reading (parse.py reads ⊙ as an operator of the level of *): W^T d ⊙ f'(z) x^T is
# ((Wᵀd) ⊙ f'(z)) xᵀ. A term is split at its top-level ⊙; the text before the first one is read
# whole, and each ⊙ takes the first factor after it.

_ELEMENTWISE = (r"\odot", r"\circ")
_ELEMENTWISE_OP = re.compile(r"\\(odot|circ)(?![A-Za-z])")
_FIRST_ATOM = re.compile(r"\s*(Z_\{zz[a-z]+\}|\d+|[A-Za-z]|\\infty)"
                         r"(\s*\^\s*(\{(?:[^{}]|\{[^{}]*\})*\}|\S))?")
# the factors written side by side after a ⊙ (before any explicit operator: ·, /, +)
_ATOM_RUN = re.compile(r"(?:\s*(?:Z_\{zz[a-z]+\}|\d+|[A-Za-z]|\\infty)"
                       r"(?:\s*\^\s*(?:\{(?:[^{}]|\{[^{}]*\})*\}|\S))?)+")


def _binary_sign(text: str, i: int, sep: str) -> bool:
    """A + or − between two terms (not the sign of the first one, nor after an operator)."""
    before = text[:i].rstrip()
    if not before:
        return False
    if before[-1] in "+-*/^_=(,{[&":
        return False
    norms = before.count(r"\|")
    if norms % 2 or (before.count("|") - 2 * norms) % 2:
        return False  # inside ‖…‖ or |…|
    return not re.search(r"\\(cdot|times|div|odot|circ)$", before)


def _elementwise_term(term: str, ph: Placeholders, vocab: Vocabulary, depth: int) -> str:
    pieces = split_top(term, _ELEMENTWISE)
    head = pieces[0][0]
    if not head.strip():
        raise Unreadable("an elementwise product (⊙) needs a factor on each side")
    acc = _read_flat(_rewrite_flat(head, ph, vocab, depth + 1), ph, vocab)
    flats = []
    for piece, op in pieces[1:]:
        flat = _rewrite_flat(piece, ph, vocab, depth + 1)
        flats.append((explicit_products(flat), flat, op))
    try:
        # an implicit product binds tighter than ⊙: y ⊙ Xw is y ⊙ (Xw)
        return ph.add(*_elementwise_fold(acc, flats, ph, vocab, tight=True))
    except (Unreadable, BadInput) as tight:
        if not _mismatch(tight):
            raise
        try:  # W^T δ ⊙ f'(z) x^T, which only reads as ((Wᵀδ) ⊙ f'(z)) xᵀ
            return ph.add(*_elementwise_fold(acc, flats, ph, vocab, tight=False))
        except (Unreadable, BadInput):
            raise tight from None


def _mismatch(exc: Exception) -> bool:
    message = exc.message if isinstance(exc, BadInput) else str(exc)
    return message.startswith("shape mismatch")


def _elementwise_fold(acc, flats, ph: Placeholders, vocab: Vocabulary, tight: bool):
    """``acc ⊙ f₁ … ⊙ fₖ``, each fᵢ the run of factors written side by side after its ⊙
    (``tight``) or its first factor only, the rest of the piece multiplying the product."""
    for explicit, flat, op in flats:
        m = _FIRST_ATOM.match(explicit)
        if m is None:
            raise Unreadable("an elementwise product (⊙) needs a factor on each side")
        if tight:
            run = _ATOM_RUN.match(flat)
            if run is None:
                raise Unreadable("an elementwise product (⊙) needs a factor on each side")
            first, rest = _read_flat(run.group(0), ph, vocab), flat[run.end():]
        else:
            first, rest = _read_flat(m.group(0), ph, vocab), explicit[m.end():]
        acc = (_hadamard(acc[0], first[0], vocab, op), _hadamard(acc[1], first[1], vocab, op))
        if rest.strip():
            acc = _read_flat(ph.add(*acc) + rest, ph, vocab)
    return acc


def _read_flat(source: str, ph: Placeholders, vocab: Vocabulary) -> tuple:
    """Stages 2 and 3 for rewritten text whose placeholders live in ``ph``: (value, display)."""
    source = explicit_products(source)
    if not source.strip():
        raise Unreadable("an expression is empty")
    chosen = _disambiguate(_parse(source), ph, vocab)
    return _rebuild(chosen, ph, vocab, display=False), _rebuild(chosen, ph, vocab, display=True)


def _hadamard(a, b, vocab: Vocabulary, op: str = r"\odot"):
    """``a ⊙ b``: the key's elementwise product for two vectors or matrices, the ordinary
    product when one side is a number."""
    a_matrix, b_matrix = vocab.matrix(a), vocab.matrix(b)
    if a_matrix and b_matrix:
        ops = vocab.ops
        build = None if ops is None else (ops.hadamard or ops.functions.get("hadamard"))
        if build is None:
            raise Unreadable("an elementwise product (⊙) of two matrices is not understood here")
        return build(a, b)
    if op == r"\circ":
        raise Unreadable("∘ is read as an elementwise product of two vectors; here it joins "
                         "numbers or functions (write a product, or the composition applied)")
    if vocab.ops is not None and vocab.ops.matmul is not None:
        return vocab.ops.matmul(a, b)
    return a * b


def _rewrite_flat(text: str, ph: Placeholders, vocab: Vocabulary, depth: int) -> str:
    """The rewrite proper: the text with placeholders, before the products are made explicit."""
    if depth > MAX_NESTING:
        raise Unreadable("the answer is nested too deeply")
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit()):
            m = _DECIMAL.match(text, i)
            if ch == "1" and text[i + 1: i + 2] == "_" and (i == 0 or not text[i - 1].isalnum()):
                k = _skip_spaces(text, i + 2)
                if text[k: k + 1] == "{" and _has_relation(text, k):  # 1_{z > 0}
                    i = _indicator(text, k, ph, vocab, depth, out)
                    continue
            if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
                literal = m.group(1)
                ph.decimals += 1
                out.append(ph.add(sp.Rational(literal)))
                i = m.end()
                continue
            out.append(ch)
            i += 1
            continue
        if ch.isalpha() and ch.isascii():
            i = _identifier(text, i, ph, vocab, depth, out)
            continue
        if ch in "([{":
            try:
                inside, end = _group(text, i)
            except Unreadable:
                inside, end = None, None
            if inside is not None:
                # a bracket is read on its own and becomes one placeholder: the grammar
                # cannot read three factors in a row, (x+1)(x+2)(x+3), nor x(x+1) as a product
                if len(split_top(inside, (",",))) > 1:
                    raise Unreadable("a list or an interval is not an expression here")
                if inside.strip() in {r"\cdot", r"\bullet", "·", "."}:  # f = (·)^+
                    raise Unreadable("(·) stands for a function's argument: write the function "
                                     "applied, e.g. (W^{(1)}x + b^{(1)})^+")
                read = read_scalar(inside, vocab, depth + 1)
                positive = _POSITIVE_PART.match(text, end)
                if positive:  # [u]^+, (u)^+, [u]_+: the positive part, ReLU entry by entry
                    read = Read(_apply(vocab, "relu", read.value),
                                _apply(vocab, "relu", read.display, display=True), read.decimals)
                    end = positive.end()
                i = _transposed(text, end, read.value, read.display, ph, vocab, out)
                if i is None:
                    out.append(ph.add(read.value, read.display))
                    i = end
                ph.decimals += read.decimals
                continue
        if ch == "^":
            i = _superscript(text, i, ph, vocab, depth, out)
            continue
        if ch == "|":
            end = text.find("|", i + 1)
            if end < 0:
                raise Unreadable("an absolute value | … | is not closed")
            read = read_scalar(text[i + 1: end], vocab, depth + 1)
            out.append(ph.add(sp.Abs(read.value), sp.Abs(read.display)))
            ph.decimals += read.decimals
            i = end + 1
            continue
        if ch == "!":
            raise Unreadable("factorials are not understood in an answer")
        if ch == "'":
            raise Unreadable("a prime (') is read only as a transpose, after a name or a bracket")
        if ch == "\\":
            i = _command(text, i, ph, vocab, depth, out)
            continue
        if ch in "_":
            raise Unreadable("a subscript must follow a letter")
        if not ch.isascii():
            raise Unreadable(f"the character {ch!r} is not understood")
        out.append(ch)
        i += 1
    return "".join(out)


_POSITIVE_PART = re.compile(r"\s*[\^_]\s*(\+|\{\s*\+\s*\})")


def _apply(vocab: Vocabulary, name: str, arg, display: bool = False):
    """One of the reader's functions (``relu``, ``sigma`` …) applied, as ``name(arg)`` reads."""
    if name not in vocab.functions:
        raise Unreadable(f"{name} is not understood here")
    try:
        return vocab.functions[name][1 if display else 0](arg)
    except (TypeError, ValueError) as exc:
        raise Unreadable(f"{name}: {exc}") from None


_PLACEHOLDER_TOKEN = re.compile(r"Z_\{zz[a-z]+\}")


def explicit_products(text: str) -> str:
    """Write ``\\cdot`` between adjacent factors: ``2 x^{2} Z`` → ``2 \\cdot x^{2} \\cdot Z``.

    The grammar cannot read a power followed by another factor (``e^{x} y``) or three
    factors in a row, and reads runs of letters ambiguously (and slowly); after the rewrite
    the text is flat (placeholders, single letters, integers, powers, operators), so the
    products can be made explicit here.
    """
    out: list[str] = []
    i = 0
    previous_atom = False
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == " ":
            i += 1
            continue
        m = _PLACEHOLDER_TOKEN.match(text, i)
        if m or ch.isdigit() or (ch.isascii() and ch.isalpha()) or text.startswith(r"\infty", i):
            if m:
                token = m.group(0)
            elif ch.isdigit():
                token = re.compile(r"\d+").match(text, i).group(0)
            elif ch.isalpha():
                token = ch
            else:
                token = r"\infty"
            if previous_atom:
                out.append(r" \cdot ")
            out.append(token)
            i += len(token)
            previous_atom = True
            continue
        if ch == "^":
            j = _skip_spaces(text, i + 1)
            if j < n and text[j] == "{":
                inner, end = _group(text, j)
                out.append("^{" + inner + "}")
                i = end
            elif j < n:
                out.append("^" + text[j])
                i = j + 1
            else:
                raise Unreadable("an exponent is missing")
            continue  # the power belongs to the factor before it
        if ch == "\\":
            m = _command_at(text, i)
            out.append(" " + m.group(0) + " ")
            i = m.end()
            previous_atom = False
            continue
        out.append(ch)
        previous_atom = ch == "!" or (ch == "|" and previous_atom)
        i += 1
    return "".join(out)


_TRANSPOSE_MARK = re.compile(r"\s*(\^\s*(\{\s*(T|\\top|\\intercal|\\mathsf\s*\{T\}|\\mathrm\s*\{T\})"
                             r"\s*\}|T(?![A-Za-z])|\\top(?![A-Za-z])|\\intercal(?![A-Za-z]))|')")


# w^Tx, X^TXw: with matrices, ^T directly followed by a factor is still a transpose
_TIGHT_TRANSPOSE = re.compile(r"\s*\^\s*(T|\\top)(?=[A-Za-z(\\])")


def _transpose_at(text: str, k: int, vocab: Vocabulary, value=None) -> re.Match | None:
    m = _TRANSPOSE_MARK.match(text, k)
    if m is None and vocab.ops is not None and vocab.ops.transpose is not None:
        m = _TIGHT_TRANSPOSE.match(text, k)
    if m is not None and value is not None and _power_of_T(m, value, vocab):
        return None
    return m


def _power_of_T(mark: re.Match, value, vocab: Vocabulary) -> bool:
    """(1 − αλ)^T after T steps: a letter T over a number is the power T, not a transpose,
    where the key has no matrices to transpose or names a number T itself (\\top, \\intercal
    and ' stay transposes)."""
    if vocab.matrix(value) or not re.fullmatch(r"\s*\^\s*(\{\s*T\s*\}|T)", mark.group(0)):
        return False
    if vocab.ops is None:
        return True
    return vocab.known("T") and not vocab.matrix(vocab.resolve_symbol("T"))


def _transposed(text: str, k: int, value, display, ph: Placeholders, vocab: Vocabulary,
                out: list) -> int | None:
    """If a transpose mark (``^T``, ``^\\top``, ``'``) follows at ``k``: emit the transposed
    value as one placeholder and return the index after the mark; else None.

    The grammar cannot read ``w^{…} x``, so ``wᵀ`` becomes a single placeholder."""
    m = _transpose_at(text, k, vocab, value)
    if not m:
        return None
    out.append(ph.add(_transpose(value, vocab), _transpose(display, vocab)))
    return m.end()


def _transpose(value, vocab: Vocabulary):
    if vocab.ops is not None and vocab.ops.transpose is not None:
        return vocab.ops.transpose(value)
    return value.T if vocab.matrix(value) else value


def _named(vocab: Vocabulary, name: str) -> tuple[sp.Basic, sp.Basic]:
    """A name's (value, display): a name of the statement's notation is compared by its value
    and shown as written (ŷ − y, not 133/100 − 33/100)."""
    if re.fullmatch(r"I_[A-Za-z0-9]+", name) and not vocab.known(name) and vocab.known("I"):
        name = "I"  # I_K, I_n: the key's identity, its size as a subscript
    value = vocab.resolve_symbol(name)
    shown = vocab.shown(name)
    return value, (value if shown is None else shown)


def _name_with_subscript(base: str, text: str, i: int) -> tuple[str, int]:
    """``x`` + ``_1``/``_{11}``/``_{t+1}`` → ``x_1``; returns (name, index after)."""
    if i < len(text) and text[i] == "_":
        j = _skip_spaces(text, i + 1)
        if j < len(text) and text[j] == "{":
            inner, j = _group(text, j)
        elif j < len(text) and text[j] == "\\":
            m = _command_at(text, j)
            inner, j = m.group(1), m.end()
        elif j < len(text):
            inner, j = text[j], j + 1
        else:
            raise Unreadable("a subscript is missing")
        inner = re.sub(r"[\\{}\s]", "", inner)
        if not re.fullmatch(r"[A-Za-z0-9+\-]{1,12}", inner):
            raise Unreadable(f"the subscript {inner!r} is not understood")
        return f"{base}_{inner}", j
    return base, i


def _identifier(text, i, ph, vocab, depth, out) -> int:
    """A Latin letter, possibly a function name (``relu(x)``) or with a subscript."""
    m = re.compile(r"[A-Za-z]+").match(text, i)
    word = m.group(0)
    j = m.end()
    if word.lower() in vocab.functions and len(word) > 1:
        return _call(word.lower(), text, j, ph, vocab, depth, out)
    if _key_function(word, vocab) and text[_skip_spaces(text, j): _skip_spaces(text, j) + 1] == "(":
        return _call(word, text, j, ph, vocab, depth, out)  # diag(v), hadamard(a, b)
    if word == "norm" and text[_skip_spaces(text, j): _skip_spaces(text, j) + 1] == "(":
        inside, k = _group(text, _skip_spaces(text, j))
        read = read_scalar(inside, vocab, depth + 1)
        powered = bool(re.match(r"\s*(\^|\*\*)", text[k:]))
        ph.decimals += read.decimals
        out.append(ph.add(_norm(read.value, vocab, powered), _norm(read.display, vocab, powered)))
        return k
    k = _skip_spaces(text, j)
    if word in vocab.applied and text[k: k + 1] == "(":
        return _call(word, text, j, ph, vocab, depth, out)
    if len(word) == 1 and _primed(text, j):  # f'(z_1)
        if word in vocab.functions:
            return _call(word, text, j, ph, vocab, depth, out)
        if not vocab.known(word):
            raise Unreadable(f"{word}'(…): {word} is not a function this key names (write the "
                             "activation's name, or its derivative)")
    at = _AT_ITERATE.match(text, k) if len(word) == 1 else None
    if at and vocab.known(f"{word}_{at.group(1)}") and word not in vocab.applied:
        out.append(ph.add(vocab.resolve_symbol(f"{word}_{at.group(1)}")))
        return at.end()
    if word == "I" and j < len(text) and text[j] in "({" and _has_relation(text, j):
        return _indicator(text, j, ph, vocab, depth, out)
    whole = re.compile(r"[A-Za-z]+\d+(?![\d_])|[A-Za-z]+(?![A-Za-z\d_])").match(text, i)
    if whole and len(whole.group(0)) > 1 and vocab.known(whole.group(0)):
        # W1, z1, yhat (W1x is W1·x): a name of the key written whole (plain text read as
        # LaTeX), not the product of its letters
        value, shown = _named(vocab, whole.group(0))
        after = _transposed(text, whole.end(), value, shown, ph, vocab, out)
        if after is not None:
            return after
        out.append(ph.add(value, shown))
        return whole.end()
    if len(word) > 1:
        # a run of letters is a product of single letters, except words a student may use
        if word.lower() in {"and", "or", "if", "otherwise", "else"}:
            raise Unreadable(f"{word!r} belongs in a condition, not in an expression")
        out.append(" ".join(word[:-1]) + " ")
        i = j - 1
    name, k = _name_with_subscript(text[j - 1], text, j)
    if name != text[j - 1] or _transpose_at(text, k, vocab):
        sym, shown = (sp.E, sp.E) if name == "e" and not vocab.known("e") else _named(vocab, name)
        after = _transposed(text, k, sym, shown, ph, vocab, out)
        if after is not None:
            return after
        out.append(ph.add(sym, shown))
    else:
        out.append(name)
    return k


def _name_out(text, k, named, ph, vocab, out) -> int:
    """An accented or Greek name (``\\hat y``, ``\\delta_2``) as one placeholder; a transpose
    mark after it (``\\hat y^T``) transposes it when it is a vector or matrix."""
    value, shown = named
    if vocab.matrix(value):
        after = _transposed(text, k, value, shown, ph, vocab, out)
        if after is not None:
            return after
    out.append(ph.add(value, shown))
    return k


def _has_relation(text: str, j: int) -> bool:
    inside, _ = _group(text, j)
    return bool(re.search(r"[<>=]|\\(le|ge|neq|ne|leq|geq)(?![A-Za-z])", inside))


def _superscript(text, i, ph, vocab, depth, out) -> int:
    j = _skip_spaces(text, i + 1)
    positive = _POSITIVE_PART.match(text, i)
    if positive and out and out[-1].strip():  # z_1^+: the positive part of a name
        previous = out.pop().strip()
        index = ph.lookup(previous)
        if index is not None:
            value, shown = ph.values[index], ph.displays[index]
        elif re.fullmatch(r"[A-Za-z]", previous):
            value, shown = _named(vocab, previous)
        else:
            raise Unreadable("the positive part ^+ must follow a name or a bracket")
        out.append(ph.add(_apply(vocab, "relu", value), _apply(vocab, "relu", shown, display=True)))
        return positive.end()
    if j < len(text) and text[j] == "{":
        inner, k = _group(text, j)
        stripped = inner.strip()
        if stripped in {"T", r"\top", r"\intercal", r"\mathsf{T}", r"\mathrm{T}", r"\mathsf T",
                        r"\prime", "'"}:
            raise Unreadable("a transpose must follow a name or a bracket")
        m = re.fullmatch(r"\((\d{1,3})\)\s*(\\top|\\intercal|T)?", stripped)
        if m and out and out[-1].strip():
            # W^{(1)}: a layer index, part of the name; W^{(2)\top}: and a transpose
            previous = out.pop().strip()
            value, shown = _named(vocab, _plain_name(previous, ph) + m.group(1))
            if m.group(2):
                value, shown = _transpose(value, vocab), _transpose(shown, vocab)
            out.append(ph.add(value, shown))
            return k
        out.append("^{" + _rewrite(inner, ph, vocab, depth + 1) + "}")
        return k
    if text.startswith(r"\top", j) or text.startswith(r"\intercal", j) or \
            (j < len(text) and text[j] == "T" and not text[j + 1: j + 2].isalpha()):
        raise Unreadable("a transpose must follow a name or a bracket")
    out.append("^")
    return i + 1


def _plain_name(token: str, ph: Placeholders) -> str:
    index = ph.lookup(token)
    if index is not None and isinstance(ph.values[index], sp.Symbol):
        return ph.values[index].name
    if re.fullmatch(r"[A-Za-z]", token):
        return token
    raise Unreadable("a layer index (k) must follow a name")


# 𝟏: \mathbf{1}, \boldsymbol{1}, \mathbb{1} (\mathbb 1), \mathds{1} … not followed by a condition
_ONES = re.compile(r"\\(?:mathbf|boldsymbol|bm|mathbb|mathbbm|mathds)\s*(?:\{\s*1\s*\}|\s1(?![\d.]))")
_ONES_SIZE = re.compile(r"\s*_\s*(?:\{\s*([A-Za-z]|\d{1,2})\s*\}|([A-Za-z]|\d))(?![A-Za-z0-9])")


def _ones(text, i, ph, vocab, depth, out) -> int | None:
    """``\\mathbf{1}`` (``\\mathbf{1}^\\top``, ``\\mathbf{1}_C``) in a matrix problem: the
    column of ones whose length the product or sum it sits in decides (𝟏ᵀeˣ, A𝟏𝟏ᵀ, 𝟏 − Y), or
    the length its subscript names; None when there is no 𝟏 at ``i``."""
    m = _ONES.match(text, i)
    if m is None:
        return None
    k = m.end()
    g = _skip_spaces(text, k)
    if text.startswith("_", g):
        g = _skip_spaces(text, g + 1)
    if (text[g: g + 1] in {"(", "[", "{"} or text.startswith(r"\{", g)) and _has_relation(text, g):
        return _indicator(text, g, ph, vocab, depth, out)  # \boldsymbol{1}\{z > 0\}
    if vocab.ones is None:
        raise Unreadable(r"\mathbf{1} (a vector of ones) is not understood here")
    value = vocab.ones()
    size = _ONES_SIZE.match(text, k)
    if size is not None:
        dim = size.group(1) or size.group(2)
        build = vocab.ops.functions.get("ones") if vocab.ops is not None else None
        if build is None:
            raise Unreadable(f"\\mathbf{{1}}_{dim}: the size of a vector of ones is not understood here")
        try:
            value = build(sp.Integer(dim) if dim.isdigit() else sp.Symbol(dim))
        except BadInput:
            raise Unreadable(f"\\mathbf{{1}}_{dim}: {dim} is not one of the key's sizes") from None
        k = size.end()
    after = _transposed(text, k, value, value, ph, vocab, out)
    if after is not None:
        return after
    out.append(ph.add(value, value))
    return k


def _command(text, i, ph, vocab, depth, out) -> int:
    m = _command_at(text, i)
    name = m.group(1)
    j = m.end()
    for indicator in INDICATORS:
        if text.startswith(indicator, i):
            k = _skip_spaces(text, i + len(indicator))
            if text.startswith("_", k):
                k = _skip_spaces(text, k + 1)
            if (text[k: k + 1] in {"(", "[", "{"} or text.startswith(r"\{", k)) \
                    and _has_relation(text, k):
                return _indicator(text, k, ph, vocab, depth, out)
            break  # \mathbf{I} alone: a name (the identity)
    ones = _ones(text, i, ph, vocab, depth, out)
    if ones is not None:
        return ones
    if name in BOLD:
        inner, k = _argument(text, j)  # \mathbf{x}, \boldsymbol w
        word = inner.strip()
        if word.lower() in vocab.functions:
            return _call(word.lower(), text, k, ph, vocab, depth, out)
        if _key_function(word, vocab) and text[_skip_spaces(text, k): _skip_spaces(text, k) + 1] \
                == "(":  # \operatorname{diag}(v)
            return _call(word, text, k, ph, vocab, depth, out)
        if name in {"mathrm", "mathit", "operatorname", "text", "textrm", "textit"} \
                and word in {"d", "if", "and", "or"}:
            raise Unreadable(f"{word!r} is not understood here")
        if not re.fullmatch(r"\\?[A-Za-z]+", word):
            raise Unreadable(f"\\{name}{{{inner}}} is not understood")
        word = word.lstrip("\\")
        sym, k = _name_with_subscript(word, text, k)
        value, shown = _named(vocab, sym)
        after = _transposed(text, k, value, shown, ph, vocab, out)
        if after is not None:
            return after
        out.append(ph.add(value, shown))
        return k
    if name in ACCENTS:
        k = _skip_spaces(text, j)
        if k < len(text) and text[k] == "{":
            inner, k = _group(text, k)
        else:
            inner, k = text[k: k + 1], k + 1
        # \hat{\vec{y}}, \hat{\mathbf{y}}: the bold or arrow adds nothing to the name
        word = re.sub(r"^\\(%s)\s*\{?\s*(\w)\s*\}?$" % "|".join(sorted(BOLD)), r"\2",
                      inner.strip()).lstrip("\\")
        if not re.fullmatch(r"[A-Za-z]+", word):
            raise Unreadable(f"\\{name}{{{inner}}} is not understood")
        sym, k = _name_with_subscript(word + ACCENTS[name], text, k)
        return _name_out(text, k, _named(vocab, sym), ph, vocab, out)
    if name in FUNCTION_COMMANDS and name in vocab.functions:
        return _call(name, text, j, ph, vocab, depth, out)
    k = _skip_spaces(text, j)
    if name in GREEK and name in vocab.functions and (text[k: k + 1] == "(" or _primed(text, k)):
        return _call(name, text, j, ph, vocab, depth, out)
    named = _NAMED_ACTIVATION.match(text, j) if name == "sigma" else None
    if named and named.group(1).lower() in vocab.functions and \
            text[_skip_spaces(text, named.end()): _skip_spaces(text, named.end()) + 1] in {"(", "^"}:
        return _call(named.group(1).lower(), text, named.end(), ph, vocab, depth, out)
    if name == "nabla" and vocab.ops is not None:  # ∇_{W⁽¹⁾} ℓ
        return _gradient(text, i, ph, vocab, out)
    if name == "|":  # ‖v‖, ‖v‖₂, ‖v‖²
        return _norm_bars(text, j, ph, vocab, depth, out)
    if name == "{":  # \{ … \} as a bracket
        inside, end = _group(text, i)
        read = read_scalar(inside, vocab, depth + 1)
        out.append(ph.add(read.value, read.display))
        ph.decimals += read.decimals
        return end
    if name in CONSTANT_NAMES:
        out.append(ph.add(CONSTANT_NAMES[name]))
        return j
    if name in GREEK:
        sym, k = _name_with_subscript(name, text, j)
        return _name_out(text, k, _named(vocab, sym), ph, vocab, out)
    if name in {"frac", "dfrac", "tfrac", "cfrac"}:
        top, k = _argument(text, j)
        bottom, k = _argument(text, k)
        derivative = _derivative_name(top, bottom, vocab)
        if derivative is not None:  # ∂ℓ/∂ŷ where the key's formulas hold the symbol dL_dyhat
            out.append(ph.add(derivative))
            return k
        a, b = read_scalar(top, vocab, depth + 1), read_scalar(bottom, vocab, depth + 1)
        if b.value == 0:
            raise Unreadable("division by zero")
        if vocab.ops is not None and vocab.ops.divide is not None:
            # the key's division (entry by entry by a vector), as a/b reads in plain text
            value, display = vocab.ops.divide(a.value, b.value), vocab.ops.divide(a.display, b.display)
        elif vocab.ops is not None and vocab.ops.matmul is not None:
            value = vocab.ops.matmul(a.value, vocab.ops.power(b.value, sp.Integer(-1)))
            display = vocab.ops.matmul(a.display, vocab.ops.power(b.display, sp.Integer(-1)))
        else:
            value, display = a.value / b.value, a.display / b.display
        ph.decimals += a.decimals + b.decimals
        out.append(ph.add(value, display))
        return k
    if name == "sqrt":
        k = _skip_spaces(text, j)
        index = None
        if text[k: k + 1] == "[":
            inner, k = _group(text, k)
            index = read_scalar(inner, vocab, depth + 1).value
        body, k = _argument(text, k)
        arg = read_scalar(body, vocab, depth + 1)
        if index is None:
            out.append(ph.add(sp.sqrt(arg.value), sp.sqrt(arg.display)))
        else:
            _check_exponent(arg.value, 1 / index)
            out.append(ph.add(sp.root(arg.value, index), sp.root(arg.display, index)))
        ph.decimals += arg.decimals
        return k
    if name in GRAMMAR_COMMANDS:
        out.append(m.group(0) + " ")
        return j
    if name in {"begin", "end"}:
        raise Unreadable("a matrix or cases environment can only be a whole answer")
    if name == "sum":
        end = _written_out_sum(text, j, ph, vocab, depth, out)
        if end is not None:
            return end
    if name == "sum" and vocab.ops is not None and vocab.ops.matmul is not None:
        return _sum_of_entries(text, j, ph, vocab, depth, out)
    if name in {"sum", "prod"}:
        raise Unreadable(f"a {'sum' if name == 'sum' else 'product'} over an index (\\{name}_j …) "
                         "is not understood here; write it with the vectors themselves")
    raise Unreadable(f"the command \\{name} is not understood")


_DERIVATIVE_TOP = re.compile(r"\s*(\\partial(?![A-Za-z])|d|\\mathrm\s*\{\s*d\s*\}"
                             r"|\\text\s*\{\s*d\s*\})")
_LOSS_SHOWN = {"ell": "ℓ", "mathcal{L}": "ℒ", "l": "l", "L": "L", "J": "J", "E": "E"}


_NORM_INDEX = re.compile(r"\s*_\s*(\{\s*(2|F)\s*\}|2|F)(?![A-Za-z0-9])")


def _norm_bars(text, j, ph, vocab, depth, out) -> int:
    """``\\|v\\|`` (also ``\\lVert v \\rVert``, ``\\left\\| v \\right\\|``, ``‖v‖``) with an
    optional ``_2`` (``_F`` for a matrix): the Euclidean norm, as ``norm(v)`` reads."""
    end = text.find(r"\|", j)
    if end < 0:
        raise Unreadable("a norm ‖ … ‖ is not closed")
    inside = read_scalar(text[j:end], vocab, depth + 1)
    k = end + 2
    index = _NORM_INDEX.match(text, k)
    if index is not None:
        k = index.end()
    elif re.match(r"\s*_", text[k:]):
        raise Unreadable("only the Euclidean norm ‖v‖ (or ‖v‖₂) is understood")
    squared = bool(re.match(r"\s*\^", text[k:]))
    value = _norm(inside.value, vocab, squared)
    display = _norm(inside.display, vocab, squared)
    ph.decimals += inside.decimals
    out.append(ph.add(value, display))
    return k


def _norm(v, vocab: Vocabulary, powered: bool = False):
    """The Euclidean norm: |v| for a number, √(vᵀv) for a vector (‖v‖² is vᵀv), the Frobenius
    norm √tr(AᵀA) for a matrix. ``powered``: a power follows (the key's own norm, when it has
    one, is resolved by that power)."""
    if not vocab.matrix(v):
        return sp.Abs(v)
    ops = vocab.ops
    own = None if ops is None else ops.functions.get("norm")
    if own is not None:
        marker = own(v)
        if powered or not isinstance(marker, AppliedUndef):
            return marker
        # the matrix namespace's norm(v) is a marker its power resolves: ‖v‖ is √(‖v‖²)
        return sp.sqrt(ops.power(marker, sp.Integer(2)))
    if ops is None or ops.matmul is None or ops.power is None:
        raise Unreadable("the norm of a matrix is not understood here")
    return ops.power(ops.matmul(ops.transpose(v), v), sp.Rational(1, 2))


_SUM_INDEX = re.compile(r"\s*_\s*(?:\{\s*([a-z])\s*(?:=\s*[^{}]*)?\}|([a-z]))"
                        r"(?:\s*\^\s*(?:\{[^{}]*\}|\w))?")


_SUM_BOUNDS = re.compile(r"\s*_\s*\{\s*([a-z])\s*=\s*(\d)\s*\}\s*\^\s*(?:\{\s*(\d{1,2})\s*\}|(\d))")


def _summand(text: str, k: int) -> tuple[str, int]:
    """What a \\sum applies to, from ``k``: the bracket that follows, or the rest of the term
    (up to the next + or − at its level); and the index after it."""
    k = _skip_spaces(text, k)
    if k < len(text) and (text[k] in "([" or text.startswith(r"\{", k)):
        return _group(text, k)
    body = split_top(text[k:], ("+", "-"), _binary_sign)[0][0]
    return body, k + len(body)


def _written_out_sum(text, j, ph, vocab, depth, out) -> int | None:
    """``\\sum_{k=1}^{2} σ(u_k^T v_c) u_k`` with number bounds, over names the key has for
    each value of the index (u₁, u₂): the terms written out, (σ(u_1^T v_c) u_1) + (σ(u_2^T
    v_c) u_2), and read. None when the bounds are not numbers, the index appears other than
    as a subscript, a name it makes is not the key's, or the terms cannot be read (then the
    sum is read as before)."""
    m = _SUM_BOUNDS.match(text, j)
    if m is None:
        return None
    index, lo, hi = m.group(1), int(m.group(2)), int(m.group(3) or m.group(4))
    if not 0 <= hi - lo < 10:
        return None
    body, end = _summand(text, m.end())
    subscript = re.compile(r"_\s*(?:\{\s*%s\s*\}|%s)(?![A-Za-z0-9])" % (index, index))
    names = re.findall(r"([A-Za-z]+)\}?\s*_\s*(?:\{\s*%s\s*\}|%s)(?![A-Za-z0-9])" % (index, index), body)
    if not names or re.search(r"(?<![A-Za-z\\])%s(?![A-Za-z])" % index, subscript.sub("", body)):
        return None
    if any(not vocab.known(f"{n}{v}") for n in set(names) for v in range(lo, hi + 1)):
        return None
    terms = " + ".join("(" + subscript.sub("_{%d}" % v, body) + ")" for v in range(lo, hi + 1))
    try:
        read = read_scalar("(" + terms + ")", vocab, depth + 1)
    except Unreadable:
        return None
    ph.decimals += read.decimals
    out.append(ph.add(read.value, read.display))
    return end


def _sum_of_entries(text, j, ph, vocab, depth, out) -> int:
    """``\\sum_j [y_j \\log \\hat y_j + …]`` (also ``\\sum_{j=1}^{K}``) in a vector problem:
    the summand read with the vectors themselves (``y_j`` is y), its entries added up (as
    ``ones(1, K)*v``). The summand is the bracket that follows, or the rest of the term."""
    m = _SUM_INDEX.match(text, j)
    refusal = Unreadable(r"a sum over an index (\sum_j …) is not understood here; write it "
                         "with the vectors themselves")
    if m is None:
        raise refusal
    index = m.group(1) or m.group(2)
    body, end = _summand(text, m.end())
    body = re.sub(r"_\s*(\{\s*%s\s*\}|%s)(?![A-Za-z0-9])" % (index, index), " ", body)
    read = read_scalar(body, vocab, depth + 1)
    if not (vocab.matrix(read.value) and read.value.shape[1] == 1 and read.value.shape[0] != 1):
        raise refusal
    own = vocab.ops.functions.get("sum")
    if own is not None:
        value, display = own(read.value), own(read.display)
    else:
        ones = sp.OneMatrix(1, read.value.shape[0])
        value, display = vocab.ops.matmul(ones, read.value), vocab.ops.matmul(ones, read.display)
    ph.decimals += read.decimals
    out.append(ph.add(value, display))
    return end


def _derivative_name(top: str, bottom: str, vocab: Vocabulary):
    """``\\frac{\\partial \\ell}{\\partial \\hat y}`` inside an expression: the key's symbol for
    that derivative (``dL_dyhat``; ``dyhat_dz2`` for a Jacobian), None when the fraction is not a
    derivative; :class:`Unreadable` naming it when it is one the key does not name."""
    m = _DERIVATIVE_TOP.match(top)
    if m is None:
        return None
    if not m.group(1).startswith("\\") and (vocab.known("d") or not _DERIVATIVE_TOP.match(bottom)):
        return None  # d/dx only when d is not one of the key's names, and dy/2 is a quotient
    from .names import canonical_name, recognise

    quantity = recognise(r"\frac{%s}{%s}" % (top, bottom))
    if quantity is None or quantity[0] != "d" or quantity[2] is None or \
            _DERIVATIVE_TOP.fullmatch(top):
        if _DERIVATIVE_TOP.fullmatch(top):
            raise Unreadable("a derivative operator such as d/dx is not understood inside an "
                             "expression; write the derivative it gives")
        raise Unreadable(f"the derivative \\frac{{{top.strip()}}}{{{bottom.strip()}}} is not "
                         "understood")
    of_text = top[m.end():].strip()
    return _key_derivative(canonical_name(of_text) if of_text else None, quantity[2], vocab)


def _key_derivative(of: str | None, wrt: str, vocab: Vocabulary):
    """The key's symbol for ∂of/∂wrt (``dL_dz1`` for a loss, ``dyhat_dz3`` for a Jacobian), or
    :class:`Unreadable` naming the derivative when the key has none."""
    from .names import LOSS_NAMES, pretty

    loss = of is None or of in LOSS_NAMES
    for spelling in _spellings(wrt, vocab):
        name = f"dL_d{spelling}" if loss else f"d{of}_d{spelling}"
        if vocab.known(name):
            return vocab.resolve_symbol(name)
    shown_of = _LOSS_SHOWN.get(of, "L") if loss else pretty(of)
    raise Unreadable(f"∂{shown_of}/∂{pretty(wrt)} is not a quantity this key names; "
                     "write its value")


_GRADIENT = re.compile(r"\\nabla\s*_\s*(\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}|\\?[A-Za-z])\s*"
                       r"(\\ell|\\mathcal\s*\{\s*L\s*\}|\\(?:text|mathrm|operatorname)\s*\{\s*MSE\s*\}"
                       r"|MSE|L|J|E|l)(?![A-Za-z])")


def _gradient(text, i, ph, vocab, out) -> int:
    """``\\nabla_{W^{(1)}} \\ell`` inside an expression: the key's ∂L/∂W1, as the fraction reads."""
    from .names import canonical_name

    m = _GRADIENT.match(text, i)
    if m is None:
        raise Unreadable(r"\nabla is read as a gradient of the loss, \nabla_{w} L")
    wrt_text = m.group(1)[1:-1] if m.group(1).startswith("{") else m.group(1)
    wrt = canonical_name(wrt_text)
    if wrt is None:
        raise Unreadable(f"the gradient in {wrt_text!r} is not understood")
    out.append(ph.add(_key_derivative(None, wrt, vocab)))
    return m.end()


def _spellings(name: str, vocab: Vocabulary) -> list[str]:
    """A variable's name and, when the key reads it as one of its own symbols, that symbol's
    name (the statement's z₃ may be the key's z2)."""
    out = [name]
    if vocab.known(name):
        value = vocab.resolve_symbol(name)
        own = getattr(value, "name", None)
        if isinstance(own, str) and own not in out:
            out.append(own)
    return out


def _argument(text: str, j: int) -> tuple[str, int]:
    """A macro argument: a braced group, a command (``\\alpha``) or one character."""
    j = _skip_spaces(text, j)
    if j >= len(text):
        raise Unreadable("an argument is missing")
    if text[j] == "{":
        return _group(text, j)
    if text[j] == "\\":
        m = _command_at(text, j)
        return m.group(0), m.end()
    return text[j], j + 1


_BARE_ARGUMENT = re.compile(r"(?:[0-9.]+|[A-Za-z](?:_\{[^{}]*\}|_\w)?|\\(?:%s)(?![A-Za-z])"
                            r"|\\(?:hat|bar|tilde|widehat|overline)\s*(?:\{\s*[A-Za-z]\s*\}|[A-Za-z])"
                            r"(?:_\{[^{}]*\}|_\w)?"
                            r"|\^\{[^{}]*\}|\^\w)+" % "|".join(GREEK))


def _call(fname, text, j, ph, vocab, depth, out) -> int:
    """``name^{k}(args)`` or ``name x``: read the arguments ourselves, leave a placeholder.
    ``name'(args)`` (``name^{\\prime}``) is the function's derivative applied to the arguments;
    a transpose may follow the call."""
    j = _skip_spaces(text, j)
    prime = _PRIME_MARK.match(text, j)
    if prime:
        j = _skip_spaces(text, prime.end())
    power = None
    if text.startswith("_", j) and fname in vocab.functions:
        # \mathrm{swish}_\beta(x), \mathrm{Huber}_\delta(x, y): the parameter in the name's
        # subscript (i13-general: additive)
        sub = re.compile(r"_\s*(?:\{[^{}]{1,20}\}|\\[A-Za-z]+|[A-Za-z0-9])\s*").match(text, j)
        if sub and text[sub.end(): sub.end() + 1] in {"(", "^"}:
            j = sub.end()
    if j < len(text) and text[j] == "^":
        k = _skip_spaces(text, j + 1)
        if k < len(text) and text[k] == "{":
            inner, j = _group(text, k)
        else:
            inner, j = text[k: k + 1], k + 1
        power = read_scalar(inner, vocab, depth + 1)
        j = _skip_spaces(text, j)
    nested = _nested_call(text, j, vocab)
    if j < len(text) and (text[j] in "({[" or text.startswith(r"\{", j)):
        inside, j = _group(text, j)
        args = [read_scalar(a, vocab, depth + 1)
                for a, _ in split_top(inside, (",",))]
    elif nested is not None:
        # \log \operatorname{softmax}(x), \ln \sigma(z): the argument is the call that follows
        args = [read_scalar(text[j:nested], vocab, depth + 1)]
        j = nested
    elif j < len(text) and (vocab.default_argument is None or _BARE_ARGUMENT.match(text, j)):
        # \ln x, \tanh 2x, \ln x^2: the argument is the factor that follows
        m = _BARE_ARGUMENT.match(text, j)
        if not m:
            raise Unreadable(f"{fname} needs an argument")
        args = [read_scalar(m.group(0), vocab, depth + 1)]
        j = m.end()
    elif vocab.default_argument is not None:  # 1 - \tanh^2: the problem's variable
        args = [Read(vocab.default_argument, vocab.default_argument)]
    else:
        raise Unreadable(f"{fname} needs an argument")
    value_of, display_of = vocab.functions[fname] if fname in vocab.functions else \
        (vocab.ops.functions[fname],) * 2
    if fname == "sigma" and vocab.ops is not None and "sigmoid" in vocab.ops.functions \
            and not prime and any(vocab.matrix(a.value) for a in args) \
            and value_of not in vocab.ops.functions.values():
        # σ(z₁) of a vector, where σ is not the statement's hidden activation: the logistic
        # sigmoid entry by entry, as sigmoid(z1) reads
        value_of = display_of = vocab.ops.functions["sigmoid"]
    if prime and depth == 0 and not "".join(out).strip() and not text[j:].strip():
        # σ'(x) as the whole answer names the derivative asked for; it does not give it
        raise Unreadable(f"{fname}' only names a derivative; write what it equals")
    if prime:
        value_of = display_of = _derivative_of(fname, value_of, vocab)
    try:
        value = value_of(*[a.value for a in args])
        display = display_of(*[a.display for a in args])
    except (TypeError, ValueError) as exc:
        raise Unreadable(f"{fname}: {exc}") from None
    if power is not None:
        value, display = _checked_power(value, power.value), display ** power.display
    after = _transposed(text, j, value, display, ph, vocab, out)  # \max(0, z_1)^\top
    if after is not None:
        return after
    out.append(ph.add(value, display))
    return j


_CALL_HEAD = re.compile(r"\\(?:(?:operatorname|mathrm|text)\s*\{\s*([A-Za-z]+)\s*\}|([A-Za-z]+))"
                        r"\s*(?=[(\[])")


def _nested_call(text: str, j: int, vocab: Vocabulary) -> int | None:
    """The end of a call of one of the reader's functions written at ``j`` without brackets
    around it (``\\operatorname{softmax}(x)`` after ``\\log``), or None."""
    m = _CALL_HEAD.match(text, j)
    if m is None:
        return None
    word = m.group(1) or m.group(2)
    if word.lower() not in vocab.functions and not _key_function(word, vocab):
        return None
    try:
        return _group(text, m.end())[1]
    except Unreadable:
        return None


def _key_function(word: str, vocab: Vocabulary) -> bool:
    """A function of the key's matrix namespace by its name (``diag``, ``hadamard``, ``trace``),
    written as a word of two letters or more."""
    return len(word) > 1 and vocab.ops is not None and word in vocab.ops.functions \
        and not word.startswith("_")


_PRIME_MARK = re.compile(r"\s*('|\^\s*\{\s*(\\prime|')\s*\}|\^\s*\\prime(?![A-Za-z])"
                         r"|\\prime(?![A-Za-z]))")


def _primed(text: str, k: int) -> bool:
    """Does ``f'(`` (``f^{\\prime}(``) follow at ``k``: a derivative applied to an argument?"""
    m = _PRIME_MARK.match(text, k)
    return bool(m) and text[_skip_spaces(text, m.end()): _skip_spaces(text, m.end()) + 1] == "("


def _derivative_of(fname: str, fn, vocab: Vocabulary):
    """The derivative of one of the reader's functions, as a function: the key's own
    ``relu_prime``/``sigmoid_prime`` (entry by entry on a vector) where it has one, else the
    derivative of the scalar function."""
    ops = vocab.ops
    if ops is not None:
        names = [n for n, candidate in ops.functions.items() if candidate is fn]
        names += [fname, {"sigma": "sigmoid"}.get(fname, fname)]
        for name in names:
            if name + "_prime" in ops.functions:
                return ops.functions[name + "_prime"]

    def derivative(*args):
        if len(args) != 1:
            raise Unreadable(f"{fname}' takes one argument")
        (u,) = args
        if vocab.matrix(u):
            raise Unreadable(f"the derivative {fname}' of a vector is not understood here")
        t = sp.Dummy("t", real=True)
        return sp.diff(fn(t), t).subs(t, u)
    return derivative


def _indicator(text, j, ph, vocab, depth, out) -> int:
    """``\\mathbb{1}[u > v]``: 1 where the condition holds, 0 elsewhere; for a vector condition
    the key's step function entry by entry (as ``Heaviside(u - v)`` reads)."""
    inside, j = _group(text, j)
    vector = vector_indicator(inside, vocab, depth + 1)
    if vector is not None:
        out.append(ph.add(*vector))
        return j
    cond = read_condition(inside, lambda s: read_scalar(s, vocab, depth + 1))
    value = sp.Piecewise((1, cond.value), (0, True))
    out.append(ph.add(value, value))
    return j


def vector_indicator(condition: str, vocab: Vocabulary, depth: int = 1,
                     negate: bool = False) -> tuple | None:
    """The indicator of an order condition on a vector (``z_1 > 0``) as the key's step function
    entry by entry, (value, display); None when the condition is not one on a vector.
    ``negate``: the indicator of the opposite condition."""
    chain = split_top(condition, tuple(op for op, _ in RELATIONS))
    if len(chain) != 2 or chain[1][1] not in _ORDER:
        return None
    a, b = (read_scalar(p, vocab, depth) for p, _ in chain)
    if not (vocab.matrix(a.value) or vocab.matrix(b.value)):
        return None
    upper, lower = (a, b) if _ORDER[chain[1][1]] != negate else (b, a)
    return tuple(_step(_difference(hi, lo, vocab), vocab)
                 for hi, lo in ((upper.value, lower.value), (upper.display, lower.display)))


# the order relations, True where the left side is the larger
_ORDER = {">": True, ">=": True, r"\ge": True, r"\geq": True, r"\geqslant": True, "≥": True,
          "<": False, "<=": False, r"\le": False, r"\leq": False, r"\leqslant": False, "≤": False}


def _difference(a, b, vocab: Vocabulary):
    if b == 0:
        return a
    if vocab.ops is not None and vocab.ops.add is not None:
        return vocab.ops.add(a, -b)
    return a - b


def _step(u, vocab: Vocabulary):
    """The unit step of ``u`` (0 at 0), as the key's ``Heaviside`` reads it."""
    ops = vocab.ops
    build = ops.functions.get("Heaviside") if ops is not None else None
    try:
        return build(u) if build is not None else sp.Heaviside(u, 0)
    except (TypeError, ValueError):
        raise Unreadable("an indicator 1[…] of a vector condition is not understood here") \
            from None


# --- stages 2 and 3: parsing and rebuilding -------------------------------------------------


def shorthand(text: str, vocab: Vocabulary) -> str:
    """σ(1 − σ): in a problem with one variable x, a Greek function written alone means σ(x);
    once one σ stands alone, every σ not applied to x is σ(x) (so the bracket is a product)."""
    x = vocab.default_argument
    if x is None:
        return text
    for name in ("sigma", "phi", "varphi", "Phi"):
        if name not in vocab.functions or vocab.known(name):
            continue
        command = re.compile(r"\\%s(?![A-Za-z])" % name)
        alone = [m for m in command.finditer(text)
                 if not re.match(r"\s*(\(|\^|_|')", text[m.end():])]
        if alone:
            # σ'(x), σ^{\prime}(x) are applied already
            applied = re.compile(r"\\%s(?![A-Za-z])(?!\s*\(\s*%s\s*\))(?!\s*')"
                                 r"(?!\s*\^\s*\{?\s*\\prime)" % (name, re.escape(str(x))))
            text = applied.sub(lambda m: m.group(0) + "(" + str(x) + ")", text)
    return text


def read_scalar(text: str, vocab: Vocabulary, depth: int = 0) -> Read:
    """Read one expression (no relation, no environment)."""
    ph = Placeholders()
    try:
        source = _rewrite(shorthand(normalise(text), vocab) if depth == 0 else text, ph, vocab,
                          depth)
        if not source.strip():
            raise Unreadable("an expression is empty")
        tree = _parse(source)
        chosen = _disambiguate(tree, ph, vocab)
        value = _rebuild(chosen, ph, vocab, display=False)
        display = _rebuild(chosen, ph, vocab, display=True)
    except RecursionError:
        raise Unreadable("the answer is nested too deeply") from None
    except BadInput as exc:  # the matrix namespace refusing a product of wrong shapes
        raise Unreadable(_plain_message(exc.message)) from None
    except (TypeError, ValueError, NotImplementedError, ArithmeticError, AttributeError) as exc:
        # SymPy refusing to combine the parts (a matrix power, a condition as an argument …)
        raise Unreadable(f"cannot combine the parts of the answer ({type(exc).__name__})") \
            from None
    if isinstance(value, sp.logic.boolalg.Boolean) and not isinstance(value, sp.Expr):
        raise Unreadable("expected an expression here, not a condition")
    if depth == 0 and vocab.ones is not None and _undecided_ones(value):
        raise Unreadable("the length of the vector of ones 𝟏 cannot be decided from the product "
                         "it is in: give it as a subscript (𝟏_n for n ones)")
    return Read(value, display, ph.decimals)


def _undecided_ones(value) -> bool:
    return isinstance(value, sp.Basic) and any(
        d.name == "ones_size" for d in value.atoms(sp.Dummy))


def _plain_message(message: str) -> str:
    """The matrix namespace's messages in the student's notation: ``X*X.T*w`` → ``X·Xᵀ·w``,
    ``m x 1`` → ``m×1``."""
    message = re.sub(r"(\w|\))\.T\b", r"\1ᵀ", message)
    message = re.sub(r"(?<=\S)\*\*(?=\S)", "^", message)
    message = re.sub(r"(?<=\S)\*(?=\S)", "·", message)
    return re.sub(r"\b(\w+) x (\w+)\b", r"\1×\2", message)


def _parser():
    import sympy.physics.quantum  # noqa: F401  (imported by the grammar's transformer; load it
    # once outside evaluate(False), under which its module set-up fails)
    from sympy.parsing.latex.lark.latex_parser import _lark_latex_parser, _lark

    if _lark is None:  # pragma: no cover - lark is a dependency
        raise Unreadable("the LaTeX reader needs the 'lark' package")
    return _lark_latex_parser


_TREES: dict = memo.cache()   # source → Lark tree, or the Unreadable message


def _parse(source: str):
    """The Lark tree of ``source`` (its numbers and names already placeholders). The Earley
    parse is most of the cost of reading an answer, and the placeholders make sources recur
    (a class's answers to one part, the pieces of one answer read in turn: 96 distinct in
    1,736 parses of three corpus files), so trees are kept (never mutated: the readings build
    new nodes), as are refusals."""
    if source not in _TREES:
        if len(_TREES) > 4096:
            _TREES.clear()
        _TREES[source] = _parse_now(source)
    tree = _TREES[source]
    if isinstance(tree, str):
        raise Unreadable(tree)
    return tree


def _parse_now(source: str):
    import lark

    parser = _parser()
    try:
        return parser.parser.parse(source)
    except lark.exceptions.LarkError as exc:
        return _lark_message(exc, source)
    except RecursionError:
        return "the answer is nested too deeply"


def _lark_message(exc, source: str) -> str:
    column = getattr(exc, "column", None)
    if column and column > 0:
        near = source[max(0, column - 6): column + 6].strip()
        return f"cannot read the LaTeX near {near!r}"
    return "cannot read the LaTeX (incomplete expression?)"


def _transform(tree):
    import lark
    from sympy.core.parameters import evaluate
    from sympy.parsing.latex.lark.transformer import TransformToSymPyExpr

    try:
        with evaluate(False):
            return TransformToSymPyExpr().transform(tree)
    except (lark.exceptions.LarkError, ValueError, TypeError, AttributeError,
            NotImplementedError, RecursionError):
        raise Unreadable("cannot read the LaTeX") from None


def _disambiguate(tree, ph: Placeholders, vocab: Vocabulary):
    """Resolve every ``_ambig`` node of the Lark tree to its best reading; transform it."""
    import lark

    def resolve(node):
        if not isinstance(node, lark.Tree):
            return node
        children = [resolve(c) for c in node.children]
        if node.data == "_ambig":
            scored = []
            for child in children:
                try:
                    expr = _transform(child)
                except Unreadable:
                    continue
                if isinstance(expr, lark.Tree):
                    continue
                scored.append((_penalty(expr, ph, vocab), sp.count_ops(expr, visual=False)
                               if isinstance(expr, sp.Basic) else 0, len(scored), child))
            if not scored:
                raise Unreadable("cannot read the LaTeX")
            return min(scored, key=lambda t: t[:3])[3]
        return lark.Tree(node.data, children)

    result = _transform(resolve(tree))
    if isinstance(result, lark.Tree):
        raise Unreadable("cannot read the LaTeX")
    return result


def _penalty(expr, ph: Placeholders, vocab: Vocabulary) -> int:
    """Unknown function calls cost 2, unknown symbols 1: ``2L(a+b)`` is a product."""
    cost = 0
    if not isinstance(expr, sp.Basic):
        return 0
    for node in sp.preorder_traversal(expr):
        if isinstance(node, AppliedUndef) and str(node.func) not in vocab.applied:
            cost += 2
        elif isinstance(node, sp.Symbol) and ph.lookup(str(node.name)) is None:
            if not vocab.known(_clean(str(node.name))):
                cost += 1
    return cost


def _clean(name: str) -> str:
    return re.sub(r"[{}\\\s]", "", name)


def _checked_power(base, exponent):
    _check_exponent(base, exponent)
    return base ** exponent


def _check_exponent(base, exponent) -> None:
    problem = power_refusal(base, exponent)
    if problem:
        raise Unreadable(problem)


def _rebuild(expr, ph: Placeholders, vocab: Vocabulary, *, display: bool):
    """Evaluate the unevaluated tree bottom-up, placeholders and names resolved, sizes checked."""
    count = 0

    def walk(node, level):
        nonlocal count
        count += 1
        if count > MAX_NODES:
            raise Unreadable(f"the answer is too large (more than {MAX_NODES} parts)")
        if level > MAX_DEPTH:
            raise Unreadable("the answer is nested too deeply")
        if isinstance(node, sp.Symbol):
            name = str(node.name)
            index = ph.lookup(name)
            if index is not None:
                return (ph.displays if display else ph.values)[index]
            if name == "e" and not vocab.known("e"):
                return sp.E
            value, shown = _named(vocab, _clean(name))
            return shown if display else value
        if isinstance(node, (sp.Integer, sp.Rational)):
            if len(str(abs(node.p))) > MAX_INT_DIGITS or len(str(node.q)) > MAX_INT_DIGITS:
                raise Unreadable(f"a number has more than {MAX_INT_DIGITS} digits")
            return node
        if isinstance(node, sp.Float):
            return sp.Rational(str(node))
        if isinstance(node, AppliedUndef):
            name = _clean(str(node.func))
            args = [walk(a, level + 1) for a in node.args]
            if name in vocab.applied:
                return sp.Function(name)(*args)
            raise Unreadable(f"{name}(…) is not a function the key knows")
        if not node.args:
            if node in (sp.oo, -sp.oo, sp.zoo, sp.pi, sp.E, sp.S.Half, sp.nan) or node.is_number:
                return node
            raise Unreadable(f"{node} is not understood")
        if isinstance(node, sp.Pow):
            base = walk(node.args[0], level + 1)
            exponent = walk(node.args[1], level + 1)
            if base == sp.E and vocab.matrix(exponent) and "exp" in vocab.functions:
                # e^{-y w^T x}, e^{\boldsymbol{x}}: exp of a 1×1 product (a number) or entry by
                # entry (i13-general: additive)
                return vocab.functions["exp"][0](exponent)
            if vocab.ops is not None and vocab.ops.power is not None:
                _check_exponent(base, exponent)
                return vocab.ops.power(base, exponent)
            return _checked_power(base, exponent)
        if isinstance(node, (sp.Limit, sp.Integral, sp.Sum, sp.Product, sp.Derivative)) or \
                getattr(node, "is_Matrix", False):
            raise Unreadable(f"{type(node).__name__} is not understood in an answer")
        args = [walk(a, level + 1) for a in node.args]
        ops = vocab.ops
        if isinstance(node, sp.Mul) and ops is not None and ops.matmul is not None:
            result = args[0]
            for a in args[1:]:
                result = ops.matmul(result, a)
            return result
        if isinstance(node, sp.Add) and ops is not None and ops.add is not None:
            result = args[0]
            for a in args[1:]:
                result = ops.add(result, a)
            return result
        try:
            return node.func(*args)
        except (TypeError, ValueError) as exc:
            raise Unreadable(f"cannot combine the parts: {exc}") from None

    return walk(expr, 0)


