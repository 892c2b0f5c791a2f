"""Untrusted text must never make LaTeX read or write files, run commands or forge the key.

Three tools:

- :func:`escape` turns plain text (a student's name, an unreadable answer, a file name) into
  LaTeX that typesets the same characters; characters pdfLaTeX has no glyph for are shown
  as their code point, never passed through.
- :func:`check_latex_fragment` vets LaTeX written in a problem file (statements, prose
  answers, names of functions) against an **allowlist**: the text and math commands listed
  in :data:`TEXT_COMMANDS`, :data:`MATH_COMMANDS` and the environments in
  :data:`ENVIRONMENTS` pass; everything else (file primitives, ``\\csname``, catcodes,
  definitions, PDF objects and actions, ``expl3``, the document's own environments) is
  refused with a one-line message naming the command.
- :func:`check_document_body` is the last gate before TeX: the body of a rendered document
  may use only the allowlisted commands and the commands our templates use
  (:data:`TEMPLATE_COMMANDS`). It is a second wall behind the vetting of every input.

The compile step adds a third wall (no shell escape, paranoid file access, a private build
directory, CPU and time limits).
"""

from __future__ import annotations

import re
import unicodedata

from .errors import BadInput

# ── plain text → LaTeX ─────────────────────────────────────────────────────────────────────

_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "%": r"\%", "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
}
# Unicode with a math meaning: typeset as math (the document preamble declares the same set
# with \DeclareUnicodeCharacter, so it may also appear in vetted LaTeX)
UNICODE_MATH = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon",
    "ζ": r"\zeta", "η": r"\eta", "θ": r"\theta", "ι": r"\iota", "κ": r"\kappa",
    "λ": r"\lambda", "μ": r"\mu", "ν": r"\nu", "ξ": r"\xi", "π": r"\pi", "ρ": r"\rho",
    "σ": r"\sigma", "τ": r"\tau", "υ": r"\upsilon", "φ": r"\varphi", "χ": r"\chi",
    "ψ": r"\psi", "ω": r"\omega", "Γ": r"\Gamma", "Δ": r"\Delta", "Θ": r"\Theta",
    "Λ": r"\Lambda", "Ξ": r"\Xi", "Π": r"\Pi", "Σ": r"\Sigma", "Φ": r"\Phi", "Ψ": r"\Psi",
    "Ω": r"\Omega", "∫": r"\int", "∂": r"\partial", "≥": r"\ge", "≤": r"\le", "≠": r"\ne",
    "≈": r"\approx", "→": r"\to", "←": r"\leftarrow", "⇒": r"\Rightarrow", "⇔": r"\Leftrightarrow",
    "∞": r"\infty", "‖": r"\|", "ᵀ": r"^{\top}", "²": r"^{2}", "³": r"^{3}", "∇": r"\nabla",
    "×": r"\times", "⊙": r"\odot", "·": r"\cdot", "∈": r"\in", "∑": r"\sum", "∏": r"\prod",
    "√": r"\surd", "±": r"\pm", "∀": r"\forall", "∃": r"\exists", "⊤": r"\top",
    "ℓ": r"\ell", "∘": r"\circ", "⊗": r"\otimes", "∅": r"\emptyset", "ℝ": r"\mathbb{R}",
    "≡": r"\equiv", "∝": r"\propto", "⟨": r"\langle", "⟩": r"\rangle",
    # a layer's superscript in feedback: W⁽²⁾
    "⁽": r"^{(}", "⁾": r"^{)}", "⁰": r"^{0}", "⁴": r"^{4}", "⁵": r"^{5}", "⁶": r"^{6}",
    "⁷": r"^{7}", "⁸": r"^{8}", "⁹": r"^{9}",
}
_TEXT_UNICODE = {"−": "-", "–": "--", "—": "---", "…": r"\ldots{}", "‘": "`", "’": "'",
                 "“": "``", "”": "''", "\u00a0": "~"}
_ESCAPES.update({k: f"${v}$" for k, v in UNICODE_MATH.items()})
_ESCAPES.update(_TEXT_UNICODE)
# plain-text feedback in the statement's notation (check/report.py): W₂, x₁₂, 𝟏ᵀ in a sentence
# of the feedback sheet (escaped text only; not declared in the preamble)
_ESCAPES.update({chr(0x2080 + d): f"$_{{{d}}}$" for d in range(10)})
_ESCAPES["𝟏"] = r"$\mathbf{1}$"
_ESCAPE_RE = re.compile("|".join(re.escape(k) for k in sorted(_ESCAPES, key=len, reverse=True)))


