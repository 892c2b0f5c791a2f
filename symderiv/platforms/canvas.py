"""Canvas: a QTI 1.2 zip (``imsmanifest.xml`` and one assessment) for Canvas's quiz import.

Canvas draws one item from each question group (a QTI ``section`` with
``selection_number = 1``). Each problem is one group holding one item per variant (one for a
problem that is the same in every variant), and each item is the whole question of its
variant: its statement and all its answers. A problem with one answer is a
``numerical_question`` (a number: the key's value, accepted within ``rtol`` of its size) or a
``short_answer_question`` (an expression, which Canvas matches as text: the key's forms are
listed, ``exp(x)/(exp(x) + 1)^2``, with ``**``, without spaces). A problem with several is a
``fill_in_multiple_blanks_question``, a blank per answer (a numeric matrix or a list entry by
entry), each worth its answer's share; Canvas compares blanks as text, so a number's blank
lists the key's value rounded to 0 … 4 decimals within ``rtol`` (:func:`number_forms`). For
expressions STACK, PrairieLearn or Gradescope grade better. Math is written ``\\( … \\)``.

A matrix expression is asked at a concrete size (:mod:`.instance`), a blank per entry. With
``--roster`` or ``--lock`` the zip holds one quiz per student (titled by the student's id)
with that student's own variant of each problem, to be assigned to that student: Canvas then
follows the roster.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
import xml.etree.ElementTree as ET

from . import (Answer, Export, Skipped, answers_of, by_problem, decimal, label_html,
               load_variants, number, points_text, rounded_shares, statement_html, tolerance,
               worth, xml_bytes, zip_bytes)
from .instance import concrete
from .maxima import Unsupported, elementary

QTI = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CP = "http://www.imsglobal.org/xsd/imscp_v1p1"


def ident(*parts: str) -> str:
    """A stable QTI identifier from the key's names (the same on every run)."""
    return "g" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


MAX_FORMS = 24  # texts listed for one expression


def text_forms(value) -> list[str]:
    """The forms of an expression a short-answer item accepts (Canvas compares text): the
    key's form and the equivalent writings SymPy gives it (expanded, over one denominator,
    cancelled, factored, simplified), each with ``^`` and ``**``, with and without spaces, and
    with ``e^x`` for ``exp(x)``; every form is checked equal to the key at sample points.
    Up to ``MAX_FORMS`` texts, the key's own first."""
    import sympy as sp

    from ..export import sympy_string

    value = elementary(value)
    if value.has(sp.Piecewise, sp.Heaviside):
        raise Unsupported("a piecewise expression (Canvas compares answers as text)")
    writings = [value]
    if sp.count_ops(value) <= 40:   # the rewritings of a large expression take seconds
        for rewrite in (sp.expand, sp.together, sp.cancel, sp.factor, sp.simplify):
            try:
                writings.append(rewrite(value))
            except (TypeError, ValueError, NotImplementedError, sp.PolynomialError):
                continue
    texts = []
    for w in writings:
        if w is not value and not _same_at_points(w, value):
            continue
        plain = sympy_string(w)
        for t in (plain, plain.replace("**", "^")):
            texts += [t, t.replace(" ", "")]
            exp_form = _E_POWER.sub(r"e^\1", t) if "**" not in t else None
            if exp_form and exp_form != t:
                texts += [exp_form, exp_form.replace(" ", "")]
    return list(dict.fromkeys(texts))[:MAX_FORMS]


_E_POWER = __import__("re").compile(r"\bexp\(([A-Za-z_][A-Za-z_0-9]*|-?\d+)\)")


def _same_at_points(a, b) -> bool:
    """a = b at three points (rewritings are exact; this guards against a SymPy slip)."""
    import sympy as sp

    syms = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    for k, base in enumerate((sp.Rational(3, 7), sp.Rational(-5, 11), sp.Rational(13, 9))):
        at = {s: base + sp.Rational(i, 17) for i, s in enumerate(syms)}
        try:
            d = complex(sp.N((a - b).xreplace(at), 30))
        except (TypeError, ValueError):
            return False
        if abs(d) > 1e-20 * max(1.0, abs(complex(sp.N(b.xreplace(at), 30)))):
            return False
    return True


def _field(parent, label: str, entry: str) -> None:
    field = ET.SubElement(parent, "qtimetadatafield")
    ET.SubElement(field, "fieldlabel").text = label
    ET.SubElement(field, "fieldentry").text = entry


