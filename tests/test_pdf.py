"""PDF compilation of every problem file (runs in CI; skipped locally without TeX)."""

import pytest
from click.testing import CliRunner

from symderiv.cli import main
from symderiv.errors import LatexFailed
from symderiv.latex_build import compile_pdf

from .conftest import PROBLEMS

pytestmark = pytest.mark.pdf


@pytest.mark.parametrize("path", PROBLEMS, ids=[p.stem for p in PROBLEMS])
@pytest.mark.slow
def test_every_problem_file_compiles(path, tmp_path):
    result = CliRunner().invoke(main, ["render", str(path), "--pdf", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    pdf = tmp_path / f"{path.stem}.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    # only the .tex and the .pdf: aux files stay in the private build directory
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{path.stem}.pdf", f"{path.stem}.tex"]


def test_question_sheet_compiles(tmp_path):
    path = PROBLEMS[0]
    result = CliRunner().invoke(main, ["render", str(path), "--sheet", "--pdf", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"{path.stem}-sheet.pdf").exists()


def test_latex_error_lines_are_shown(tmp_path):
    doc = "\\documentclass{article}\\begin{document}\\undefinedmacro\\end{document}\n"
    with pytest.raises(LatexFailed) as err:
        compile_pdf(doc, "broken", tmp_path)
    assert "Undefined control sequence" in str(err.value)
    assert not (tmp_path / "broken.pdf").exists()


def test_tex_cannot_read_files_outside_the_build_directory(tmp_path):
    """Defence in depth: even a document that asks for /etc/passwd is refused by TeX."""
    doc = ("\\documentclass{article}\\begin{document}\\input{/etc/passwd}\\end{document}\n")
    with pytest.raises(LatexFailed):
        compile_pdf(doc, "reader", tmp_path)


def test_shell_escape_is_off(tmp_path):
    marker = tmp_path / "pwned"
    doc = ("\\documentclass{article}\\begin{document}\\immediate\\write18{touch " + str(marker) +
           "}ok\\end{document}\n")
    try:
        compile_pdf(doc, "shell", tmp_path)
    except LatexFailed:
        pass
    assert not marker.exists()