def unicode_declarations() -> str:
    """Preamble lines that let pdfLaTeX typeset the math characters a statement may contain
    directly (σ, ≤, ∞ …), in text and in math alike."""
    chars = {**UNICODE_MATH, "−": "-"}
    return "\n".join(f"\\DeclareUnicodeCharacter{{{ord(ch):04X}}}{{\\ensuremath{{{tex}}}}}"
                     for ch, tex in chars.items())


def typesettable(ch: str) -> bool:
    """True when pdfLaTeX (T1 fonts, UTF-8 input) prints ``ch`` as itself."""
    code = ord(ch)
    if ch in "\n\t":
        return True
    if code < 0x20 or 0x7F <= code < 0xA0:
        return False
    if code < 0x7F:
        return True
    # Latin-1 and Latin Extended-A letters are in T1; symbols of Latin-1 too (not soft hyphen)
    return 0xA1 <= code <= 0x17F and code != 0xAD and unicodedata.category(ch) != "Cf"


def escape(text: str) -> str:
    """Plain text → LaTeX that prints exactly these characters.

    Characters with no glyph in the document's fonts (CJK, emoji, control characters) are
    printed as their code point, e.g. ``[U+4E2D]``, so no text can break the build. Line
    breaks and tabs become spaces: escaped text is one line (it may sit in a comment).
    """
    text = re.sub(r"[\r\n\t\f\v]", " ", str(text))
    out = []
    for piece in re.split(f"({_ESCAPE_RE.pattern})", str(text)):
        if not piece:
            continue
        if piece in _ESCAPES:
            out.append(_ESCAPES[piece])
        else:
            out.append("".join(ch if typesettable(ch) else f"[U+{ord(ch):04X}]" for ch in piece))
    return "".join(out)


# ── the allowlist ──────────────────────────────────────────────────────────────────────────

TEXT_COMMANDS = frozenset("""
textbf textit emph textrm textsf textsc textup textnormal underline mbox text
ldots dots cdots vdots ddots quad qquad enspace thinspace par newline noindent
item footnote textsuperscript textsubscript smallskip medskip bigskip
tiny scriptsize footnotesize small normalsize large Large
LaTeX TeX today S P copyright dag ddag
hspace vspace hfill vfill linebreak nolinebreak pagebreak nopagebreak
centering raggedright raggedleft
hline cline multicolumn toprule midrule bottomrule cmidrule addlinespace
ss ae AE oe OE aa AA o O l L i j
""".split())

MATH_COMMANDS = frozenset("""
oslash
alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu
xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega
Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega
frac dfrac tfrac cfrac sqrt sum prod coprod int iint iiint oint lim limsup liminf
max min sup inf arg det dim ker exp log ln lg sin cos tan cot sec csc arcsin arccos arctan
sinh cosh tanh coth deg gcd hom Pr
mathrm mathbf mathit mathcal mathbb mathsf mathtt mathfrak mathscr boldsymbol operatorname
hat widehat bar overline underline tilde widetilde vec dot ddot check breve acute grave
overrightarrow overleftarrow overbrace underbrace overset underset stackrel
prime partial nabla infty cdot times div pm mp ast star circ bullet odot otimes oplus
le leq ge geq neq ne approx sim simeq cong equiv propto ll gg prec succ preceq succeq
in notin ni subset subseteq supset supseteq cup cap setminus emptyset varnothing
forall exists nexists neg lnot land lor wedge vee implies impliedby iff
to gets rightarrow leftarrow Rightarrow Leftarrow leftrightarrow Leftrightarrow
longrightarrow longleftarrow Longrightarrow Longleftarrow longmapsto mapsto uparrow downarrow
top bot perp parallel mid nmid vert Vert lvert rvert lVert rVert
langle rangle lfloor rfloor lceil rceil lbrace rbrace backslash
left right middle big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr
ell hbar imath jmath Re Im aleph wp angle triangle square Box Diamond checkmark
dagger ddagger therefore because colon intercal
displaystyle textstyle scriptstyle scriptscriptstyle
binom tbinom dbinom choose not
mathop limits nolimits mathrel mathbin mathord mathopen mathclose mathpunct
quad qquad allowbreak bmod pmod mathring lbrack rbrack geqslant leqslant lesssim gtrsim
xrightarrow xleftarrow Longleftrightarrow longleftrightarrow cdotp ldotp varkappa varPhi
varTheta varSigma varOmega varDelta digamma epsilon_ hookrightarrow nearrow searrow
sqcup sqcap bigcup bigcap bigoplus bigotimes bigodot biguplus bigvee bigwedge smallsetminus
lesseqgtr trianglelefteq trianglerighteq blacksquare square lozenge circledast
""".split())

