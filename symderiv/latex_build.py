"""Compile a .tex file to PDF with latexmk: no shell escape, paranoid file access, a timeout."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .errors import LatexFailed

DEFAULT_TIMEOUT = 180.0
COMMAND = ["latexmk", "-norc", "-pdf", "-interaction=nonstopmode", "-halt-on-error",
           "-no-shell-escape", "-file-line-error"]


def latexmk_available() -> bool:
    return shutil.which("latexmk") is not None and shutil.which("pdflatex") is not None


def safe_environment() -> dict[str, str]:
    """The environment for TeX: it may read and write files only below the working directory."""
    env = dict(os.environ)
    env.update(openin_any="p", openout_any="p", shell_escape="f", TEXMFOUTPUT="")
    return env


def compile_pdf(tex_source: str, stem: str, out_dir: Path, timeout: float = DEFAULT_TIMEOUT,
                logs: list[str] | None = None) -> Path:
    """Compile ``tex_source`` in a private directory; move only the PDF to ``out_dir``.

    ``logs``, when given, receives the text of TeX's log (tests read it for overfull boxes).

    Raises:
        LatexFailed: latexmk is missing, timed out or failed; the message has the error lines.
    """
    if not latexmk_available():
        raise LatexFailed("latexmk and pdflatex are needed for --pdf; install TeX Live "
                          "(see the README)")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".symderiv-", dir=out_dir) as work:
        tex = Path(work) / f"{stem}.tex"
        tex.write_text(tex_source, encoding="utf-8")
        try:
            proc = subprocess.run(COMMAND + [tex.name], cwd=work, env=safe_environment(),
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise LatexFailed(f"{stem}.tex: LaTeX did not finish within {timeout:g} s") from None
        pdf = Path(work) / f"{stem}.pdf"
        if proc.returncode != 0 or not pdf.exists():
            log = Path(work) / f"{stem}.log"
            text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else proc.stdout
            raise LatexFailed(f"{stem}.tex: LaTeX failed:\n" + error_lines(text))
        if logs is not None:
            logs.append(read_log(Path(work) / f"{stem}.log"))
        target = out_dir / f"{stem}.pdf"
        os.replace(pdf, target)
        return target


def read_log(path: Path) -> str:
    """A TeX log's text ("" when there is none)."""
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def error_lines(log: str, context: int = 3, most: int = 5) -> str:
    """The lines of a TeX log that say what went wrong (``!`` lines and file:line: errors)."""
    lines = log.splitlines()
    picked: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith("!") or (": " in line and line.split(":")[1:2] and
                                    line.split(":")[1].strip().isdigit() and ".tex" in line):
            picked.extend(lines[i:i + context])
            if len(picked) >= most * context:
                break
    return "\n".join(picked) if picked else "\n".join(lines[-15:])
