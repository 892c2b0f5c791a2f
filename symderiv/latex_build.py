"""Compile a .tex document to PDF with pdflatex, walled in.

- The source is written under a fixed safe name (``doc.tex``) in a private directory, and
  pdflatex is started with an argument list, never through a shell: no file name a user
  chooses ever reaches a command line.
- TeX runs with ``-no-shell-escape`` and kpathsea's paranoid file access (``openin_any=p``,
  ``openout_any=p``), under a CPU-time limit and a wall-clock timeout; on timeout the whole
  process group is killed, so no pdflatex is left behind.
- Only the PDF leaves the private directory; it is moved into place atomically.

The problem files' LaTeX is vetted by :mod:`symderiv.texsafe` before it gets here: this is
the second wall, not the first.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import LatexFailed

DEFAULT_TIMEOUT = 60.0
MAX_RUNS = 4
SOURCE = "doc"
COMMAND = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
           "-file-line-error", f"{SOURCE}.tex"]
MEMORY_LIMIT = 2 * 1024 ** 3


@dataclass(frozen=True)
class Built:
    """A compiled document: the PDF's bytes and the log of the last pdflatex run."""

    pdf: bytes
    log: str


def tex_available() -> bool:
    """True when pdflatex can be run."""
    return shutil.which("pdflatex") is not None


def safe_environment() -> dict[str, str]:
    """The environment for TeX: it may read and write files only below the working directory."""
    env = dict(os.environ)
    env.update(openin_any="p", openout_any="p", shell_escape="f", TEXMFOUTPUT="",
               LC_ALL="C.UTF-8")
    return env


def _limits(cpu_seconds: int):
    def apply() -> None:  # runs in the child before exec
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    return apply


def _run_once(work: Path, timeout: float) -> int:
    proc = subprocess.Popen(COMMAND, cwd=work, env=safe_environment(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, preexec_fn=_limits(int(timeout) + 1))
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise
    finally:
        if proc.poll() is None:  # an exception other than the timeout (KeyboardInterrupt …)
            _kill_group(proc)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def build_pdf(tex_source: str, timeout: float = DEFAULT_TIMEOUT, name: str = "document") -> Built:
    """Compile ``tex_source`` in a private temporary directory and return the PDF and the log.

    ``name`` is used in messages only. pdflatex is rerun (at most ``MAX_RUNS`` times) while
    the log asks for it (labels, page references, table widths).

    Raises:
        LatexFailed: pdflatex is missing, timed out or failed; the message has the error lines.
    """
    if not tex_available():
        raise LatexFailed("pdflatex is needed for --pdf; install TeX Live (see the README)")
    with tempfile.TemporaryDirectory(prefix="symderiv-tex-") as tmp:
        work = Path(tmp)
        (work / f"{SOURCE}.tex").write_text(tex_source, encoding="utf-8")
        log_path = work / f"{SOURCE}.log"
        left = timeout
        for _ in range(MAX_RUNS):
            started = time.monotonic()
            try:
                code = _run_once(work, left)
            except subprocess.TimeoutExpired:
                raise LatexFailed(f"{name}: LaTeX did not finish within {timeout:g} s") from None
            left -= time.monotonic() - started
            log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
            if code != 0:
                raise LatexFailed(f"{name}: LaTeX failed:\n" + error_lines(log))
            if "Rerun" not in log or left <= 0:
                break
        pdf = work / f"{SOURCE}.pdf"
        if not pdf.exists():
            raise LatexFailed(f"{name}: LaTeX wrote no PDF:\n" + error_lines(log))
        return Built(pdf.read_bytes(), log)


def compile_pdf(tex_source: str, stem: str, out_dir: Path, timeout: float = DEFAULT_TIMEOUT,
                logs: list[str] | None = None) -> Path:
    """Compile ``tex_source`` and write ``out_dir/<stem>.pdf`` atomically; return its path.

    ``stem`` names the output file only: it never reaches TeX or a command line. ``logs``,
    when given, receives the text of TeX's log (tests read it for overfull boxes).

    Raises:
        LatexFailed: as :func:`build_pdf`.
    """
    built = build_pdf(tex_source, timeout, name=f"{stem}.tex")
    if logs is not None:
        logs.append(built.log)
    from .export import write_bytes_atomic

    target = Path(out_dir) / f"{stem}.pdf"
    write_bytes_atomic(target, built.pdf)
    return target


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
