"""Stage 1 of reading an answer: normalise the text (no mathematics is read here).

A student's answer arrives as Mathpix LaTeX (``$$\\boxed{\\hat{y} = 1.33}.$$``), hand-typed
LaTeX or plain text. :func:`normalise` strips what carries no mathematics (math delimiters,
``\\boxed``, ``\\underline``, sizing and spacing commands, trailing punctuation) and writes the
synonyms one way (``\\lt`` is ``<``, ``\\rightarrow`` is ``\\to``, ``\\implies`` is
``\\Rightarrow``, ``\\mid`` is ``|``, ``\\mathrm{e}`` is ``e``, Unicode symbols become their
LaTeX commands). :func:`split_top` splits text at separators outside every bracket; the
relation splitter, the list and condition readers and the LaTeX reader all use it.

Everything here is text to text; nothing is evaluated.
"""

from __future__ import annotations

import re
from typing import Callable

from ..parse import MAX_INT_DIGITS
from .base import Unreadable

MAX_LATEX = 600


_BIGINT = re.compile(r"\d{%d,}" % (MAX_INT_DIGITS + 1))

# one spelling per symbol (the relation splitter and the readers look for these)
UNICODE = {"∞": r"\infty ", "≤": r"\le ", "≥": r"\ge ", "≠": r"\neq ", "·": r"\cdot ",
           "×": r"\times ", "−": "-", "–": "-", "σ": r"\sigma ", "α": r"\alpha ",
           "β": r"\beta ", "τ": r"\tau ", "θ": r"\theta ", "η": r"\eta ", "λ": r"\lambda ",
           "π": r"\pi ", "Φ": r"\Phi ", "φ": r"\varphi ", "ŷ": r"\hat{y}", "→": r"\to ",
           "⇒": r"\Rightarrow ", "⟹": r"\Rightarrow ", "≈": r"\approx ", "∂": r"\partial ",
           "∇": r"\nabla ", "ᵀ": "^T ", "²": "^2 ", "³": "^3 ", "′": "'", "…": r"\ldots ",
           "‖": r"\| ", "δ": r"\delta ", "ε": r"\varepsilon ", "μ": r"\mu ", "γ": r"\gamma ",
           "𝟏": r"\mathbf{1}", "𝟙": r"\mathbb{1}"}
SYNONYMS = [  # (pattern, replacement), applied in order
    (r"\\(lt)(?![A-Za-z])", "<"), (r"\\(gt)(?![A-Za-z])", ">"),
    (r"\\(rightarrow|longrightarrow|mapsto)(?![A-Za-z])", r"\\to "),
    (r"\\(implies|Longrightarrow|Rightarrow|Leftrightarrow|Longleftrightarrow|iff)(?![A-Za-z])",
     r"\\Rightarrow "),
    (r"\\(simeq|thickapprox)(?![A-Za-z])", r"\\approx "),
    (r"\\(dots|cdots|ldots|dotsc|dotsb)(?![A-Za-z])", r"\\ldots "),
    (r"\\(lVert|rVert|Vert)(?![A-Za-z])", r"\\| "),
    (r"\\(mid|vert|lvert|rvert)(?![A-Za-z])", "|"),
    (r"\\(leqq|leqslant|leq)(?![A-Za-z])", r"\\le "),
    (r"\\(geqq|geqslant|geq)(?![A-Za-z])", r"\\ge "),
    (r"\\(mathrm|text|operatorname|textrm|mathit)\s*\{\s*e\s*\}", "e"),
    (r"\\(dfrac|tfrac|cfrac)(?![A-Za-z])", r"\\frac"),
    (r"\\(intercal|top)(?![A-Za-z])", r"\\top "),
    # S^{-T}, \mathbf{S}^{-\top}: a matrix's inverse transposed (a capital or bold name; e^{-T}
    # and t^{-T} are powers) (i13-general: a new row)
    (r"((?:\\(?:mathbf|boldsymbol|bm)\s*\{\s*[A-Za-z]\s*\})|(?<![A-Za-z\\])[A-Z])\s*\^\s*"
     r"\{\s*-\s*(?:T|\\top)\s*\}", r"(\1^{-1})^{\\top}"),
]
# "7 \text{ iterations}", "7 steps": a count's unit word after a number
UNITS = re.compile(r"(?<=[\d}])\s*(\\text\s*\{\s*|\\mathrm\s*\{\s*)?(iterations?|steps?|updates?|"
                   r"epochs?|iters?)\s*\}?\s*$")
_DELIMITERS = (("$$", "$$"), ("$", "$"), (r"\[", r"\]"), (r"\(", r"\)"))
_WRAPPERS = re.compile(r"\\(boxed|underline|fbox|bbox|textbf|mathbf\s*(?=\{\s*\\boxed))\s*(?=\{)")
_ENVIRONMENTS = re.compile(r"\\(begin|end)\s*\{(equation|align|displaymath|gather|math)\*?\}")


