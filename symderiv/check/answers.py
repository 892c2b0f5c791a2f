"""The answers file: ``[answers]`` maps ``"<problem id>/<label>"`` to a student's answer."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..errors import BadInput
from ..spec import read_toml

TABLES = {"meta", "answers"}
META_FIELDS = {"student", "key", "note"}
MAX_ANSWERS = 500
MAX_ANSWER_LENGTH = 2000


@dataclass(frozen=True)
class Submission:
    path: Path
    student: str
    answers: tuple[tuple[str, str], ...]  # (label, text) in file order


def load_answers(path: str | Path) -> Submission:
    path = Path(path)
    name = path.name
    data = read_toml(path)
    unknown = sorted(set(data) - TABLES)
    if unknown:
        raise BadInput(f"unknown table or key {unknown[0]!r} (expected [meta] and [answers])",
                       file=name, field=unknown[0])
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        raise BadInput("must be a table", file=name, field="meta")
    for key in meta:
        if key not in META_FIELDS:
            raise BadInput(f"unknown field (expected one of {', '.join(sorted(META_FIELDS))})",
                           file=name, field=f"meta.{key}")
        if not isinstance(meta[key], str):
            raise BadInput("must be a string", file=name, field=f"meta.{key}")
    answers = data.get("answers")
    if not isinstance(answers, dict):
        raise BadInput("missing [answers] table", file=name, field="answers")
    if len(answers) > MAX_ANSWERS:
        raise BadInput(f"too many answers ({len(answers)}; the limit is {MAX_ANSWERS})",
                       file=name, field="answers")
    items = []
    for label, value in answers.items():
        field = f'answers."{label}"'
        if "/" not in label or label.startswith("/") or label.endswith("/"):
            raise BadInput('labels are written "<problem id>/<label>", e.g. "1a/sigmoid.derivative"',
                           file=name, field=field)
        if isinstance(value, bool) or isinstance(value, (dict, list)):
            raise BadInput("an answer must be a string (or a number)", file=name, field=field)
        if isinstance(value, (int, Decimal, float)):
            value = str(value)
        if not isinstance(value, str):
            raise BadInput("an answer must be a string", file=name, field=field)
        if len(value) > MAX_ANSWER_LENGTH:
            # kept, and judged unparseable: a long answer is the student's, not a file error
            value = value[: MAX_ANSWER_LENGTH + 1]
        items.append((label, value))
    return Submission(path, meta.get("student", ""), tuple(items))