def export_canvas(path, *, rtol: float = 1e-3, timeout: float | None = 20.0,
                  count: int | None = None, roster=None, lock=None) -> Export:
    """``count``, ``roster``, ``lock``: the variants (see :func:`load_variants`)."""
    problem_set, variant_list, skipped = load_variants(path, timeout, count=count,
                                                       roster=roster, lock=lock)
    title = problem_set.meta.title
    quizzes = {}   # file's ident -> (quiz title, its XML)
    if roster or lock:
        # a quiz per student, holding that student's own variant of every problem (and, for
        # a matrix expression, an instance drawn for that student): the instructor assigns
        # each quiz to its student ("Assign to"), so Canvas follows the roster
        for index, v in enumerate(variant_list):
            # the student's id, never a name (the export may be shared; ids are what the
            # roster and the lock hold alike)
            quiz_title = f"{title}: {v.name}"
            pvs = []
            for pv in by_problem([v]):
                try:
                    pvs.append(concrete(pv, count=1) if _has_matrix_expressions(pv) else pv)
                except Unsupported as exc:
                    if index == 0:
                        skipped.append(Skipped(pv.problem.id, "", f"its matrix expressions: {exc}"))
                    pvs.append(pv)
            root = _assessment(quiz_title, pvs, rtol, skipped if index == 0 else [], False)
            quizzes[ident(quiz_title)] = (quiz_title, root)
    else:
        pvs = []
        for pv in by_problem(variant_list):
            try:   # matrix expressions: numeric instances at a concrete size (.instance)
                pvs.append(concrete(pv))
            except Unsupported as exc:
                skipped.append(Skipped(pv.problem.id, "", f"its matrix expressions: {exc}"))
                pvs.append(pv)
        quizzes[ident(title)] = (title, _assessment(title, pvs, rtol, skipped, True))
    files = {"imsmanifest.xml": xml_bytes(_manifest(title, list(quizzes)))}
    for name, (_, root) in quizzes.items():
        files[f"{name}/{name}.xml"] = xml_bytes(root)
    return Export({f"{problem_set.stem}-canvas-qti.zip": zip_bytes(files)}, skipped)


def _has_matrix_expressions(pv) -> bool:
    from .instance import matrix_answers

    return any(matrix_answers(s) for _, s in pv.variants)


def _assessment(title: str, pvs, rtol: float, skipped: list, groups: bool) -> ET.Element:
    """One quiz: a section per problem. ``groups``: each section a question group drawing one
    of its variants (``selection_number = 1``); otherwise each problem's one item as it is."""
    root = ET.Element("questestinterop", {"xmlns": QTI})
    assessment = ET.SubElement(root, "assessment", {"ident": ident(title), "title": title})
    meta = ET.SubElement(assessment, "qtimetadata")
    _field(meta, "cc_maxattempts", "1")
    top = ET.SubElement(assessment, "section", {"ident": "root_section"})
    for pv in pvs:
        problem = pv.problem
        # per variant: its statement and the items' pieces (a matrix asked entry by entry)
        members = []
        for index, (variant, solution) in enumerate(pv.variants):
            notes = [] if index == 0 else None  # skipped labels are the same in every variant
            pieces = []
            for a in answers_of(problem, solution, notes if notes is not None else []):
                pieces.extend(_pieces(problem, a, notes))
            if notes is not None:
                skipped.extend(notes)
            members.append((None if pv.shared or not groups else variant,
                            statement_html(solution.problem.statement), pieces))
        if not members[0][2]:
            skipped.append(Skipped(problem.id, "", "no answer Canvas can grade"
                                   if problem.kind != "text" else "a prose answer (not gradable)"))
            continue
        total = sum((piece.points for _, _, piece in members[0][2]), Fraction(0))
        (points,) = rounded_shares([total], 2)
        heading = problem.title or f"Question {problem.id}"
        section = ET.SubElement(top, "section", {"ident": ident(title, problem.id),
                                                 "title": heading})
        if groups:
            order = ET.SubElement(section, "selection_ordering")
            selection = ET.SubElement(order, "selection")
            ET.SubElement(selection, "selection_number").text = "1"
            extension = ET.SubElement(selection, "selection_extension")
            ET.SubElement(extension, "points_per_item").text = points_text(Fraction(str(points)))
        for variant, statement, pieces in members:
            if len(pieces) == 1:
                _key, prompt, answer = pieces[0]
                answer = Answer(answer.label, answer.value, answer.kind, Fraction(str(points)))
                _item(section, title, problem, variant, statement, prompt, answer, rtol)
            else:
                _blanks_item(section, title, problem, variant, statement, pieces,
                             Fraction(str(points)), rtol)
    return root


