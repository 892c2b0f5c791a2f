"""Moodle XML: numerical questions and STACK questions, one category per problem.

Each variant of a problem is one question, so that a quiz's "random question from this
category" gives a student one whole, consistent variant:

- a variant with exactly one answer, a number: a ``numerical`` question (the key's value,
  with an absolute tolerance of ``rtol`` of its size);
- otherwise a ``stack`` question: one input per answer (``algebraic``, or ``matrix`` for a
  matrix), the key's value in Maxima as the teacher's answer (:mod:`.maxima`), one
  potential-response tree per answer worth the answer's points, with ``AlgEquiv`` (``Diff``
  for a derivative, ``NumRelative`` for a number), and a question test in which the teacher's
  answers score 1 on every tree.

A matrix expression is asked at a concrete size (:mod:`.instance`): each instance is one
question of the category, its question variables the given matrices, the network's
definitions and the key's formulas in Maxima's matrix algebra, its inputs ``matrix`` grids
compared entry by entry with ``NumRelative``.

The XML is built with ElementTree; the file is the same bytes on every run.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

from . import (Answer, Export, ProblemVariants, Skipped, answers_of, by_problem, decimal,
               label_html, load_variants, math_tex, points_text, statement_html, supported,
               tolerance, xml_bytes)
from .instance import InstanceBody, concrete, maxima_program
from .maxima import Unsupported, maxima

STACK_VERSION = "2023121100"
PENALTY = "0.1"


def _text(parent, tag: str, text: str = "", **attrs) -> ET.Element:
    """``<tag attrs><text>text</text></tag>``, Moodle's wrapper for every text field."""
    element = ET.SubElement(parent, tag, attrs)
    ET.SubElement(element, "text").text = text
    return element


def _leaf(parent, tag: str, text: str = "") -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def category_path(*parts: str) -> str:
    """A Moodle category path; a slash inside a name is written ``//``."""
    return "/".join(["$course$", "top"] + [p.replace("/", "//") for p in parts])


def export_moodle(path, *, rtol: float = 1e-3, timeout: float | None = 20.0,
                  count: int | None = None, roster=None, lock=None) -> Export:
    """``count``, ``roster``, ``lock``: the variants (see :func:`load_variants`)."""
    problem_set, variant_list, skipped = load_variants(path, timeout, count=count,
                                                       roster=roster, lock=lock)
    quiz = ET.Element("quiz")
    for pv in by_problem(variant_list):
        _problem(quiz, problem_set, pv, rtol, skipped)
    stem = problem_set.stem if hasattr(problem_set, "stem") else "key"
    return Export({f"{stem}-moodle.xml": xml_bytes(quiz)}, skipped)


def _problem(quiz, problem_set, pv: ProblemVariants, rtol, skipped: list[Skipped]) -> None:
    problem = pv.problem
    try:   # matrix expressions: numeric instances at a concrete size (.instance)
        pv = concrete(pv)
    except Unsupported as exc:
        skipped.append(Skipped(problem.id, "", f"its matrix expressions: {exc}"))
    per_variant = []
    for i, (name, solution) in enumerate(pv.variants):
        notes = [] if i == 0 else None  # skipped labels are the same in every variant
        answers = answers_of(problem, solution, notes if notes is not None else [])
        kept = supported(problem, answers, lambda a: maxima(a.value), notes)
        if notes is not None:
            skipped.extend(notes)
        per_variant.append((name, kept))
    if not any(kept for _, kept in per_variant):
        skipped.append(Skipped(problem.id, "", "no answer Moodle can grade"
                               if problem.kind != "text" else "a prose answer (not gradable)"))
        return
    heading = problem.title or f"Question {problem.id}"
    category = ET.SubElement(quiz, "question", {"type": "category"})
    _text(category, "category", category_path(problem_set.meta.title, f"{problem.id} {heading}"))
    _text(category, "info", f"{len(per_variant)} variant(s) of {problem.id}, exported by "
          "symderiv from a verified key", format="html")
    for (name, answers), (_, solution) in zip(per_variant, pv.variants):
        title = f"{problem.id}: {heading}" + ("" if pv.shared else f" (variant {name})")
        own = solution.problem  # the variant's own statement (its numbers)
        if len(answers) == 1 and answers[0].kind == "number":
            _numerical(quiz, title, own, answers[0], rtol)
        else:
            _stack(quiz, title, own, name, answers, rtol, solution)


