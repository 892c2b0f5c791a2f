"""How derivations, solutions and check reports show in Jupyter (and Quarto).

:class:`Displayable` is a mixin of the frozen objects the CLI uses (``FunctionResult``,
``Solution``, ``Unsolved``, ``Report``): it gives them ``_repr_latex_``,
``_repr_markdown_`` and ``_repr_mimebundle_``. The Markdown form stands on its own (Quarto
prefers it): headings and words in Markdown, mathematics in ``$…$`` and ``$$…$$``. Nothing is
imported until an object is displayed, so ``import symderiv`` stays light.
"""

from __future__ import annotations


class Displayable:
    """Rich display for Jupyter: each class gives ``_markdown()``, ``_latex()``, ``_plain()``."""

    def _repr_markdown_(self) -> str:
        return _markdown(self)

    def _repr_latex_(self) -> str | None:
        return _latex(self)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = {"text/markdown": _markdown(self), "text/plain": repr_plain(self)}
        latex = _latex(self)
        if latex is not None:
            bundle["text/latex"] = latex
        if include:
            bundle = {k: v for k, v in bundle.items() if k in include}
        if exclude:
            bundle = {k: v for k, v in bundle.items() if k not in exclude}
        return bundle


def _kind(obj) -> str:
    name = type(obj).__name__
    if name == "FunctionResult":
        return "derivation"
    if name == "Report":
        return "report"
    if name == "Unsolved":
        return "unsolved"
    if name == "SolvedFile":
        return "file"
    return "solution"


# ---------------------------------------------------------------------------- derivations

def _words(text: str) -> str:
    from .texsafe import escape

    return escape(text)


def derivation_aligned(r) -> str:
    """The derivation of one function as ``aligned`` LaTeX: one line per step with its
    rules named, then the boxed answer (the teacher's form when there is one)."""
    from .render import tex

    head = rf"\frac{{d}}{{d{tex(r.var)}}}{tex(r.applied)}"
    rows = []
    if r.lines:
        groups = [(None, r.lines)]
    else:
        groups = [(w.condition, w.lines) for w in r.branches]
    for condition, lines in groups:
        if condition is not None:
            rows.append(rf"&\text{{for }} {tex(condition)}: &&")
        for i, line in enumerate(lines):
            lead = head if i == 0 and condition is None else ""
            words = ", ".join(line.rules)
            note = getattr(line, "note", None)
            tag = rf"\text{{{_words(words)}}}" if words else ""
            if note is not None:
                shown = (f"{tex(note.lhs)} = {tex(note.rhs)}" if hasattr(note, "rhs")
                         else tex(note))
                tag += rf"\; {shown}"
            rows.append(rf"{lead} &= {tex(line.expr)} && {tag}")
    answer = r.teacher.expr if r.teacher else r.derivative
    rows.append(rf"{head} &= \boxed{{{tex(answer)}}} &&")
    for lim in r.limits:
        point = r"+\infty" if lim.written == "+oo" else r"-\infty"
        value = tex(lim.value)
        rows.append(rf"\lim_{{{tex(r.var)} \to {point}}} {head} &= {value} &&")
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def _derivation_markdown(r) -> str:
    from .render import tex

    lines = [f"**{r.title}**: the derivative, step by step (each line checked)", "",
             "$$" + derivation_aligned(r) + "$$", ""]
    if r.checks:
        lines.append("Verified: " + "; ".join(r.checks) + ".")
    for k in r.kinks:
        if k.differentiable is not True:
            lines.append(f"Not differentiable at ${tex(r.var)} = {tex(k.point)}$.")
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------------- solutions

def _answer_rows(solution) -> list[tuple[str, str]]:
    from .check.report import label_words
    from .render import tex

    rows = []
    for a in solution.answers:
        shown = a.display if a.display is not None else a.value
        if isinstance(shown, str):
            value = shown.replace(" x ", r" \times ")
        elif isinstance(shown, (list, tuple)):
            value = r"\left[" + ", ".join(tex(v) for v in shown) + r"\right]"
        else:
            value = tex(shown)
        rows.append((label_words(a.label), value))
    return rows


def _solution_markdown(s) -> str:
    problem = s.problem
    title = problem.title or f"Question {problem.id}"
    lines = [f"### {title}", ""]
    if type(s.body).__name__ in ("list", "tuple") and s.body and \
            all(type(b).__name__ == "FunctionResult" for b in s.body):
        for r in s.body:
            lines += [_derivation_markdown(r), ""]
    rows = _answer_rows(s)
    if rows:
        lines += ["| answer | value |", "|---|---|"]
        lines += [f"| {_md_cell(label)} | ${value}$ |" for label, value in rows]
        lines.append("")
    if s.verified and s.checks:
        lines.append("Verified: " + "; ".join(s.checks) + ".")
    elif not s.verified:
        lines.append("A prose answer: not machine-checked.")
    return "\n".join(lines).rstrip() + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", r"\|").replace("\n", " ")


def _solution_latex(s) -> str:
    rows = _answer_rows(s)
    if not rows:
        return None
    body = r" \\ ".join(rf"\text{{{_words(_strip_math(label))}}} &: {value}" for label, value in rows)
    return r"$$\begin{aligned}" + body + r"\end{aligned}$$"


def _strip_math(text: str) -> str:
    import re

    return re.sub(r"\$([^$]*)\$", lambda m: m.group(1).replace("\\", "").replace("infty", "∞"),
                  text)


# ---------------------------------------------------------------------------- reports

def _report_markdown(report) -> str:
    from .check.report import feedback_text, plain

    lines = [f"### {report.title}: {report.correct}/{report.total} correct", "",
             "| answer | verdict | feedback |", "|---|---|---|"]
    for r in report.results:
        shown = plain(r.got) if r.got is not None else (r.raw or "")
        feedback = feedback_text(r.feedback)
        cell = f"`{shown}`" if shown else ""
        lines.append(f"| `{_md_cell(r.label)}` {cell.replace('|', '')} | **{r.verdict}** | "
                     f"{_md_cell(feedback)} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- dispatch

def _markdown(obj) -> str:
    kind = _kind(obj)
    if kind == "derivation":
        return _derivation_markdown(obj)
    if kind == "report":
        return _report_markdown(obj)
    if kind == "unsolved":
        return f"### Question {obj.problem.id}\n\n**Not solved:** {obj.shown}\n"
    if kind == "file":
        return f"## {obj.problem_set.meta.title}\n\n" + "\n".join(_markdown(s) for s in obj.solutions)
    return _solution_markdown(obj)


def _latex(obj) -> str | None:
    kind = _kind(obj)
    if kind == "derivation":
        return "$$" + derivation_aligned(obj) + "$$"
    if kind == "solution":
        return _solution_latex(obj)
    return None


def repr_plain(obj) -> str:
    kind = _kind(obj)
    if kind == "derivation":
        import sympy as sp

        return f"<derivation of {obj.title}: {sp.sstr(obj.derivative)}>"
    if kind == "report":
        return f"<check of {obj.answers.name}: {obj.correct}/{obj.total} correct>"
    if kind == "unsolved":
        return f"<problem {obj.problem.id}: not solved: {obj.reason}>"
    if kind == "file":
        return f"<{obj.problem_set.meta.title}: {len(obj.solutions)} problems>"
    return f"<problem {obj.problem.id}: {len(obj.answers)} answers, verified={obj.verified}>"
