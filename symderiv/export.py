"""The machine-readable key, and atomic writes of every output file."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import sympy as sp
from sympy.printing.str import StrPrinter

from .errors import BadInput
from .render import tex


def answer_entry(value: Any, display: Any = None) -> dict[str, str]:
    """``{"sympy": ..., "latex": ...}``; the SymPy string parses back to the same value."""
    entry = {"sympy": _sympy_string(value), "latex": _latex(value)}
    if display is not None and display != value:
        entry["teacher"] = tex(display)
    return entry


def sympy_string(value: Any) -> str:
    """The ``sympy`` field of an answer alone (no LaTeX): what parses back to ``value``."""
    return _sympy_string(value)


class PlainPrinter(StrPrinter):
    """``str`` of SymPy, with a 1 × 1 product used as a number printed as the product."""

    def _print_Trace(self, expr):
        # a 1 x 1 product used as a number: tr(wᵀx) is wᵀx
        if getattr(expr.arg, "shape", None) == (1, 1):
            return "(" + self._print(expr.arg) + ")"
        return super()._print_Trace(expr)


class _RoundTripPrinter(PlainPrinter):
    """Plain printing, except that a symbol named like a SymPy global (``beta``, ``gamma``,
    ``E``, ``S`` …) is written ``Symbol('beta')`` so that ``parse_expr`` gives it back."""

    def _print_Symbol(self, expr):
        if expr.name in _SYMPY_NAMES:
            return f"Symbol({expr.name!r})"
        return super()._print_Symbol(expr)

    def _print_Identity(self, expr):
        # "I" would parse back as the imaginary unit
        return f"Identity({self._print(expr.rows)})"

    def _print_OneMatrix(self, expr):
        # StrPrinter writes a matrix of ones as "1": parse_expr would read the number
        return f"OneMatrix({self._print(expr.rows)}, {self._print(expr.cols)})"

    def _print_ZeroMatrix(self, expr):
        return f"ZeroMatrix({self._print(expr.rows)}, {self._print(expr.cols)})"


_SYMPY_NAMES = frozenset(name for name in dir(sp) if not name.startswith("_"))
_PRINTER = _RoundTripPrinter()


def _latex(value: Any) -> str:
    """A list (iterates, eigenvalues) as a bracketed list of LaTeX values, not Python text."""
    if isinstance(value, (list, tuple)):
        return r"\left[" + ", ".join(_latex(v) for v in value) + r"\right]"
    if isinstance(value, str) and _SHAPE.match(value):   # a shape, "n x 1": n \times 1
        return r" \times ".join(tex(sp.Symbol(d)) if not d.isdigit() else d for d in value.split(" x "))
    return tex(value)


_SHAPE = re.compile(r"^[A-Za-z0-9_]+( x [A-Za-z0-9_]+)+$")


def _sympy_string(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_sympy_string(v) for v in value) + "]"
    if isinstance(value, sp.MatrixBase):
        return "Matrix(" + _PRINTER.doprint(sp.Matrix(value).tolist()) + ")"
    return _PRINTER.doprint(value)


def key_json(problem_set, solutions) -> dict:
    """The machine-readable key. Every problem has ``"solved"``; one that was not solved
    (see ``solve.Unsolved``) has ``"reason"`` and no answers, and is listed again in the
    top-level ``"unsolved"`` (``[{"id", "reason"}]``, empty when every part was solved)."""
    from .render import written
    from .written import problem_decimals

    problems = []
    for s in solutions:
        # the decimals the problem writes are LaTeX'd as written, as in the key (render.WRITTEN):
        # a derivative's function by function (its labels start with the function's name)
        decimals = tuple(problem_decimals(s.problem))
        body = getattr(s, "body", None) if s.problem.kind == "derivative" else None
        own = {r.name: r.written for r in body or () if getattr(r, "written", ())}
        answers = {}
        for a in s.answers:
            with written(own.get(a.label.split(".")[0], decimals)):
                answers[a.label] = answer_entry(a.value, a.display)
        entry = {
            "id": s.problem.id,
            "kind": s.problem.kind,
            "solved": s.solved,
            "verified": s.verified,
            "checks": list(s.checks),
            "answers": answers,
        }
        if not s.solved:
            entry["reason"] = s.reason
        problems.append(entry)
    return {
        "title": problem_set.meta.title,
        "source": Path(problem_set.path).name,
        "problems": problems,
        "unsolved": [{"id": s.problem.id, "reason": s.reason} for s in solutions if not s.solved],
    }


def dumps(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename: never a half-written file."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """:func:`write_atomic` for bytes. A path that cannot be written (``-o`` naming a file,
    a directory without permission) is a one-line :class:`BadInput`, exit 2.

    The file gets the user's usual permissions (0666 less the umask, as ``open`` gives), not
    the 0600 of a temporary file: a course directory shared with teaching assistants can read it.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process's umask (reading it means setting it: set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
