"""Untrusted text must never make LaTeX read or write files or run commands.

Two tools:

- :func:`escape` turns plain text into LaTeX that typesets the same characters;
- :func:`check_latex_fragment` vets LaTeX written in a problem file (statements, prose
  answers): math and formatting pass, while control sequences that touch files, the shell,
  category codes or build names at run time are refused with a clear message.

The compile step adds a second wall (``-no-shell-escape``, ``openin_any=p``,
``openout_any=p``), so either alone would have to fail for harm to be done.
"""

from __future__ import annotations

import re

from .errors import BadInput

_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "%": r"\%", "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
}
# Unicode that pdfLaTeX cannot typeset as text, as math
_UNICODE = {
    "τ": r"$\tau$", "μ": r"$\mu$", "σ": r"$\sigma$", "δ": r"$\delta$", "α": r"$\alpha$",
    "β": r"$\beta$", "λ": r"$\lambda$", "η": r"$\eta$", "θ": r"$\theta$", "ρ": r"$\rho$",
    "∫": r"$\int$", "∂": r"$\partial$", "≥": r"$\ge$", "≤": r"$\le$", "≠": r"$\ne$",
    "−": "-", "→": r"$\to$", "∞": r"$\infty$", "‖": r"$\|$", "ᵀ": r"$^\top$", "²": r"$^2$",
    "∇": r"$\nabla$", "…": r"\ldots{}", "×": r"$\times$", "⊙": r"$\odot$", "·": r"$\cdot$",
}
_ESCAPES.update(_UNICODE)
_ESCAPE_RE = re.compile("|".join(re.escape(k) for k in _ESCAPES))

FORBIDDEN = (
    "input", "include", "includeonly", "InputIfFileExists", "openin", "openout", "read",
    "readline", "write", "immediate", "newread", "newwrite", "closein", "closeout",
    "catcode", "uccode", "lccode", "csname", "endcsname", "expandafter", "def", "edef", "gdef",
    "xdef", "let", "futurelet", "newcommand", "renewcommand", "providecommand",
    "DeclareRobustCommand", "makeatletter", "usepackage", "RequirePackage", "documentclass",
    "special", "directlua", "latelua", "pdfprimitive", "primitive", "verbatiminput",
    "lstinputlisting", "includegraphics", "import", "subimport", "subfile", "loop",
    "everyeof", "everypar", "everymath", "everydisplay", "jobname", "endinput", "scantokens",
    "outer", "pdfshellescape", "ShellEscape", "shellescape", "filecontents", "pgfplotstableread",
    "tikzexternalize", "addplot", "url", "href", "write18", "string", "meaning", "detokenize",
    "uppercase", "lowercase", "afterassignment", "aftergroup", "globaldefs",
)
_CONTROL = re.compile(r"\\([A-Za-z@]+)")
MAX_TEXT = 20000


def escape(text: str) -> str:
    """Plain text → LaTeX that prints exactly these characters."""
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group()], str(text))


def check_latex_fragment(text: str) -> str:
    """Return ``text`` if it is safe LaTeX to include; raise :class:`BadInput` otherwise."""
    if len(text) > MAX_TEXT:
        raise BadInput(f"text is too long ({len(text)} characters; the limit is {MAX_TEXT})")
    if "^^" in text:
        raise BadInput("'^^' character codes are not allowed in LaTeX text")
    for match in _CONTROL.finditer(text):
        name = match.group(1)
        if name in FORBIDDEN or "@" in name:
            raise BadInput(f"the LaTeX command \\{name} is not allowed in a problem file")
    for env in re.findall(r"\\begin\s*\{([^}]*)\}", text):
        if env.strip().rstrip("*") in {"filecontents", "verbatimwrite", "tikzpicture", "axis"}:
            raise BadInput(f"the LaTeX environment {env!r} is not allowed in a problem file")
    depth = 0
    for ch in re.sub(r"\\[{}]", "", text):
        depth += ch == "{"
        depth -= ch == "}"
        if depth < 0:
            raise BadInput("unbalanced braces in LaTeX text")
    if depth:
        raise BadInput("unbalanced braces in LaTeX text")
    return text