def _plain_title(html: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", html)


def _pieces(problem, a: Answer, notes):
    """(group key, prompt html, answer) for each item an answer gives: itself, or one per
    entry of a matrix."""
    import sympy as sp

    prompt = label_html(problem.id, a.label, problem)
    if a.kind == "list":
        share = a.points / len(a.value)
        return [(f"{a.label}[{k}]", f"{prompt}, entry {k}",
                 Answer(f"{a.label}[{k}]", v, "number", share))
                for k, v in enumerate(a.value, 1)]
    if a.kind != "matrix":
        if a.kind == "expression":
            try:
                text_forms(a.value)
            except Unsupported as exc:
                if notes is not None:
                    notes.append(Skipped(problem.id, a.label,
                                         f"{exc} ({worth(a.points)})"))
                return []
        return [(a.label, prompt, a)]
    matrix = sp.Matrix(a.value)
    if any(v.free_symbols for v in matrix):
        if notes is not None:
            notes.append(Skipped(problem.id, a.label, "a matrix of expressions (Canvas has no "
                                 "matrix answer; use STACK, PrairieLearn or Gradescope) "
                                 f"({worth(a.points)})"))
        return []
    cells = [(i, j) for i in range(matrix.rows) for j in range(matrix.cols)]
    share = a.points / len(cells)
    return [(f"{a.label}[{i + 1},{j + 1}]", f"{prompt}, entry ({i + 1}, {j + 1})",
             Answer(f"{a.label}[{i + 1},{j + 1}]", matrix[i, j], "number", share))
            for i, j in cells]


def _item_title(problem_id: str, variant) -> str:
    """``1b (variant v07)``; ``1a`` for a problem that is the same in every variant."""
    return problem_id if variant is None else f"{problem_id} (variant {variant})"


def _item(section, title, problem, variant, statement, prompt, answer: Answer, rtol):
    """A question with one answer: numerical (within ``rtol``) or short answer (text forms)."""
    key = problem.id
    item = ET.SubElement(section, "item", {"ident": ident(title, problem.id, key, variant or ""),
                                           "title": _item_title(problem.id, variant)})
    meta = ET.SubElement(ET.SubElement(item, "itemmetadata"), "qtimetadata")
    kind = "numerical_question" if answer.kind == "number" else "short_answer_question"
    _field(meta, "question_type", kind)
    _field(meta, "points_possible", points_text(answer.points))
    _field(meta, "assessment_question_identifierref",
           ident(title, problem.id, key, variant or "", "q"))
    presentation = ET.SubElement(item, "presentation")
    what = "a number" if answer.kind == "number" else "an expression, written like 3*x^2 + exp(-x)"
    html = f"{statement}<p><b>{prompt}</b> ({what})</p>"
    ET.SubElement(ET.SubElement(presentation, "material"), "mattext",
                  {"texttype": "text/html"}).text = html
    response = ET.SubElement(presentation, "response_str", {"ident": "response1",
                                                            "rcardinality": "Single"})
    fib = ET.SubElement(response, "render_fib",
                        {"fibtype": "Decimal"} if answer.kind == "number" else {})
    ET.SubElement(fib, "response_label", {"ident": "answer1", "rshuffle": "No"})
    processing = ET.SubElement(item, "resprocessing")
    ET.SubElement(ET.SubElement(processing, "outcomes"), "decvar", {
        "maxvalue": "100", "minvalue": "0", "varname": "SCORE", "vartype": "Decimal"})
    condition = ET.SubElement(processing, "respcondition", {"continue": "No"})
    variables = ET.SubElement(condition, "conditionvar")
    if answer.kind == "number":
        value, tol = number(answer.value), tolerance(answer.value, rtol)
        either = ET.SubElement(variables, "or")
        ET.SubElement(either, "varequal", {"respident": "response1"}).text = decimal(answer.value)
        both = ET.SubElement(either, "and")
        ET.SubElement(both, "vargte", {"respident": "response1"}).text = decimal(value - tol)
        ET.SubElement(both, "varlte", {"respident": "response1"}).text = decimal(value + tol)
    else:
        for form in text_forms(answer.value):
            ET.SubElement(variables, "varequal", {"respident": "response1"}).text = form
    ET.SubElement(condition, "setvar", {"action": "Set", "varname": "SCORE"}).text = "100"


MAX_PLACES = 4  # a number in a blank: written with at most this many decimals


def figures(rtol: float) -> int:
    """The significant figures a student is asked for: the fewest whose rounding is always
    within ``rtol`` (a relative error of at most 5·10^−s): 4 for 1e-3."""
    s = 1
    while 5 * 10.0 ** -s > rtol and s < 12:
        s += 1
    return s


def number_forms(value, rtol: float) -> list[str]:
    """The texts a blank accepts for a number (Canvas compares blanks as text): the key's
    value rounded to 0 … MAX_PLACES decimals (trailing zeros written or not) when the rounding
    is within ``rtol`` of it, its exact decimal when it terminates within 12 digits, and its
    roundings to one figure fewer than :func:`figures` up to one more (the prompt asks for
    :func:`figures`) when within ``rtol``: 0.00312848… accepts ``0.003128``."""
    from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

    exact = number(value)
    tol = tolerance(value, rtol)
    forms = [decimal(value)]
    for places in range(MAX_PLACES + 1):
        step = Decimal(1).scaleb(-places)
        try:
            rounded = Decimal(repr(exact)).quantize(step, ROUND_HALF_EVEN)
        except InvalidOperation:   # more digits than Decimal holds (a diverging iterate)
            continue
        if abs(float(rounded) - exact) <= tol:
            text = format(abs(rounded) if rounded == 0 else rounded, "f")  # never "-0.0"
            forms.append(text)
            if "." in text:
                forms.append(text.rstrip("0").rstrip("."))
    if exact != 0:
        wanted = figures(rtol)
        for digits in range(max(1, wanted - 1), wanted + 2):
            rounded = Decimal(f"{exact:.{digits - 1}e}")
            if abs(float(rounded) - exact) <= tol:
                forms.append(format(rounded, "f"))
    return list(dict.fromkeys(f for f in forms if f not in ("", "-0")))


def _blanks_item(section, title, problem, variant, statement, pieces, points: Fraction, rtol):
    """A question with several answers: Canvas's fill-in-multiple-blanks, one blank per
    answer (a matrix entry by entry), each blank worth its share of the points."""
    item = ET.SubElement(section, "item", {"ident": ident(title, problem.id, variant or ""),
                                           "title": _item_title(problem.id, variant)})
    meta = ET.SubElement(ET.SubElement(item, "itemmetadata"), "qtimetadata")
    _field(meta, "question_type", "fill_in_multiple_blanks_question")
    _field(meta, "points_possible", points_text(points))
    _field(meta, "assessment_question_identifierref",
           ident(title, problem.id, variant or "", "q"))
    blanks = [f"b{k}" for k in range(1, len(pieces) + 1)]
    lines = []
    for blank, (_key, prompt, answer) in zip(blanks, pieces):
        what = (f"a number, to {figures(rtol)} significant figures" if answer.kind == "number"
                else "an expression, written like 3*x^2 + exp(-x)")
        lines.append(f"<p><b>{prompt}</b> ({what}): [{blank}]</p>")
    presentation = ET.SubElement(item, "presentation")
    ET.SubElement(ET.SubElement(presentation, "material"), "mattext",
                  {"texttype": "text/html"}).text = statement + "".join(lines)
    accepted = []
    for blank, (_key, _prompt, answer) in zip(blanks, pieces):
        forms = (number_forms(answer.value, rtol) if answer.kind == "number"
                 else text_forms(answer.value))
        response = ET.SubElement(presentation, "response_lid", {"ident": f"response_{blank}"})
        ET.SubElement(ET.SubElement(response, "material"), "mattext").text = blank
        choices = ET.SubElement(response, "render_choice")
        idents = []
        for n, form in enumerate(forms):
            answer_id = ident(title, problem.id, variant or "", blank, str(n))
            label = ET.SubElement(choices, "response_label", {"ident": answer_id})
            ET.SubElement(ET.SubElement(label, "material"), "mattext",
                          {"texttype": "text/plain"}).text = form
            idents.append(answer_id)
        accepted.append((blank, idents))
    processing = ET.SubElement(item, "resprocessing")
    ET.SubElement(ET.SubElement(processing, "outcomes"), "decvar", {
        "maxvalue": "100", "minvalue": "0", "varname": "SCORE", "vartype": "Decimal"})
    total = sum((answer.points for _, _, answer in pieces), Fraction(0))
    weights = rounded_shares([100 * answer.points / total for _, _, answer in pieces], 2)
    for (blank, idents), weight in zip(accepted, weights):
        for answer_id in idents:
            condition = ET.SubElement(processing, "respcondition")
            variables = ET.SubElement(condition, "conditionvar")
            ET.SubElement(variables, "varequal", {"respident": f"response_{blank}"}).text = answer_id
            ET.SubElement(condition, "setvar", {"varname": "SCORE", "action": "Add"}).text = \
                f"{weight:.2f}"


def _manifest(title: str, quizzes: list[str]) -> ET.Element:
    """The package's manifest: one QTI resource per quiz (``quizzes``: their idents)."""
    manifest = ET.Element("manifest", {"identifier": ident(title, "manifest"), "xmlns": CP})
    meta = ET.SubElement(manifest, "metadata")
    ET.SubElement(meta, "schema").text = "IMS Content"
    ET.SubElement(meta, "schemaversion").text = "1.1.3"
    ET.SubElement(manifest, "organizations")
    resources = ET.SubElement(manifest, "resources")
    for name in quizzes:
        resource = ET.SubElement(resources, "resource", {"identifier": name,
                                                         "type": "imsqti_xmlv1p2"})
        ET.SubElement(resource, "file", {"href": f"{name}/{name}.xml"})
    return manifest