def _common(question, title: str, html: str, feedback: str, points: Fraction) -> None:
    _text(question, "name", title)
    _text(question, "questiontext", html, format="html")
    _text(question, "generalfeedback", feedback, format="html")
    _leaf(question, "defaultgrade", points_text(points))
    _leaf(question, "penalty", PENALTY)
    _leaf(question, "hidden", "0")
    _leaf(question, "idnumber", "")


def _key_html(problem, answers: list[Answer], solution=None) -> str:
    """The verified key for the general feedback. At a concrete size: the key's formula in
    the question's names, then its value there (6 significant digits when irrational)."""
    import sympy as sp

    shown = {}
    if isinstance(getattr(solution, "body", None), InstanceBody):
        shown = {a.label: a.display for a in solution.answers
                 if a.label in solution.body.instance.values and a.display is not None}
    rows = []
    for a in answers:
        value = a.value
        if a.label in shown:
            if any(not v.is_Rational for v in sp.Matrix(value)):
                value = sp.Matrix(value).applyfunc(
                    lambda v: v if v.is_Rational else sp.Float(sp.N(v, 6), 6))
            rows.append(f"<li>{label_html(problem.id, a.label, problem)} = "
                        f"\\({math_tex(shown[a.label])}\\) = \\({math_tex(value)}\\)</li>")
        else:
            rows.append(f"<li>{label_html(problem.id, a.label, problem)}: "
                        f"\\({math_tex(value)}\\)</li>")
    return f"<p>The verified key:</p><ul>{''.join(rows)}</ul>"


def _numerical(quiz, title, problem, answer: Answer, rtol: float) -> None:
    question = ET.SubElement(quiz, "question", {"type": "numerical"})
    html = statement_html(problem.statement) + \
        f"<p>{label_html(problem.id, answer.label, problem)} (a number)</p>"
    _common(question, title, html, _key_html(problem, [answer]), answer.points)
    item = ET.SubElement(question, "answer", {"fraction": "100", "format": "moodle_auto_format"})
    _leaf(item, "text", decimal(answer.value))
    _text(item, "feedback", "", format="html")
    _leaf(item, "tolerance", decimal(tolerance(answer.value, rtol), 6))
    _leaf(question, "unitgradingtype", "0")
    _leaf(question, "unitpenalty", "0.1000000")
    _leaf(question, "showunits", "3")
    _leaf(question, "unitsleft", "0")


def _numeric(answer: Answer) -> bool:
    """A number or a matrix of numbers: decimals are welcome in the student's answer."""
    if answer.kind in ("number", "list"):
        return True
    return answer.kind == "matrix" and not any(v.free_symbols for v in answer.value)


def _test_for(problem, answer: Answer, rtol: float) -> tuple[str, str]:
    """The answer test and its options: NumRelative for a number, Diff for a derivative
    (with the variable), AlgEquiv otherwise."""
    if answer.kind == "number":
        return "NumRelative", f"{rtol:g}"
    var = getattr(problem.spec, "var", None)
    if problem.kind == "derivative" and answer.kind == "expression" and "derivative" in \
            answer.label and var:
        return "Diff", str(var)
    return "AlgEquiv", ""


