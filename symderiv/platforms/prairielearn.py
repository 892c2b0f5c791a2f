"""PrairieLearn: one question folder per problem (``info.json``, ``question.html``,
``server.py``).

``server.py`` holds every variant (its statement and its answers, all from the verified key)
and its ``generate`` picks one from ``data["variant_seed"]``, so PrairieLearn's own variants
are the key's variants (``--n``, ``--roster`` or ``--lock``: those of ``symderiv variants``,
in order; a problem that does not vary keeps one).
``question.html`` asks each answer with ``pl-number-input`` (numbers), ``pl-symbolic-input``
(expressions written in elementary functions, PrairieLearn knowing no σ) or
``pl-matrix-component-input`` (numeric matrices, and a matrix expression at a concrete size:
the verified instances of :mod:`.instance` are variants ``generate`` draws among).
``info.json`` has a ``uuid5`` of the course
and the problem id, so a re-export keeps the question's identity.
"""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET

from . import (Answer, Export, Skipped, ZERO_TOLERANCE, answers_of, by_problem, label_html,
               load_variants, number, safe_name, statement_html, supported)
from .instance import concrete
from .maxima import Unsupported, elementary

# the functions pl-symbolic-input reads (SymPy's names)
PL_FUNCTIONS = frozenset({"exp", "log", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan",
                          "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "Abs"})

SERVER = '''"""PrairieLearn server for {title!r}, exported by symderiv from a verified key.

Each entry of VARIANTS is one variant: its statement (HTML) and the key's answers.
generate() picks one from data["variant_seed"].
"""

import json

VARIANTS = json.loads({variants!r})

try:  # inside PrairieLearn
    import numpy as np
    import prairielearn as pl

    def _matrix(rows):
        return pl.to_json(np.array(rows, dtype=float))
except ImportError:  # elsewhere (symderiv's tests): the plain rows
    def _matrix(rows):
        return rows


def generate(data):
    variant = VARIANTS[data["variant_seed"] % len(VARIANTS)]
    data["params"]["statement"] = variant["statement"]
    data["params"]["variant"] = variant["name"]
    for name, answer in variant["answers"].items():
        value = answer["value"]
        data["correct_answers"][name] = _matrix(value) if answer["kind"] == "matrix" else value
'''


def question_uuid(course: str, problem_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"symderiv:{course}:{problem_id}"))


def symbolic_text(value) -> tuple[str, list[str]]:
    """An expression as pl-symbolic-input reads it, and its variables."""
    import sympy as sp

    value = elementary(value)
    for f in value.atoms(sp.Function):
        if type(f).__name__ not in PL_FUNCTIONS:
            raise Unsupported(f"PrairieLearn's symbolic input has no {type(f).__name__}")
    if value.has(sp.Piecewise, sp.Heaviside):
        raise Unsupported("a piecewise expression (PrairieLearn's symbolic input has none)")
    return sp.sstr(value), sorted(s.name for s in value.free_symbols)


def _entry(answer: Answer) -> dict:
    import sympy as sp

    if answer.kind == "number":
        return {"kind": "number", "value": number(answer.value)}
    if answer.kind == "list":
        return {"kind": "matrix", "value": [[number(v) for v in answer.value]]}
    if answer.kind == "matrix":
        matrix = sp.Matrix(answer.value)
        if any(v.free_symbols for v in matrix):
            raise Unsupported("a matrix of expressions (PrairieLearn asks numeric matrices)")
        return {"kind": "matrix", "value": [[number(v) for v in matrix.row(i)]
                                            for i in range(matrix.rows)]}
    text, _ = symbolic_text(answer.value)
    return {"kind": "symbolic", "value": text}


def export_prairielearn(path, *, rtol: float = 1e-3, timeout: float | None = 20.0,
                        count: int | None = None, roster=None, lock=None) -> Export:
    """``count``, ``roster``, ``lock``: the variants (see :func:`load_variants`)."""
    problem_set, variant_list, skipped = load_variants(path, timeout, count=count,
                                                       roster=roster, lock=lock)
    meta = problem_set.meta
    course = meta.course or meta.title
    base = f"questions/{safe_name(problem_set.stem)}"
    files: dict[str, bytes] = {}
    for pv in by_problem(variant_list):
        problem = pv.problem
        try:   # matrix expressions: numeric instances at a concrete size (.instance)
            pv = concrete(pv)
        except Unsupported as exc:
            skipped.append(Skipped(problem.id, "", f"its matrix expressions: {exc}"))
        # the labels every variant can give, from the first (the same labels in each)
        notes: list[Skipped] = []
        first = answers_of(problem, pv.variants[0][1], notes)
        kept = supported(problem, first, _entry, notes)
        skipped.extend(notes)
        if not kept:
            skipped.append(Skipped(problem.id, "", "no answer PrairieLearn can grade"
                                   if problem.kind != "text" else "a prose answer (not gradable)"))
            continue
        labels = [a.label for a in kept]
        points = {a.label: a.points for a in kept}
        names = {label: f"ans{i}" for i, label in enumerate(labels, 1)}
        variants, variables = [], {label: set() for label in labels}
        for name, solution in pv.variants:
            values = {a.label: a for a in answers_of(problem, solution)}
            answers = {}
            for label in labels:
                entry = _entry(values[label])
                if entry["kind"] == "symbolic":
                    variables[label].update(symbolic_text(values[label].value)[1])
                answers[names[label]] = entry
            variants.append({"name": name, "statement": statement_html(solution.problem.statement),
                             "answers": answers})
        folder = f"{base}/{safe_name(problem.id)}"
        info = {"uuid": question_uuid(course, problem.id), "type": "v3",
                "title": f"{problem.id}: {problem.title or 'Question ' + problem.id}",
                "topic": meta.title, "tags": ["symderiv"],
                "singleVariant": len(variants) == 1}
        files[f"{folder}/info.json"] = (json.dumps(info, indent=2, ensure_ascii=False)
                                        + "\n").encode()
        files[f"{folder}/question.html"] = _question_html(problem, kept, names, variables,
                                                          points, rtol)
        server = SERVER.format(title=f"{meta.title} {problem.id}",
                               variants=json.dumps(variants, ensure_ascii=False, sort_keys=True))
        files[f"{folder}/server.py"] = server.encode()
    return Export({f"{problem_set.stem}-prairielearn/{k}": v for k, v in files.items()}, skipped)


def _question_html(problem, answers, names, variables, points, rtol) -> bytes:
    root = ET.Element("div")
    panel = ET.SubElement(root, "pl-question-panel")
    panel.text = "{{{params.statement}}}"
    for a in answers:
        label = label_html(problem.id, a.label, problem)
        attrs = {"answers-name": names[a.label], "label": _text_of(label) + ":",
                 "weight": str(_weight(points[a.label], points))}
        if a.kind == "number":
            tag = "pl-number-input"
            attrs.update({"comparison": "relabs", "rtol": f"{rtol:g}", "atol": f"{ZERO_TOLERANCE:g}"})
        elif a.kind in ("matrix", "list"):  # a list: one row of boxes
            tag = "pl-matrix-component-input"
            attrs.update({"comparison": "relabs", "rtol": f"{rtol:g}", "atol": f"{ZERO_TOLERANCE:g}"})
        else:
            tag = "pl-symbolic-input"
            attrs["variables"] = ", ".join(sorted(variables[a.label]))
        paragraph = ET.SubElement(root, "p")
        ET.SubElement(paragraph, tag, attrs)
    ET.indent(root, space="  ")
    body = "".join(ET.tostring(child, encoding="unicode", method="html") for child in root)
    return (body.strip() + "\n").encode()


def _text_of(html: str) -> str:
    """A label without tags (attributes take text; math stays as \\( … \\))."""
    import re

    return re.sub(r"<[^>]+>", "", html)


def _weight(share, points) -> int:
    """Integer weights in proportion to the points (PrairieLearn's weights are integers)."""
    from math import lcm

    scale = lcm(*[p.denominator for p in points.values()])
    values = [int(p * scale) for p in points.values()]
    from math import gcd
    from functools import reduce

    g = reduce(gcd, values)
    return int(share * scale) // g
