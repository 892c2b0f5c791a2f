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
        except BrokenPipeError:
            # the reader went away (symderiv check … | head): stop quietly, as Unix tools do
            try:
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - flushed at exit, never read
            except OSError:
                pass
            sys.exit(141)
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
    if as_latex and result.written:   # the decimals of EXPR printed as written (0.01, not 1/100)
        from .render import written

        def show_written(value, _tex=tex):
            with written(result.written):
                return _tex(value)
        show = show_written
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
    shown = result.derivative if result.derivative_shown is None else result.derivative_shown
    click.echo(f"derivative: {show(shown)}")   # decimals as written (1.702x), checked
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
@click.option("--student", default=None,
              help="grade against this student's (or variant's) own variant of KEY")
@click.option("--lock", "lock_file", type=click.Path(dir_okay=False), default=None,
              help="the variants.lock.json written by `symderiv variants` (with --student)")
@_keep_going_option
def check(key, answers, as_json, pdf, out_dir, rtol, timeout, student, lock_file, keep_going):
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
    from .check.answers import load_answers
    from .check.points import only_counted_missing, points_json, points_lines, score

    load_answers(answers)  # a bad answers file fails before the slow part
    problem_set = _key_problem_set(key, student, lock_file, timeout)
    # the key file itself goes through the key cache (check/keycache.py); a variant is built here
    report = run_check(key, answers, timeout=timeout or None, rtol=rtol, keep_going=keep_going,
                       problem_set=problem_set if student is not None else None)
    scored = score(report, problem_set)
    report = only_counted_missing(report, scored)
    if pdf:
        from .export import write_bytes_atomic
        from .latex_build import build_pdf
        from .texsafe import check_document_body

        stem = Path(answers).stem + "-feedback"
        from .check.points import with_points

        text = check_document_body(with_points(render_feedback(report), scored))
        built = build_pdf(text, name=f"{stem}.tex")
        write_atomic(out / f"{stem}.tex", text)
        write_bytes_atomic(out / f"{stem}.pdf", built.pdf)
    if as_json:
        click.echo(dumps({**report_json(report), "points": points_json(scored)}), nl=False)
    else:
        click.echo(as_table(report), nl=False)
        click.echo(points_lines(scored), nl=False)
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
    too (exit 1). With --n, --roster or --lock, every variant of `symderiv variants` is
    exported (each verified), where the platform draws from. See docs/platforms/.
    """


def _export_options(function):
    function = click.option("--rtol", default=1e-3, show_default=True, type=float,
                            help="relative tolerance of numeric answers")(function)
    function = click.option("--lock", "lock_file", type=click.Path(dir_okay=False), default=None,
                            help="the variants recorded in this variants.lock.json (of "
                                 "`symderiv variants`)")(function)
    function = click.option("--roster", type=click.Path(dir_okay=False), default=None,
                            help="CSV id,name: one variant per student, as `symderiv "
                                 "variants --roster`")(function)
    function = click.option("--n", "count", type=click.IntRange(1, 100_000), default=None,
                            help="N variants (v01 …), as `symderiv variants --n N`")(function)
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
def export_moodle(key, out_dir, timeout, count, roster, lock_file, rtol):
    """Moodle XML (numerical and STACK questions, a category per problem): OUTPUT/<stem>-moodle.xml."""
    from .platforms.moodle import export_moodle as run

    _write_export(run(key, rtol=rtol, timeout=timeout or None, count=count,
                      roster=roster, lock=lock_file), out_dir, "Moodle")


@export.command(name="gradescope")
@_export_options
@click.option("--visibility", default="after_due_date", show_default=True,
              type=click.Choice(["after_due_date", "visible", "after_published", "hidden"]),
              help="when students see each answer's verdict and feedback (it reveals the key)")
def export_gradescope(key, out_dir, timeout, count, roster, lock_file, visibility, rtol):
    """Gradescope autograder: OUTPUT/<stem>-gradescope.zip (upload it as the autograder)."""
    from .platforms.gradescope import export_gradescope as run

    _write_export(run(key, visibility=visibility, rtol=rtol, timeout=timeout or None, count=count,
                      roster=roster, lock=lock_file), out_dir,
                  "Gradescope")


@export.command(name="canvas")
@_export_options
def export_canvas(key, out_dir, timeout, count, roster, lock_file, rtol):
    """Canvas QTI 1.2 zip (a question group per answer, drawing one variant): OUTPUT/<stem>-canvas-qti.zip."""
    from .platforms.canvas import export_canvas as run

    _write_export(run(key, rtol=rtol, timeout=timeout or None, count=count,
                      roster=roster, lock=lock_file), out_dir, "Canvas")


@export.command(name="prairielearn")
@_export_options
def export_prairielearn(key, out_dir, timeout, count, roster, lock_file, rtol):
    """PrairieLearn question folders: OUTPUT/<stem>-prairielearn/questions/<stem>/<problem id>/."""
    from .platforms.prairielearn import export_prairielearn as run

    _write_export(run(key, rtol=rtol, timeout=timeout or None, count=count,
                      roster=roster, lock=lock_file), out_dir, "PrairieLearn")


def _run_jobs(function, jobs: list[tuple], workers: int, label: str) -> list:
    """``function(*args)`` for each job, over ``workers`` processes, with click's progress bar
    on stderr; the results in the jobs' order."""
    results: list = [None] * len(jobs)
    with click.progressbar(length=len(jobs), label=label, file=sys.stderr) as bar:
        if workers <= 1 or len(jobs) <= 1:
            for i, args in enumerate(jobs):
                results[i] = function(*args)
                bar.update(1)
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor, as_completed

            with ProcessPoolExecutor(max_workers=workers,
                                     mp_context=multiprocessing.get_context("fork")) as pool:
                futures = {pool.submit(function, *args): i for i, args in enumerate(jobs)}
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    bar.update(1)
    return results


