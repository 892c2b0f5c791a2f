"""Errors that reach the user as one line each (no traceback)."""

from __future__ import annotations

import re


def printable(text: str, width: int | None = None, *, newlines: bool = False) -> str:
    """Untrusted text for a terminal: control characters (escape sequences, bells) are shown
    as ``\\x1b``, never sent; ``newlines`` keeps line breaks; ``width`` shortens with "…"."""
    shown = "".join(
        ch if ch.isprintable() or ch == " " or (newlines and ch == "\n")
        else f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}" for ch in str(text))
    if width is not None and len(shown) > width:
        shown = shown[: width - 1] + "…"
    return shown


class SymderivError(Exception):
    """Base class: every subclass prints as one clear line."""

    exit_code = 1


class BadInput(SymderivError):
    """A problem file (or an expression in it) is wrong: the user must fix it."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None,
                 problem: str | None = None, field: str | None = None):
        self.message = message
        self.file = file
        self.problem = problem
        self.field = field
        super().__init__(str(self))

    def located(self, *, file: str | None = None, problem: str | None = None,
                field: str | None = None) -> "BadInput":
        """Return a copy that fills in the location parts this error does not know yet."""
        return BadInput(self.message, file=self.file or file,
                        problem=self.problem or problem, field=self.field or field)

    def __str__(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.problem:
            parts.append(f"problem {self.problem}")
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)


class VerificationFailed(SymderivError):
    """An answer failed its symbolic or numeric check: it must never be rendered."""

    def __init__(self, problem: str, label: str, detail: str):
        self.problem, self.label, self.detail = problem, label, detail
        super().__init__(f"problem {problem}: {label}: verification failed: {detail}")


class SolveTimeout(SymderivError):
    """A problem took longer than its time budget."""

    def __init__(self, problem: str, seconds: float):
        self.problem, self.seconds = problem, seconds
        super().__init__(f"problem {problem}: not solved within the time budget of "
                         f"{seconds:g} s of CPU time (raise it with --timeout)")


class InternalLimit(SymderivError):
    """The algebra engine gave up (an expression nested too deeply for it, a limit or a
    simplification it does not implement): the file is not wrong, so the exit code is 1, and
    the message says so in words."""

    SUFFIX = "(an internal limit, not a mistake in the file)"
    SHOWN = "the computer algebra could not finish this part."

    def __init__(self, what: str, problem: str | None = None, *, shown: str = ""):
        # what: "find the limit of cos(x) + 1 at +oo" (for the teacher, may hold formulas);
        # shown: the same in plain words for the key's "Not solved" box, no program text
        self.what, self.problem, self.shown = what, problem, shown or self.SHOWN
        head = f"problem {problem}: " if problem else ""
        super().__init__(f"{head}symderiv could not {what} {self.SUFFIX}")

    @property
    def reason(self) -> str:
        """The message without its problem: "symderiv could not … (an internal limit …)"."""
        return f"symderiv could not {self.what} {self.SUFFIX}"

    def located(self, problem: str) -> "InternalLimit":
        return self if self.problem else InternalLimit(self.what, problem, shown=self.shown)


_DEPENDS_ON_SIGN = re.compile(r"^Result depends on the sign of (.+?)\.?$")


def engine_gave_up(exc: BaseException) -> InternalLimit | None:
    """The :class:`InternalLimit` that a SymPy failure stands for, or None when ``exc`` is
    not one: a RecursionError ("nested too deeply") or a NotImplementedError (gruntz, solve,
    simplify meeting a case they do not cover)."""
    if isinstance(exc, InternalLimit):
        return exc
    if isinstance(exc, RecursionError):
        return InternalLimit("finish this problem: an expression grew too deeply nested for "
                             "the algebra engine",
                             shown="an expression grew too deeply nested to simplify.")
    if isinstance(exc, NotImplementedError):
        detail = printable(str(exc).strip().splitlines()[0] if str(exc).strip() else "", 120)
        sign = _DEPENDS_ON_SIGN.match(detail)
        if sign:  # gruntz: a limit whose value depends on a parameter's sign
            return InternalLimit(
                f"find a limit: it depends on the sign of {sign.group(1)}; an assumption "
                "(assume = ...) on the symbols in it may settle it",
                shown="a limit in this part depends on the sign of a parameter that the "
                "question does not fix.")
        return InternalLimit("finish this problem: the algebra engine has no method for one "
                             "of its steps" + (f" ({detail})" if detail else ""),
                             shown="a step needs a method the computer algebra does not have.")
    return None


class LatexFailed(SymderivError):
    """latexmk failed; the message carries the LaTeX error lines."""