def normalise(text: str) -> str:
    """Strip math delimiters, wrappers, sizing and spacing commands; one spelling per symbol.

    Refuses (:class:`Unreadable`) what is too long or has too many digits, before anything
    else looks at it.
    """
    if len(text) > MAX_LATEX:
        raise Unreadable(f"the answer is too long ({len(text)} characters; the limit is "
                         f"{MAX_LATEX})")
    if _BIGINT.search(text):
        raise Unreadable(f"a number has more than {MAX_INT_DIGITS} digits")
    s = text.strip()
    if re.search(r"(?<!\\)(\\\\)*\\$", s):
        raise Unreadable("a backslash ends the answer")
    s = "".join(UNICODE.get(ch, ch) for ch in s)
    s = _ENVIRONMENTS.sub(" ", s)
    s = re.sub(r"\\(tag|label)\s*\{[^{}]*\}", " ", s)
    for _ in range(3):  # "$$x$$." and "\[ x \]," : punctuation after the delimiters
        s = re.sub(r"(\\(square|blacksquare|qed|Box)(?![A-Za-z])|\\text\s*\{\s*(QED|qed|Q\.E\.D\.)\s*\})"
                   r"\s*(\$*)\s*$", r"\4", s).strip()
        s = re.sub(r"(\s|\\[,;:!]|\\quad|\\qquad)*([.,;:]\s*)?$", "", s).strip()
        for opener, closer in _DELIMITERS:
            if s.startswith(opener) and s.endswith(closer) and len(s) >= len(opener) + len(closer):
                s = s[len(opener): len(s) - len(closer)].strip()
                break
    s = _unwrap(s)
    s = re.sub(r"\\(left|right|[bB]igg?[lr]?)\s*\.", " ", s)
    s = re.sub(r"\\(left|right|[bB]igg?[lr]?)(?![A-Za-z])", " ", s)
    s = re.sub(r"\\(displaystyle|textstyle|scriptstyle|limits|nolimits|quad|qquad|hfill"
               r"|enspace|thinspace|medspace|thickspace)(?![A-Za-z])", " ", s)
    s = re.sub(r"\\(hspace|vspace|phantom)\*?\s*\{[^{}]*\}", " ", s)
    s = re.sub(r"(?<!\\)\\[,;:! ]", " ", s)
    s = s.replace("~", " ").replace("**", "^")  # x**2 in a plain answer read as LaTeX
    for pattern, replacement in SYNONYMS:
        s = re.sub(pattern, replacement, s)
    s = _remark(s)
    s = re.sub(r"^(\\Rightarrow|\\therefore)\s*(?=\S)", "", s)  # "⇒ F(q) = τ": nothing before
    s = re.sub(r"(\\text\s*\{\s*[.,;]\s*\}|[.,;])\s*$", "", s).strip()
    s = UNITS.sub("", s).strip()
    s = re.sub(r"\s+", " ", s)
    if not s:
        raise Unreadable("the answer is empty")
    return s


_REMARK = re.compile(r"\\text\s*\{\s*\(([^{}()]*(?:\([^{}()]*\)[^{}()]*)*)\)\s*\}\s*$"
                     r"|\\text\s*\{\s*((?:same as|see|as in)\b[^{}]*)\}\s*$", re.IGNORECASE)


def _remark(s: str) -> str:
    """A remark after the answer, ``\\hat y - y \\qquad \\text{(Same as 1.1)}``, is passed over;
    a reference alone is not an answer."""
    m = _REMARK.search(s)
    if m is None:
        return s
    before = s[: m.start()].strip()
    if not before:
        said = (m.group(1) or m.group(2)).strip()
        raise Unreadable(f"“{said}” refers to another answer: write the answer itself")
    return before


def _unwrap(s: str) -> str:
    """``\\boxed{x}``, ``\\underline{x}`` → ``x`` (at any depth)."""
    for _ in range(10):
        m = _WRAPPERS.search(s)
        if not m:
            return s
        start = m.end()
        depth, i = 0, start
        while i < len(s):
            if s[i] == "\\":
                i += 2
                continue
            if s[i] == "{":
                depth += 1
            elif s[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        if i >= len(s):
            raise Unreadable(f"\\{m.group(1)}{{…}} is not closed")
        s = s[: m.start()] + " " + s[start + 1: i] + " " + s[i + 1:]
    return s


def split_top(text: str, separators: tuple[str, ...],
              accept: Callable[[str, int, str], bool] | None = None) -> list[tuple[str, str]]:
    """Split ``text`` at separators outside every bracket: [(piece, separator before it)].

    ``accept(text, i, sep)`` may refuse a match (``=`` inside ``<=``).
    """
    pieces: list[tuple[str, str]] = []
    depth = 0
    start, before = 0, ""
    i = 0
    while i < len(text):
        if text.startswith(r"\begin", i) or text.startswith(r"\end", i):
            # an environment is one piece: the = and \le of a cases environment's conditions
            depth += 1 if text.startswith(r"\begin", i) else -1
            i += 6 if text.startswith(r"\begin", i) else 4
            continue
        if text.startswith(r"\{", i) or text.startswith(r"\left", i):
            depth += text.startswith(r"\{", i)
            i += 2 if text.startswith(r"\{", i) else 5
            continue
        if text.startswith(r"\}", i):
            depth -= 1
            i += 2
            continue
        ch = text[i]
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif depth == 0:
            for sep in separators:
                if text.startswith(sep, i):
                    # \le must not match \left; \in must not match \infty
                    after = text[i + len(sep): i + len(sep) + 1]
                    if sep[0] == "\\" and sep[-1].isalpha() and after.isalpha():
                        continue
                    if accept is not None and not accept(text, i, sep):
                        continue
                    pieces.append((text[start:i], before))
                    before = sep
                    i += len(sep)
                    start = i
                    break
            else:
                i += 1
            continue
        i += 1
    pieces.append((text[start:], before))
    return pieces


def looks_latex(text: str) -> bool:
    return any(ch in text for ch in "\\{}$")