def _job_failed(result: dict) -> None:
    from .errors import BadInput, SymderivError

    if "error" in result:
        error = BadInput(result["error"]) if result["code"] == 2 else SymderivError(result["error"])
        raise error


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--n", "count", type=click.IntRange(1, 100_000), help="number of variants (v01, v02, …)")
@click.option("--roster", type=click.Path(dir_okay=False),
              help="CSV with columns id,name: one variant per student, named by the id")
@click.option("-o", "--output", "out_dir", default=None,
              help="directory for the variants (default output/<stem>-variants)")
@click.option("--pdf", is_flag=True, help="also compile each sheet and key to PDF")
@click.option("--stress", type=click.IntRange(1, 100_000), default=None,
              help="draw this many variants and report rejections per constraint and the range "
                   "of every answer; nothing is written")
@click.option("-j", "--jobs", "workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="worker processes")
@click.option("--timeout", default=20.0, show_default=True, type=float, help=TIMEOUT_HELP)
def variants(file, count, roster, out_dir, pdf, stress, workers, timeout):
    """Per-variant (or per-student) sheets and verified keys of FILE's [problem.vary] problems.

    Writes OUTPUT/<id>/<stem>-sheet.tex, <stem>-key.tex, <stem>-key.json (and PDFs with --pdf),
    OUTPUT/variants.lock.json (the drawn values of every variant) and OUTPUT/manifest.csv.
    The same file, salt and ids give byte-identical output. Exit 2 when a constraint cannot be
    met.
    """
    import csv
    import io
    import os

    from .errors import BadInput
    from .export import dumps, write_atomic, write_bytes_atomic
    from .spec import load, read_toml
    from .variants import (LOCK_NAME, MANIFEST_NAME, Built, lock_json, read_roster, signature,
                           stress_job, stress_report, varied_tables, variant_job)

    problem_set = load(file)  # the file is valid before anything is drawn
    data = read_toml(file)
    if not varied_tables(data):
        raise BadInput("no problem has a [problem.vary] table, so there is nothing to vary",
                       file=file)
    timeout = timeout or None
    if stress:
        results = _run_jobs(stress_job, [(file, f"stress-{i + 1}", timeout) for i in range(stress)],
                            workers, "stress test")
        for r in results:
            _job_failed(r)
        click.echo(stress_report(file, results), nl=False)
        return
    if (count is None) == (roster is None):
        raise BadInput("give either --n N or --roster FILE")
    if roster:
        students = read_roster(roster)
    else:
        width = max(2, len(str(count)))
        students = [(f"v{i + 1:0{width}d}", "") for i in range(count)]
    if not problem_set.meta.salt:
        _say("warning: [meta] has no salt, so anyone with the file can compute every "
             "variant's numbers from the ids")
    out = _output_dir(out_dir or f"output/{problem_set.stem}-variants")
    if pdf:
        # PDFs with fixed dates and ids: a second run writes the same bytes
        os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
        os.environ.setdefault("FORCE_SOURCE_DATE", "1")
    jobs = [(file, sid, name, frozenset(), pdf, timeout) for sid, name in students]
    results = _run_jobs(variant_job, jobs, workers, "variants")
    seen: dict[str, str] = {}
    for i, r in enumerate(results):
        _job_failed(r)
        sig = signature(r["values"])
        if sig in seen:  # the same numbers as an earlier variant: draw again, avoiding them
            r = variant_job(file, r["id"], r["name"], frozenset(seen), pdf, timeout)
            _job_failed(r)
            results[i] = r
            sig = signature(r["values"])
        seen[sig] = r["id"]
    manifest = io.StringIO()
    writer = csv.writer(manifest, lineterminator="\n")
    writer.writerow(["id", "name", "sheet", "key", "json", "tries", "values_sha256"])
    stem = problem_set.stem
    for r in results:
        for fname, blob in r["docs"].items():
            write_bytes_atomic(out / r["id"] / fname, blob)
        import hashlib

        tries = ";".join(f"{k}:{v}" for k, v in r["tries"].items())
        ext = "pdf" if pdf else "tex"
        writer.writerow([r["id"], r["name"], f"{r['id']}/{stem}-sheet.{ext}",
                         f"{r['id']}/{stem}-key.{ext}", f"{r['id']}/{stem}-key.json", tries,
                         hashlib.sha256(signature(r["values"]).encode()).hexdigest()[:16]])
    built = [Built(r["id"], r["name"], r["values"], r["tries"]) for r in results]
    write_atomic(out / LOCK_NAME, dumps(lock_json(file, built, bool(problem_set.meta.salt))))
    write_atomic(out / MANIFEST_NAME, manifest.getvalue())
    click.echo(f"{len(results)} variants, each key verified, all distinct: {out}/ "
               f"(lock {out / LOCK_NAME}, manifest {out / MANIFEST_NAME})")


@main.command()
@click.argument("key", type=click.Path(dir_okay=False))
@click.argument("submissions", type=click.Path(file_okay=False))
@click.option("--roster", type=click.Path(dir_okay=False),
              help="CSV with columns id,name: names in the gradebook, and a row for every "
                   "student without a submission")
@click.option("--lock", "lock_file", type=click.Path(dir_okay=False), default=None,
              help="the variants.lock.json of `symderiv variants` (default: draw each "
                   "student's variant from the id)")
@click.option("-o", "--output", "out_dir", default=None,
              help="directory for the gradebook (default output/<key stem>-grades)")
@click.option("--pdf", is_flag=True, help="also a feedback PDF per student")
@click.option("-j", "--jobs", "workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="worker processes")
@click.option("--rtol", default=1e-3, show_default=True, type=float,
              help="relative tolerance for answers written with decimals")
@click.option("--timeout", default=20.0, show_default=True, type=float, help=TIMEOUT_HELP)
def grade(key, submissions, roster, lock_file, out_dir, pdf, workers, rtol, timeout):
    """Grade every answers file (*.toml) in SUBMISSIONS against its student's own variant.

    The student is the file's [meta] student. Writes OUTPUT/gradebook.csv (points per problem,
    total, percentage, or why a file was not graded), OUTPUT/summary.txt (per label: how many
    got it right, the most common wrong answers) and OUTPUT/feedback/<student>.txt (and .pdf
    with --pdf). A file that cannot be read is a gradebook row with the reason.
    """
    from .errors import BadInput
    from .export import write_atomic, write_bytes_atomic
    from .grade import collect, grade_group, gradebook_csv, summary_text
    from .spec import load, read_toml
    from .variants import ID_PATTERN, read_lock, read_roster, varied_tables

    if rtol < 0 or rtol >= 1:
        raise BadInput(f"--rtol must be in [0, 1), got {rtol:g}")
    problem_set = load(key)
    varied = bool(varied_tables(read_toml(key)))
    names = dict(read_roster(roster)) if roster else {}
    locked = read_lock(lock_file, key) if lock_file else None
    out = _output_dir(out_dir or f"output/{problem_set.stem}-grades")
    rows, groups, first = [], {}, {}
    for s in collect(submissions, key):
        reason = s.reason
        if not reason and roster and s.student not in names:
            reason = f"student {printable_id(s.student)} is not on the roster"
        elif not reason and not ID_PATTERN.fullmatch(s.student):
            reason = (f"[meta] student {printable_id(s.student)} is not an id (1 to 40 letters, "
                      "digits and . _ -)")
        elif not reason and varied and locked is not None and s.student not in locked:
            reason = f"no variant for {s.student} in the lock file"
        elif not reason and s.student in first:
            reason = f"a second submission of {s.student} (graded: {Path(first[s.student]).name})"
        if reason:
            rows.append({"file": s.path, "student": s.student, "reason": reason})
            continue
        first[s.student] = s.path
        groups.setdefault(s.student, []).append(s.path)
    for sid in names:
        if sid not in groups:
            rows.append({"file": "", "student": sid, "reason": "no submission"})
    if not varied:  # one key for everyone: solve it before the workers fork, so they share it
        from .solve import solve_set

        solve_set(problem_set, timeout or None, keep_going=True)
    jobs = [(key, sid, locked.get(sid) if locked is not None else None, paths, rtol,
             timeout or None, pdf) for sid, paths in groups.items()]
    for result in _run_jobs(grade_group, jobs, workers, "grading"):
        rows.extend(result)
    rows.sort(key=lambda r: (r["student"], r["file"]))
    ids = [p.id for p in problem_set.problems]
    write_atomic(out / "gradebook.csv", gradebook_csv(ids, rows, names))
    summary = summary_text(problem_set.meta.title, rows)
    write_atomic(out / "summary.txt", summary)
    for r in rows:
        if r.get("feedback"):
            write_atomic(out / "feedback" / f"{r['student']}.txt", r["feedback"])
        if r.get("pdf"):
            write_bytes_atomic(out / "feedback" / f"{r['student']}.pdf", r["pdf"])
        if r.get("pdf_error"):
            _say(f"{r['student']}: no feedback PDF: {r['pdf_error']}")
    click.echo(summary.splitlines()[0] + (", " + summary.splitlines()[1] if len(
        summary.splitlines()) > 1 and summary.splitlines()[1].startswith("mean") else ""))
    click.echo(f"gradebook: {out / 'gradebook.csv'}  summary: {out / 'summary.txt'}  "
               f"feedback: {out / 'feedback'}/")


def printable_id(text: str) -> str:
    from .errors import printable

    return repr(printable(text, 60))


def _key_problem_set(key, student, lock_file, timeout):
    """KEY loaded, or the student's variant of it: from the lock file when given, else drawn
    from the id (the same draws as `symderiv variants`)."""
    from .errors import BadInput
    from .spec import load, read_toml

    problem_set = load(key)
    if student is None:
        if lock_file:
            raise BadInput("--lock needs --student ID")
        return problem_set
    from .variants import build_variant, read_lock, varied_tables, variant_problem_set

    data = read_toml(key)
    if not varied_tables(data):
        raise BadInput("--student: no problem of the key has a [problem.vary] table", file=key)
    if lock_file:
        locked = read_lock(lock_file, key)
        if student not in locked:
            raise BadInput(f"no variant {student} in the lock file", file=lock_file)
        return variant_problem_set(data, key, student, locked[student])
    return build_variant(data, key, student, timeout=timeout or None).problem_set


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
