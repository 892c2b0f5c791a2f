"""The command line: wires load → solve → render/export; computes nothing itself.

Heavy modules (SymPy, Jinja) are imported inside the commands so that ``symderiv --help``
starts fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .errors import SymderivError

TIMEOUT_HELP = "CPU-time budget per problem in seconds (0: none)"


INTERNAL_ERROR = 70


def _say(message: str) -> None:
    """One line on stderr, with control characters shown rather than sent to the terminal."""
    from .errors import printable

    click.echo(f"symderiv: {printable(message, newlines=True)}", err=True)


def _fail(exc: SymderivError) -> None:
    _say(str(exc))
    sys.exit(exc.exit_code)


class _Group(click.Group):
    """Turns every SymderivError into one line on stderr and its exit code; anything else
    into one line too (``SYMDERIV_DEBUG=1`` shows the traceback)."""

    def invoke(self, ctx):
        import os

        try:
            return super().invoke(ctx)
        except SymderivError as exc:
            _fail(exc)
        except (RecursionError, NotImplementedError) as exc:
            # the algebra engine gave up: an internal limit, not a mistake in the file
            from .errors import engine_gave_up

            _fail(engine_gave_up(exc))
        except MemoryError:
            _say("out of memory: a size or an expression in the input is too large")
            sys.exit(2)
        except (click.exceptions.Exit, click.exceptions.ClickException, click.exceptions.Abort):
            raise  # click's own exits (--help, usage errors) keep their behaviour
        except KeyboardInterrupt:
            _say("interrupted")
            sys.exit(130)
        except Exception as exc:  # a bug of ours: one line, never a traceback for users
            if os.environ.get("SYMDERIV_DEBUG"):
                raise
            _say(f"internal error ({type(exc).__name__}: {exc}); please report it with the "
                 "input that caused it (SYMDERIV_DEBUG=1 shows the traceback)")
            sys.exit(INTERNAL_ERROR)


def _output_dir(out_dir: str) -> Path:
    """The output directory, checked before any work: a file there is a one-line error."""
    from .errors import BadInput

    out = Path(out_dir)
    for parent in (out, *out.parents):
        if parent.exists():
            if not parent.is_dir():
                raise BadInput(f"-o {out_dir}: {parent} is a file, not a directory")
            break
    return out


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="symderiv")
def main() -> None:
    """symderiv: verified step-by-step derivations as LaTeX answer keys."""


KEEP_GOING_HELP = ("a part that cannot be solved is marked \"not solved\" with its reason and "
                   "the rest is done (exit 1); --strict stops at the first such part")


def _keep_going_option(function):
    return click.option("--keep-going/--no-keep-going", " /--strict", "keep_going", default=True,
                        show_default=True, help=KEEP_GOING_HELP)(function)


def _load_and_solve(files, timeout, keep_going=False):
    from .solve import solve_set
    from .spec import load

    sets = [load(f) for f in files]  # every file is read (and validated) before any is solved
    return [(ps, solve_set(ps, timeout or None, keep_going=keep_going)) for ps in sets]


def _report_unsolved(solved) -> bool:
    """One line on stderr per part that was not solved; True when there was one."""
    from .solve import unsolved_lines

    several = len(solved) > 1
    lines = [(f"{Path(ps.path).name}: " if several else "") + line
             for ps, sols in solved for line in unsolved_lines(sols)]
    for line in lines:
        _say(line)
    return bool(lines)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out_dir", default="output", show_default=True,
              help="directory for .tex/.pdf files")
@click.option("--sheet", is_flag=True,
              help="the question sheet instead of the answer key (no solutions; nothing is solved)")
@click.option("--pdf", is_flag=True, help="also compile each .tex with latexmk")
@click.option("--timeout", default=20.0, show_default=True, type=float, help=TIMEOUT_HELP)
@_keep_going_option
def render(files, out_dir, sheet, pdf, timeout, keep_going):
    """Write OUTPUT/<stem>.tex (and .pdf) for each problem FILE.

    Exit 0 when every part is solved; 1 when some part is not (the key marks it "Not solved"
    and stderr names it), or with --strict at the first such part before anything is written;
    2 for a bad file, before anything is written.
    """
    from .export import write_atomic, write_bytes_atomic
    from .latex_build import build_pdf
    from .texsafe import check_document_body

    out = _output_dir(out_dir)
    if sheet:
        # a sheet solves nothing: the file is loaded (and so validated) and the statements shown
        from .sheet import render_sheet
        from .spec import load

        documents = [(ps.stem + "-sheet", render_sheet(ps)) for ps in (load(f) for f in files)]
    else:
        from .render import render_document

        # everything is checked before anything is written
        solved = _load_and_solve(files, timeout, keep_going)
        documents = [(ps.stem, render_document(ps, sols)) for ps, sols in solved]
    documents = [(stem, check_document_body(text)) for stem, text in documents]
    # every PDF is built (in a private directory) before any file is written to OUTPUT
    pdfs = {stem: build_pdf(text, name=f"{stem}.tex").pdf for stem, text in documents} if pdf else {}
    for stem, text in documents:
        write_atomic(out / f"{stem}.tex", text)
        if stem in pdfs:
            write_bytes_atomic(out / f"{stem}.pdf", pdfs[stem])
        click.echo(str(out / f"{stem}.tex") + (f"  {out / (stem + '.pdf')}" if pdf else ""))
    if not sheet and _report_unsolved(solved):
        sys.exit(1)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="print the machine-readable key")
@click.option("--timeout", default=20.0, show_default=True, type=float, help=TIMEOUT_HELP)
@_keep_going_option
def solve(file, as_json, timeout, keep_going):
    """Solve FILE and print its answers (labels and values).

    A part that is not solved is listed with its reason (in the JSON: "solved": false and
    "reason", no answers) and named on stderr; the exit code is then 1.
    """
    from .errors import printable
    from .export import answer_entry, dumps, key_json

    solved = _load_and_solve([file], timeout, keep_going)
    ((ps, sols),) = solved
    if as_json:
        click.echo(dumps(key_json(ps, sols)), nl=False)
    else:
        for s in sols:
            if not s.solved:
                click.echo(f"{printable(s.problem.id)} ({s.problem.kind}, not solved: "
                           f"{printable(s.reason)})")
                continue
            state = "verified" if s.verified else "prose, not checked"
            click.echo(f"{s.problem.id} ({s.problem.kind}, {state})")
            for a in s.answers:
                click.echo(f"  {a.label} = {answer_entry(a.value)['sympy']}")
    if _report_unsolved(solved):
        sys.exit(1)


@main.command()
@click.argument("expr")
@click.option("--var", default="x", show_default=True, help="variable to differentiate by")
@click.option("--limits", is_flag=True, help="also the limits of the derivative at ±∞")
@click.option("--latex", "as_latex", is_flag=True, help="print LaTeX instead of plain text")
@click.option("--timeout", default=20.0, show_default=True, type=float, help=TIMEOUT_HELP)
def derive(expr, var, limits, as_latex, timeout):
    """Print the derivation of d/dVAR EXPR (a registry name or an expression)."""
    from .budget import time_budget
    from .derive.derivative import solve_one
    from .render import tex

    with time_budget("derive", timeout or None):
        result = solve_one(expr, var, limits)
    show = tex if as_latex else _plain
    groups = [(None, result.lines)] if result.lines else [(w.condition, w.lines) for w in result.branches]
    for condition, lines in groups:
        if condition is not None:
            click.echo(f"for {show(condition)}:")
        for i, line in enumerate(lines):
            lead = "  " if i == 0 else "= "
            note = getattr(line, "note", None)
            if note is not None:
                note = f"{show(note.lhs)} = {show(note.rhs)}" if hasattr(note, "rhs") else show(note)
            words = ", ".join(line.rules) + (f" {note}" if note is not None else "")
            tag = f"    [{words.strip()}]" if words.strip() else ""
            click.echo(f"{lead}{show(line.expr)}{tag}")
    click.echo(f"derivative: {show(result.derivative)}")
    if result.teacher:
        click.echo(f"teacher form: {show(result.teacher.expr)}")
    for k in result.kinks:
        if k.differentiable is not True:
            click.echo(f"not differentiable at {var} = {show(k.point)}")
    for lim in result.limits:
        def said(case):
            if case.exists:
                return show(case.value)
            why = " and ".join(show(o) for o in case.oscillating)
            verb = "oscillate" if len(case.oscillating) > 1 else "oscillates"
            return "does not exist" + (f" ({why} {verb})" if why else " (it oscillates)")
        def cond(c):
            import sympy as sp

            if not as_latex and isinstance(c, (sp.Eq, sp.Ne)):
                return f"{show(c.lhs)} {'=' if isinstance(c, sp.Eq) else '!='} {show(c.rhs)}"
            return show(c)
        if lim.split:
            text = "; ".join(f"{said(c)} if {cond(c.condition)}" for c in lim.shown)
        else:
            text = said(lim.shown[0]) if lim.cases else show(lim.value)
        click.echo(f"limit at {lim.written}: {text}")
    click.echo("verified: " + "; ".join(result.checks))


def _plain(value) -> str:
    import sympy as sp

    return sp.sstr(value)


@main.command()
@click.argument("key", type=click.Path(dir_okay=False))
@click.argument("answers", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="print verdicts as JSON")
@click.option("--pdf", is_flag=True,
              help="also write OUTPUT/<answers stem>-feedback.tex and compile it")
@click.option("-o", "--output", "out_dir", default="output", show_default=True,
              help="directory for the feedback report")
@click.option("--rtol", default=1e-3, show_default=True, type=float,
              help="relative tolerance for answers written with decimals")
@click.option("--timeout", default=20.0, show_default=True, type=float, help=TIMEOUT_HELP)
@_keep_going_option
def check(key, answers, as_json, pdf, out_dir, rtol, timeout, keep_going):
    """Check the student's ANSWERS (TOML) against the key built from KEY.

    Exit 0 when the check ran, whatever the verdicts; 1 when a part of the key could not be
    solved (the answers to it are "not-gradable", and stderr names the part); 2 for a bad file.
    """
    from .check import check as run_check
    from .check.report import as_json as report_json, as_table, render_feedback
    from .export import dumps, write_atomic

    if rtol < 0 or rtol >= 1:
        from .errors import BadInput
        raise BadInput(f"--rtol must be in [0, 1), got {rtol:g}")
    out = _output_dir(out_dir) if pdf else None
    report = run_check(key, answers, timeout=timeout or None, rtol=rtol, keep_going=keep_going)
    if pdf:
        from .export import write_bytes_atomic
        from .latex_build import build_pdf
        from .texsafe import check_document_body

        stem = Path(answers).stem + "-feedback"
        text = check_document_body(render_feedback(report))
        built = build_pdf(text, name=f"{stem}.tex")
        write_atomic(out / f"{stem}.tex", text)
        write_bytes_atomic(out / f"{stem}.pdf", built.pdf)
    if as_json:
        click.echo(dumps(report_json(report)), nl=False)
    else:
        click.echo(as_table(report), nl=False)
        if pdf:
            click.echo(f"feedback: {Path(out_dir) / (Path(answers).stem + '-feedback.pdf')}")
    if report.unsolved:
        for problem_id, reason in report.unsolved:
            _say(f"problem {problem_id}: not solved: {reason}")
        sys.exit(1)


@main.group()
def export():
    """Export a verified key to a course platform (Moodle, Gradescope, Canvas, PrairieLearn).

    Answers a platform cannot take (a set, an equation, a matrix expression…) are named on
    stderr, one line each, and left out; a part of the key that cannot be solved is left out
    too (exit 1). See docs/platforms/.
    """


def _export_options(function):
    function = click.option("--timeout", default=20.0, show_default=True, type=float,
                            help=TIMEOUT_HELP)(function)
    function = click.option("-o", "--output", "out_dir", default="output", show_default=True,
                            help="directory to write to")(function)
    return click.argument("key", type=click.Path(dir_okay=False))(function)


def _write_export(result, out_dir, platform) -> None:
    """Write an exporter's files, name them on stdout and what it left out on stderr."""
    from .platforms import write_files

    out = _output_dir(out_dir)
    for path in write_files(out, result.files):
        click.echo(str(path))
    for skipped in result.skipped:
        _say(skipped.line(platform))
    if any(s.reason.startswith("not solved") for s in result.skipped):
        sys.exit(1)