def _stack(quiz, title, problem, variant: str, answers: list[Answer], rtol: float,
           solution=None) -> None:
    question = ET.SubElement(quiz, "question", {"type": "stack"})
    # a symbolic network at a concrete size: the given matrices, the intermediate quantities
    # and the key's formulas in Maxima's matrix algebra; each answer a grid of numbers
    instance = isinstance(getattr(solution, "body", None), InstanceBody)
    if instance:
        variables, names = maxima_program(solution, answers)
        tas = [names[a.label] for a in answers]
    else:
        variables = [f"ta{i}: {maxima(a.value)};" for i, a in enumerate(answers, 1)]
        tas = [f"ta{i}" for i in range(1, len(answers) + 1)]
    at_size = set(solution.body.instance.values) if instance else set()
    parts = [statement_html(problem.statement)]
    for i, a in enumerate(answers, 1):
        what = {"number": "a number", "matrix": "a matrix", "expression": "an expression",
                "list": "a list [a, b, …]"}[a.kind]
        parts.append(f"<p>{label_html(problem.id, a.label, problem)} ({what}): [[input:ans{i}]] "
                     f"[[validation:ans{i}]]</p><div>[[feedback:prt{i}]]</div>")
    total = sum((a.points for a in answers), Fraction(0))
    _common(question, title, "".join(parts), _key_html(problem, answers, solution), total)
    _text(question, "stackversion", STACK_VERSION)
    _text(question, "questionvariables", "\n".join(variables))
    _text(question, "specificfeedback", "", format="html")
    _text(question, "questionnote", f"{problem.id} variant {variant}", format="moodle_auto_format")
    _text(question, "questiondescription", "", format="moodle_auto_format")
    _leaf(question, "questionsimplify", "1")
    _leaf(question, "assumepositive", "0")
    _leaf(question, "assumereal", "1")
    _text(question, "prtcorrect", "<span class='correct'>Correct answer, well done.</span>",
          format="html")
    _text(question, "prtpartiallycorrect",
          "<span class='partially'>Your answer is partially correct.</span>", format="html")
    _text(question, "prtincorrect", "<span class='incorrect'>Incorrect answer.</span>",
          format="html")
    _leaf(question, "decimals", ".")
    _leaf(question, "scientificnotation", "*10")
    _leaf(question, "multiplicationsign", "dot")
    _leaf(question, "sqrtsign", "1")
    _leaf(question, "complexno", "i")
    _leaf(question, "inversetrig", "cos-1")
    _leaf(question, "logicsymbol", "lang")
    _leaf(question, "matrixparens", "[")
    _leaf(question, "variantsselectionseed", "")
    for i, a in enumerate(answers, 1):
        item = ET.SubElement(question, "input")
        for tag, value in (("name", f"ans{i}"), ("type", "matrix" if a.kind == "matrix" else "algebraic"),
                           ("tans", f"ta{i}"), ("boxsize", "30"), ("strictsyntax", "1"),
                           ("insertstars", "1"), ("syntaxhint", ""), ("syntaxattribute", "0"),
                           ("forbidwords", "diff,int"), ("allowwords", ""),
                           ("forbidfloat", "0" if _numeric(a) else "1"),
                           ("requirelowestterms", "0"), ("checkanswertype", "1"),
                           ("mustverify", "1"), ("showvalidation", "1"), ("options", "")):
            _leaf(item, tag, value)
    for i, a in enumerate(answers, 1):
        test, options = _test_for(problem, a, rtol)
        sans, tans = f"ans{i}", tas[i - 1]
        if a.label in at_size:   # numbers, some irrational (σ): compared entry by entry
            test, options = "NumRelative", f"{rtol:g}"
            sans, tans = f"flatten(args(ans{i}))", f"flatten(args({tans}))"
        prt = ET.SubElement(question, "prt")
        _leaf(prt, "name", f"prt{i}")
        _leaf(prt, "value", points_text(a.points))
        _leaf(prt, "autosimplify", "1")
        _leaf(prt, "feedbackstyle", "1")
        _text(prt, "feedbackvariables", "")
        node = ET.SubElement(prt, "node")
        for tag, value in (("name", "0"), ("description", a.label), ("answertest", test),
                           ("sans", sans), ("tans", tans), ("testoptions", options),
                           ("quiet", "0"), ("truescoremode", "="), ("truescore", "1"),
                           ("truepenalty", ""), ("truenextnode", "-1"),
                           ("trueanswernote", f"prt{i}-1-T")):
            _leaf(node, tag, value)
        _text(node, "truefeedback", "", format="html")
        for tag, value in (("falsescoremode", "="), ("falsescore", "0"), ("falsepenalty", ""),
                           ("falsenextnode", "-1"), ("falseanswernote", f"prt{i}-1-F")):
            _leaf(node, tag, value)
        _text(node, "falsefeedback", "", format="html")
    qtest = ET.SubElement(question, "qtest")
    _leaf(qtest, "testcase", "1")
    _leaf(qtest, "description", "the teacher's answers score 1")
    for i, _ in enumerate(answers, 1):
        given = ET.SubElement(qtest, "testinput")
        _leaf(given, "name", f"ans{i}")
        _leaf(given, "value", f"ta{i}")
    for i, _ in enumerate(answers, 1):
        expected = ET.SubElement(qtest, "expected")
        _leaf(expected, "name", f"prt{i}")
        _leaf(expected, "expectedscore", "1.0000000")
        _leaf(expected, "expectedpenalty", "0.0000000")
        _leaf(expected, "expectedanswernote", f"prt{i}-1-T")