ENVIRONMENTS = frozenset("""
itemize enumerate description center flushleft flushright quote quotation
equation equation* align align* aligned alignat alignat* alignedat gather gather* gathered
multline multline* split cases dcases matrix pmatrix bmatrix Bmatrix vmatrix Vmatrix
smallmatrix array tabular subarray
""".split())

# control symbols (a backslash and one non-letter) that only typeset
CONTROL_SYMBOLS = frozenset(",;:! \\{}%$&#_|'\"`^~=./()[]-\n\t")

# Commands the templates themselves use in a document's body: allowed there, never in input.
TEMPLATE_COMMANDS = frozenset("""
question solution begin end draw node path fill coordinate foreach addplot addlegendentry
rulename tag renewcommand arraystretch paragraph boxed fbox parbox linewidth fboxsep fboxrule
dimexpr textwidth columnwidth hsize bfseries itshape ttfamily rmfamily sffamily normalfont
texttt textsf printanswers makebox raisebox rule strut phantom vphantom hphantom
caption label ref tableofcontents newpage clearpage
setlength tabcolsep questionheading textbackslash textasciicircum textasciitilde arraybackslash endhead endfirsthead endfoot endlastfoot textcolor color verdict
""".split())

_CONTROL = re.compile(r"\\([A-Za-z]+|.)", re.S)
_ENV = re.compile(r"\\(begin|end)(?![A-Za-z])\s*(\{([^{}]*)\})?")
MAX_TEXT = 20000


def _refuse(message: str) -> BadInput:
    return BadInput(message)


def _check_characters(text: str) -> None:
    for ch in text:
        if typesettable(ch) or ch in UNICODE_MATH or ch in _TEXT_UNICODE or ch == "\r":
            continue
        name = unicodedata.name(ch, "a control character")
        raise _refuse(f"the character U+{ord(ch):04X} ({name}) cannot be typeset: write it "
                      "in LaTeX (e.g. \\alpha) or leave it out")


def _first_unknown(text: str, allowed: frozenset[str]) -> str | None:
    """The first command or control symbol of ``text`` outside ``allowed`` (with its backslash)."""
    for match in _CONTROL.finditer(text):
        name = match.group(1)
        symbol = len(name) == 1 and not name.isalpha()
        if (name not in CONTROL_SYMBOLS) if symbol else (name not in allowed):
            return "\\" + name
    return None


def _check_commands(text: str, allowed: frozenset[str], where: str) -> None:
    unknown = _first_unknown(text, allowed)
    if unknown is None:
        return
    if len(unknown) == 2 and not unknown[1].isalpha():
        raise _refuse(f"the LaTeX control symbol {unknown} is not allowed {where}")
    raise _refuse(f"the LaTeX command {unknown} is not allowed {where} "
                  "(see docs/problem-format.md for the commands a statement may use)")


def _check_environments(text: str, allowed: frozenset[str], where: str) -> None:
    stack: list[str] = []
    for match in _ENV.finditer(text):
        kind, name = match.group(1), match.group(3)
        if name is None:
            raise _refuse(f"\\{kind} must be followed by an environment name in braces")
        name = name.strip()
        if name not in allowed:
            raise _refuse(f"the LaTeX environment {name!r} is not allowed {where}")
        if kind == "begin":
            stack.append(name)
        elif not stack or stack.pop() != name:
            raise _refuse(f"\\end{{{name}}} does not close an environment opened in the same text")
    if stack:
        raise _refuse(f"\\begin{{{stack[-1]}}} is not closed by \\end{{{stack[-1]}}}")