@export.command(name="moodle")
@_export_options
@click.option("--rtol", default=1e-3, show_default=True, type=float,
              help="relative tolerance of numeric answers")
def export_moodle(key, out_dir, timeout, rtol):
    """Moodle XML (numerical and STACK questions, a category per problem): OUTPUT/<stem>-moodle.xml."""
    from .platforms.moodle import export_moodle as run

    _write_export(run(key, rtol=rtol, timeout=timeout or None), out_dir, "Moodle")


@export.command(name="gradescope")
@_export_options
@click.option("--visibility", default="after_due_date", show_default=True,
              type=click.Choice(["after_due_date", "visible", "after_published", "hidden"]),
              help="when students see each answer's verdict and feedback (it reveals the key)")
@click.option("--rtol", default=1e-3, show_default=True, type=float,
              help="relative tolerance for answers written with decimals")
def export_gradescope(key, out_dir, timeout, visibility, rtol):
    """Gradescope autograder: OUTPUT/<stem>-gradescope.zip (upload it as the autograder)."""
    from .platforms.gradescope import export_gradescope as run

    _write_export(run(key, visibility=visibility, rtol=rtol, timeout=timeout or None), out_dir,
                  "Gradescope")


@export.command(name="canvas")
@_export_options
@click.option("--rtol", default=1e-3, show_default=True, type=float,
              help="relative tolerance of numeric answers")
