"""Hostile input (issue 17): file names, statements, names, numbers and answers written by an
attacker never run a command, never make TeX read a file into the output, never hang, and
never print a traceback.

Every case runs beside a *secret* file (whose content must appear in no output, not even
inside a compressed PDF stream) and checks that a *marker* file a payload would create is
never created.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from symderiv.cli import main
from symderiv.errors import BadInput, LatexFailed
from symderiv.texsafe import check_document_body, check_latex_fragment, escape

ROOT = Path(__file__).resolve().parent.parent

PROBLEM = '''[meta]
title = "Hostile"

[[problem]]
id = "q1"
kind = "derivative"
functions = ["sigmoid"]
{extra}
'''


@pytest.fixture
def lair(tmp_path, monkeypatch):
    """A working directory with a secret file; payloads aim at it and at a marker file."""
    token = "SECRET-" + secrets.token_hex(8)
    secret = tmp_path / "secret.txt"
    secret.write_text(token + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path, secret, token


def _pdf_text(data: bytes) -> bytes:
    """The PDF's bytes with every Flate stream inflated, so embedded files can be searched."""
    out = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            out.append(zlib.decompress(match.group(1)))
        except zlib.error:
            pass
    return b"\n".join(out)


def _assert_clean(directory: Path, token: str) -> None:
    assert not list(directory.rglob("PWNED*")), "a payload created the marker file"
    for path in directory.rglob("*"):
        if path.is_file() and path.name != "secret.txt":
            data = path.read_bytes()
            if path.suffix == ".pdf":
                data = _pdf_text(data)
            assert token.encode() not in data, f"the secret leaked into {path.name}"