def _check_braces_and_math(text: str, inline: bool) -> None:
    plain = re.sub(r"\\.", "", text, flags=re.S)  # drop control symbols (\{ \} \$ \\ …)
    plain = re.sub(r"(?<!\\)%.*", "", plain)       # comments
    depth = 0
    for ch in plain:
        depth += ch == "{"
        depth -= ch == "}"
        if depth < 0:
            raise _refuse("unbalanced braces in LaTeX text")
    if depth:
        raise _refuse("unbalanced braces in LaTeX text")
    if "#" in plain:
        raise _refuse("'#' is not allowed in LaTeX text (write \\# for the sign)")
    if inline:
        if "$" in plain or "%" in re.sub(r"\\.", "", text, flags=re.S):
            raise _refuse("a name is math already: write it without $ and without %")
        if "\n" in text:
            raise _refuse("a name must fit on one line")
    else:
        singles = re.sub(r"\$\$", "", plain).count("$")
        if plain.count("$$") % 2 or singles % 2:
            raise _refuse("unbalanced $ in LaTeX text (a formula is not closed)")


_DISPLAY_MATH_ENVS = ("equation", "equation*", "align", "align*", "alignat", "alignat*", "gather",
                      "gather*", "multline", "multline*")
_MATH_REGIONS = re.compile(
    r"\$\$.*?\$\$|(?<!\\)\$.*?(?<!\\)\$|\\\[.*?\\\]|\\\(.*?\\\)|"
    + "|".join(rf"\\begin\{{{re.escape(e)}\}}.*?\\end\{{{re.escape(e)}\}}" for e in _DISPLAY_MATH_ENVS),
    re.S)


def _check_scripts_outside_math(text: str) -> None:
    """``^`` and ``_`` are math: in running text LaTeX stops with "Missing $ inserted" (h2^2/2
    in a statement), after symderiv has written the key."""
    rest = _MATH_REGIONS.sub(" ", re.sub(r"(?<!\\)%.*", "", text))
    rest = re.sub(r"\\.", "", rest, flags=re.S)   # \_ \^ \$ are text characters
    for ch, name, other in (("^", "a superscript '^'", ""),
                            ("_", "a subscript '_'", " (or \\_ for the character)")):
        at = rest.find(ch)
        if at >= 0:
            words, right = rest[:at].split(), rest[at:].split()
            stem = "" if rest[:at][-1:].isspace() or not words else words.pop()
            near = " ".join(words[-2:] + [stem + (right[0] if right else "")])
            raise _refuse(f"{name} outside a formula (near {near!r}): LaTeX reads it only in math, "
                          f"so write it between $ signs{other}")


def check_latex_fragment(text: str, *, inline: bool = False) -> str:
    """Return ``text`` if it is LaTeX a problem file may contain; raise :class:`BadInput`.

    ``inline=True`` is for names typeset inside a formula (a function's ``latex``): math
    commands only, one line, no ``$``, no environments.
    """
    if not isinstance(text, str):
        raise _refuse(f"expected a string, got {type(text).__name__}")
    limit = 200 if inline else MAX_TEXT
    if len(text) > limit:
        raise _refuse(f"text is too long ({len(text)} characters; the limit is {limit})")
    if "^^" in text:
        raise _refuse("'^^' character codes are not allowed in LaTeX text")
    _check_characters(text)
    where = "in a name" if inline else "in a problem file"
    allowed = MATH_COMMANDS if inline else MATH_COMMANDS | TEXT_COMMANDS | {"begin", "end"}
    _check_commands(text, allowed, where)
    if not inline:
        _check_environments(text, ENVIRONMENTS, where)
    _check_braces_and_math(text, inline)
    if not inline:
        _check_scripts_outside_math(text)
    return text


def check_document_body(document: str) -> str:
    """The last gate before TeX: refuse a rendered document whose body uses a command or an
    environment outside the allowlists (it would mean some input escaped its vetting).

    Raises:
        BadInput: naming the command; nothing is compiled or written.
    """
    start = document.find(r"\begin{document}")
    body = document[start:] if start >= 0 else document
    if "^^" in body:
        raise _refuse("the rendered document contains '^^' character codes: refused")
    unknown = _first_unknown(body, MATH_COMMANDS | TEXT_COMMANDS | TEMPLATE_COMMANDS)
    if unknown is not None:
        raise _refuse(f"the rendered document uses {unknown}, which neither the templates nor "
                      "a vetted input may bring in: nothing was compiled or written")
    for match in _ENV.finditer(body):
        name = (match.group(3) or "").strip()
        if name not in ENVIRONMENTS | _TEMPLATE_ENVIRONMENTS:
            raise _refuse(f"the rendered document uses the environment {name!r}: refused")
    return document


_TEMPLATE_ENVIRONMENTS = frozenset("""
document questions parts solution proof tikzpicture axis longtable tabularx minipage adjustbox
figure table scope
""".split())