def export_canvas(key, out_dir, timeout, rtol):
    """Canvas QTI 1.2 zip (a question group per answer, drawing one variant): OUTPUT/<stem>-canvas-qti.zip."""
    from .platforms.canvas import export_canvas as run

    _write_export(run(key, rtol=rtol, timeout=timeout or None), out_dir, "Canvas")


@export.command(name="prairielearn")
@_export_options
@click.option("--rtol", default=1e-3, show_default=True, type=float,
              help="relative tolerance of numeric answers")
def export_prairielearn(key, out_dir, timeout, rtol):
    """PrairieLearn question folders: OUTPUT/<stem>-prairielearn/questions/<stem>/<problem id>/."""
    from .platforms.prairielearn import export_prairielearn as run

    _write_export(run(key, rtol=rtol, timeout=timeout or None), out_dir, "PrairieLearn")


@main.command(name="list")
def list_entries():
    """List registry entries (activations, losses) and problem kinds."""
    from .kinds import KINDS
    from .library.activations import ACTIVATIONS
    from .library.losses import LOSSES

    click.echo("activations:")
    for e in ACTIVATIONS.values():
        params = ", ".join(f"{k}: {v}" for k, v in e.params.items())
        click.echo(f"  {e.name:<14} {e.title}" + (f"  ({params})" if params else ""))
    click.echo("losses:")
    for e in LOSSES.values():
        params = ", ".join(f"{k}: {v}" for k, v in e.params.items())
        click.echo(f"  {e.name:<14} {e.title}" + (f"  ({params})" if params else ""))
    click.echo("problem kinds:")
    for name, (_, summary) in KINDS.items():
        click.echo(f"  {name:<14} {summary}")


if __name__ == "__main__":  # pragma: no cover
    main()