def _one_line_exit_2(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symderiv: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


# ── 1. file names never reach a shell ────────────────────────────────────────────────────

HOSTILE_NAMES = [
    "k`touch PWNED1`.toml",
    "k$(touch PWNED2).toml",
    'k"; touch PWNED3; ".toml',
    "k'; touch PWNED4; '.toml",
    "k;touch PWNED5.toml",
    "k|touch PWNED6.toml",
    "k&&touch PWNED7.toml",
    "k\ntouch PWNED8.toml",
    "-k --shell-escape.toml",
    "k \\input{secret.txt}.toml",
]


@pytest.mark.pdf
@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
@pytest.mark.slow
def test_hostile_file_names_run_nothing(name, lair):
    tmp, _, token = lair
    src = tmp / name
    src.write_text(PROBLEM.format(extra=""), encoding="utf-8")
    result = CliRunner().invoke(main, ["render", str(src), "--pdf", "-o", str(tmp / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp / "out" / (src.stem + ".pdf")).read_bytes()[:5] == b"%PDF-"
    _assert_clean(tmp, token)


@pytest.mark.pdf
@pytest.mark.slow
def test_hostile_answers_file_name_and_student_run_nothing(lair):
    tmp, secret, token = lair
    answers = tmp / "s`touch PWNED`$(touch PWNED9).toml"
    answers.write_text(
        '[meta]\nstudent = "张伟 🙂 \\\\input{%s} \\u001b[31m"\n[answers]\n'
        '"1a/sigmoid.derivative" = "\\\\input{%s}"\n'
        '"1a/tanh.derivative" = "\\\\immediate\\\\write18{touch PWNED10}"\n'
        % (secret, secret), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(ROOT / "problems" / "ama564_a1.toml"),
                                       str(answers), "--pdf", "-o", str(tmp / "out")])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output
    pdf = tmp / "out" / (answers.stem + "-feedback.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    _assert_clean(tmp, token)


# ── 2. statements: an allowlist, and nothing else ────────────────────────────────────────

HOSTILE_STATEMENTS = [
    (r"\input{SECRET}", r"\input"),
    (r"\include{SECRET}", r"\include"),
    (r"\pdfobj stream file {SECRET}\pdfrefobj\pdflastobj", r"\pdfobj"),
    (r"\pdffiledump length 100 {SECRET}", r"\pdffiledump"),
    (r"\pdfximage{SECRET}", r"\pdfximage"),
    (r"\IfFileExists{SECRET}{yes}{no}", r"\IfFileExists"),
    (r"\InputIfFileExists{SECRET}{}{}", r"\InputIfFileExists"),
    (r"\begin{input}SECRET\end{input}", "'input'"),
    (r"\ExplSyntaxOn \file_input:n {SECRET} \ExplSyntaxOff", r"\ExplSyntaxOn"),
    (r"\use:c{input}{SECRET}", r"\use"),
    (r"\csname input\endcsname{SECRET}", r"\csname"),
    (r"^^5cinput{SECRET}", "'^^'"),
    (r"\catcode`\|=0 |input{SECRET}", r"\catcode"),
    (r"\def\x{\input}\x{SECRET}", r"\def"),
    (r"\let\x\input \x{SECRET}", r"\let"),
    (r"\newcommand\x{\input{SECRET}}\x", r"\newcommand"),
    (r"\RenewDocumentCommand\boxed{m}{FORGED}", r"\RenewDocumentCommand"),
    (r"\renewcommand\boxed[1]{FORGED}", r"\renewcommand"),
    (r"\pdfcatalog{/OpenAction << /S /JavaScript /JS (app.alert(1)) >>}", r"\pdfcatalog"),
    (r"\pdfannot width 1pt height 1pt {/Subtype /Link /A << /S /Launch /F (x) >>}", r"\pdfannot"),
    (r"\pdfstartlink user {/A << /S /Launch >>} x\pdfendlink", r"\pdfstartlink"),
    (r"\end{questions}\end{document}", "'questions'"),
    (r"\end{solution}", "'solution'"),
    (r"\immediate\write18{touch PWNED}", r"\immediate"),
    (r"\write18{touch PWNED}", r"\write"),
    (r"\openin5=SECRET \read5 to\x", r"\openin"),
    (r"\verbatiminput{SECRET}", r"\verbatiminput"),
    (r"\lstinputlisting{SECRET}", r"\lstinputlisting"),
    (r"\includegraphics{SECRET}", r"\includegraphics"),
    (r"\href{run:touch PWNED}{x}", r"\href"),
    (r"\special{pdf:exec touch PWNED}", r"\special"),
    (r"\directlua{os.execute('touch PWNED')}", r"\directlua"),
    (r"\scantokens{\input{SECRET}}", r"\scantokens"),
    (r"\usepackage{shellesc}", r"\usepackage"),
    (r"\makeatletter\@input{SECRET}", r"\makeatletter"),
    (r"\begin{filecontents}{PWNED}x\end{filecontents}", "'filecontents'"),
    (r"\begin{verbatim}x\end{verbatim}", "'verbatim'"),
    (r"\loop\iftrue\repeat", r"\loop"),
    (r"\typeout{x}\message{x}", r"\typeout"),
    (r"\shipout\hbox{x}", r"\shipout"),
    (r"\begin{tabular}{>{\input{SECRET}}c}x\end{tabular}", r"\input"),
    (r"$x$ \@@input SECRET", r"\@"),
    (r"unbalanced {", "unbalanced braces"),
    (r"$x", "unbalanced $"),
]


@pytest.mark.parametrize("payload, named", HOSTILE_STATEMENTS, ids=range(len(HOSTILE_STATEMENTS)))
def test_hostile_statements_are_refused_in_one_line(payload, named, lair):
    tmp, secret, token = lair
    text = payload.replace("SECRET", str(secret))
    src = tmp / "p.toml"
    src.write_text(PROBLEM.format(extra="statement = '''" + text + "'''"), encoding="utf-8")
    result = CliRunner().invoke(main, ["render", str(src), "--pdf", "-o", str(tmp / "out")])
    line = _one_line_exit_2(result)
    assert "problem q1: statement: " in line
    assert named in line
    assert "\x1b" not in result.output
    assert not (tmp / "out").exists()
    _assert_clean(tmp, token)


def test_inline_latex_names_are_vetted(lair):
    tmp, secret, token = lair
    src = tmp / "p.toml"
    src.write_text('[meta]\ntitle = "t"\n[[problem]]\nid = "q1"\nkind = "derivative"\n'
                   'functions = [{ name = "f", expr = "x**2", latex = \'\\input{%s}\' }]\n'
                   % secret, encoding="utf-8")
    result = CliRunner().invoke(main, ["render", str(src), "--pdf", "-o", str(tmp / "out")])
    line = _one_line_exit_2(result)
    assert r"\input" in line and "problem q1" in line
    _assert_clean(tmp, token)


def test_text_answers_are_vetted(lair):
    tmp, secret, token = lair
    src = tmp / "p.toml"
    src.write_text('[meta]\ntitle = "t"\n[[problem]]\nid = "t1"\nkind = "text"\n'
                   "answer = '\\pdfobj stream file {%s}\\pdfrefobj\\pdflastobj'\n" % secret,
                   encoding="utf-8")
    result = CliRunner().invoke(main, ["render", str(src), "--pdf", "-o", str(tmp / "out")])
    line = _one_line_exit_2(result)
    assert r"\pdfobj" in line and "problem t1: answer" in line
    _assert_clean(tmp, token)


@pytest.mark.parametrize("name", [r"\input{x}", "a b", "x;", "$x$", "É"])
def test_graph_names_must_be_identifiers(name, lair):
    tmp, _, token = lair
    src = tmp / "p.toml"
    src.write_text('[meta]\ntitle = "t"\n[[problem]]\nid = "g"\nkind = "graph"\n'
                   'inputs = [%s]\noutput = "E"\nwrt = ["x"]\n[problem.nodes]\nE = "x**2"\n'
                   % ('"x", ' + repr(name).replace("\\\\", "\\\\\\\\").replace("'", '"')),
                   encoding="utf-8")
    result = CliRunner().invoke(main, ["render", str(src), "-o", str(tmp / "out")])
    line = _one_line_exit_2(result)
    assert "problem g: inputs" in line


def test_the_allowlist_passes_ordinary_statements():
    ordinary = [
        r"Let $\sigma(x) = \frac{1}{1+e^{-x}}$. Find $\sigma'(x)$ and $\lim_{x\to\infty}\sigma'(x)$.",
        r"Show that \[ \min_{1\le k\le T} \|\nabla f(\theta^k)\|^2 \le \frac{2L(f(\theta^0)-\bar f)}{T}. \]",
        r"\begin{itemize}\item $\mathbf{x}\in\mathbb{R}^n$ \item \textbf{bold} and \emph{emphasis}\end{itemize}",
        r"$$W = \begin{pmatrix} 1 & -0.7 \\ 0.5 & 1 \end{pmatrix},\quad b = (0, 1)^\top$$",
        r"The loss is 50\% of \$1; $f(x) = \begin{cases} x & x > 0 \\ a x & \text{otherwise}\end{cases}$",
        "Unicode is fine: σ(x), τ ∈ (0, 1), ‖w‖², café",
    ]
    for text in ordinary:
        assert check_latex_fragment(text) == text


def test_the_last_gate_refuses_a_body_that_escaped_vetting():
    doc = "\\documentclass{exam}\n\\begin{document}\n\\question x \\input{/etc/passwd}\n\\end{document}\n"
    with pytest.raises(BadInput, match=r"\\input"):
        check_document_body(doc)
    with pytest.raises(BadInput, match="environment 'filecontents'"):
        check_document_body("\\begin{document}\\begin{filecontents}{x}\\end{filecontents}")


def test_escape_never_passes_untypesettable_characters():
    assert escape("张伟 🙂") == "[U+5F20][U+4F1F] [U+1F642]"
    assert escape("a_b \\input{x} 100%") == r"a\_b \textbackslash{}input\{x\} 100\%"
    assert escape("\x1b[31m") == "[U+001B][31m"


# ── 3. budgets: loading, sizes, TeX loops ───────────────────────────────────────────────

@pytest.mark.parametrize("extra, message", [
    ('[[problem]]\nid = "q2"\nkind = "derivative"\nfunctions = [{ name = "f", expr = "x*1e999999999" }]',
     "problem q2: functions: f: the number '1e999999999' is too large or too small"),
    ('[[problem]]\nid = "q2"\nkind = "derivative"\nfunctions = [{ name = "f", expr = "x*1e-99999999" }]',
     "too large or too small"),
    ('points = nan', "points: the number NaN is not finite"),
    ('points = inf', "points: the number Infinity is not finite"),
    ('points = 1e999999999', "points: the number 1e+999999999 is too large"),
])
def test_costly_numbers_are_refused_fast(extra, message, lair):
    tmp, _, _ = lair
    src = tmp / "p.toml"
    src.write_text(PROBLEM.format(extra=extra), encoding="utf-8")
    start = time.process_time()
    result = CliRunner().invoke(main, ["render", str(src), "-o", str(tmp / "out")])
    assert time.process_time() - start < 5
    line = _one_line_exit_2(result)
    assert message in line


def test_loading_has_a_budget(lair, monkeypatch):
    from symderiv import spec

    tmp, _, _ = lair
    src = tmp / "p.toml"
    src.write_text(PROBLEM.format(extra=""), encoding="utf-8")
    real = spec._load

    def slow(path):
        end = time.process_time() + 3
        while time.process_time() < end:
            pass
        return real(path)

    monkeypatch.setattr(spec, "_load", slow)
    monkeypatch.setattr(spec, "LOAD_SECONDS", 0.3)
    monkeypatch.setattr(spec.load, "__defaults__", (0.3,))
    result = CliRunner().invoke(main, ["render", str(src), "-o", str(tmp / "out")])
    line = _one_line_exit_2(result)
    assert "reading the file took more than 0.3 s of CPU time" in line


@pytest.mark.parametrize("layers", ["[1000000000, 2, 1]", "[3, 100000, 1]"])
def test_absurd_network_sizes_are_refused_at_load(layers, lair):
    tmp, _, _ = lair
    src = tmp / "p.toml"
    src.write_text('[meta]\ntitle = "t"\n[[problem]]\nid = "n1"\nkind = "mlp"\n'
                   f'layers = {layers}\nhidden = "relu"\noutput = "identity"\n'
                   'loss = "half_squared"\n', encoding="utf-8")
    start = time.process_time()
    result = CliRunner().invoke(main, ["render", str(src), "-o", str(tmp / "out")])
    assert time.process_time() - start < 5
    line = _one_line_exit_2(result)
    assert "problem n1: layers" in line


@pytest.mark.pdf
@pytest.mark.slow
def test_a_tex_loop_is_killed_with_its_process_group(monkeypatch):
    from symderiv import latex_build

    started = []
    real = subprocess.Popen

    def spy(*args, **kwargs):
        proc = real(*args, **kwargs)
        started.append(proc)
        return proc

    monkeypatch.setattr(latex_build.subprocess, "Popen", spy)
    doc = "\\documentclass{article}\\begin{document}\\loop\\iftrue\\repeat\\end{document}\n"
    start = time.monotonic()
    with pytest.raises(LatexFailed, match="did not finish within 2 s"):
        latex_build.build_pdf(doc, timeout=2)
    assert time.monotonic() - start < 10
    assert started
    for proc in started:
        assert proc.poll() is not None
        members = [p for p in Path("/proc").iterdir() if p.name.isdigit()]
        for p in members:
            try:
                fields = (p / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            assert int(fields[2]) != proc.pid, "a process of the TeX group survived"


# ── 4. ordinary input never gives a traceback ───────────────────────────────────────────

def test_output_pointing_into_a_file_is_one_line(lair):
    tmp, _, _ = lair
    src = tmp / "p.toml"
    src.write_text(PROBLEM.format(extra=""), encoding="utf-8")
    (tmp / "afile").write_text("x")
    for out in ("afile", "afile/sub"):
        result = CliRunner().invoke(main, ["render", str(src), "-o", str(tmp / out)])
        line = _one_line_exit_2(result)
        assert "is a file, not a directory" in line


@pytest.mark.parametrize("pid", ["q\x1b[2J", "q\x07", "a b", "../x", ""])
def test_escape_sequences_in_ids_never_reach_the_terminal(pid, lair):
    tmp, _, _ = lair
    src = tmp / "p.toml"
    src.write_text(PROBLEM.format(extra="").replace('id = "q1"', 'id = "%s"' % pid.replace("\x1b", "\\u001b").replace("\x07", "\\u0007")),
                   encoding="utf-8")
    result = CliRunner().invoke(main, ["render", str(src), "-o", str(tmp / "out")])
    line = _one_line_exit_2(result)
    assert "id" in line
    assert "\x1b" not in result.output and "\x07" not in result.output


@pytest.mark.slow
def test_answers_with_thousands_of_digits_are_verdicts(lair):
    tmp, _, _ = lair
    many = "*".join(["9**240"] * 30)
    latex = "".join(["9^{240}"] * 60)
    answers = tmp / "a.toml"
    answers.write_text('[answers]\n"1a/sigmoid.derivative" = "%s"\n"1a/tanh.derivative" = "%s"\n'
                       '"1a/tanh.limit(+oo)" = "%s"\n' % (many, latex, "9" * 5000),
                       encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(ROOT / "problems" / "ama564_a1.toml"),
                                       str(answers), "--json"])
    assert result.exit_code == 0, result.output
    import json

    verdicts = {r["label"]: r["verdict"] for r in json.loads(result.stdout)["results"]}
    assert verdicts["1a/sigmoid.derivative"] == "unparseable"
    assert verdicts["1a/tanh.derivative"] == "unparseable"
    assert verdicts["1a/tanh.limit(+oo)"] == "unparseable"


def test_internal_errors_are_one_line(lair, monkeypatch):
    from symderiv.derive import derivative

    tmp, _, _ = lair
    src = tmp / "p.toml"
    src.write_text(PROBLEM.format(extra=""), encoding="utf-8")

    def broken(problem):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(derivative, "solve", broken)
    monkeypatch.delenv("SYMDERIV_DEBUG", raising=False)
    result = CliRunner().invoke(main, ["render", str(src), "-o", str(tmp / "out")])
    assert result.exit_code == 70
    assert result.stderr.strip().splitlines() == [
        "symderiv: internal error (ZeroDivisionError: boom); please report it with the input "
        "that caused it (SYMDERIV_DEBUG=1 shows the traceback)"]
    assert not (tmp / "out").exists()


def test_every_command_in_the_templates_passes_the_last_gate():
    """A template that starts using a new command must add it to TEMPLATE_COMMANDS on purpose."""
    from symderiv.texsafe import CONTROL_SYMBOLS, MATH_COMMANDS, TEMPLATE_COMMANDS, TEXT_COMMANDS

    allowed = MATH_COMMANDS | TEXT_COMMANDS | TEMPLATE_COMMANDS
    unknown = set()
    for path in (ROOT / "templates").rglob("*.j2"):
        text = path.read_text(encoding="utf-8")
        if r"\begin{document}" in text:
            text = text[text.index(r"\begin{document}"):]
        for match in re.finditer(r"\\([A-Za-z]+)", text):
            if match.group(1) not in allowed:
                unknown.add(f"{path.name}: \\{match.group(1)}")
    assert not unknown


def test_statements_may_type_greek_and_math_symbols(lair):
    tmp, _, _ = lair
    src = tmp / "p.toml"
    src.write_text(PROBLEM.format(extra='statement = "σ(x), τ ∈ (0, 1), ‖w‖², café, $σ(x) ≤ 1 − x$"'),
                   encoding="utf-8")
    result = CliRunner().invoke(main, ["render", str(src), "-o", str(tmp / "out")])
    assert result.exit_code == 0, result.output
    tex = (tmp / "out" / "p.tex").read_text(encoding="utf-8")
    assert r"\DeclareUnicodeCharacter{03C3}{\ensuremath{\sigma}}" in tex


NOTATION_PROBLEMS = {
    "mlp": ('kind = "mlp"\nlayers = [2, 2, 1]\nhidden = "relu"\noutput = "identity"\n'
            'loss = "half_squared"\n[problem.notation]\nloss = \'{value}\'\n', "notation.loss"),
    "graph": ('kind = "graph"\ninputs = ["x"]\noutput = "E"\nwrt = ["x"]\n[problem.nodes]\n'
              'E = "x**2"\n[problem.notation]\nE = \'{value}\'\n', "notation.E"),
    "matrix_gradient": ('kind = "matrix_gradient"\nf = "x.T*x"\nwrt = "x"\n[problem.shapes]\n'
                        'x = "n x 1"\n[problem.notation]\nfunction = \'{value}\'\n',
                        "notation.function"),
}


@pytest.mark.parametrize("kind", sorted(NOTATION_PROBLEMS))
@pytest.mark.parametrize("value, named", [
    (r"\input{SECRET}", r"\input"),
    (r"L$ \pdfobj stream file {SECRET}\pdfrefobj\pdflastobj $", r"\pdfobj"),
    (r"L$ x $", "a name is math already"),
    (r"\begin{itemize}\item x\end{itemize}", r"\begin"),
])
def test_notation_names_are_vetted_as_math(kind, value, named, lair):
    tmp, secret, token = lair
    body, field = NOTATION_PROBLEMS[kind]
    src = tmp / "p.toml"
    src.write_text('[meta]\ntitle = "t"\n[[problem]]\nid = "n1"\n'
                   + body.replace("{value}", value.replace("SECRET", str(secret))), encoding="utf-8")
    result = CliRunner().invoke(main, ["render", str(src), "--pdf", "-o", str(tmp / "out")])
    line = _one_line_exit_2(result)
    assert f"problem n1: {field}" in line and named in line
    _assert_clean(tmp, token)
