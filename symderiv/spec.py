"""Problem files (TOML) → frozen, validated dataclasses.

Every error names the file, the problem id and the field, so that a typo costs one line:
``problems/x.toml: problem q1: limits: unknown limit point '+infinity' …``.
TOML floats are read as exact decimals (``0.1`` is 1/10, never a binary float).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

from .errors import BadInput, printable
from .texsafe import check_latex_fragment

META_FIELDS = {"title", "course", "institution", "author", "due", "bold_vectors", "indicator",
               "salt"}
META_FLAGS = {"bold_vectors"}  # the [meta] fields that are true/false, not text
COMMON_FIELDS = {"id", "kind", "title", "statement", "points", "assume", "vary"}


@dataclass(frozen=True)
class Meta:
    title: str
    course: str = ""
    institution: str = ""
    author: str = ""
    due: str = ""
    bold_vectors: bool = False  # vectors and matrices printed bold, as the question writes them
    indicator: str = ""  # the question's indicator, e.g. "I" for I(x > 0); default 1[x > 0]
    salt: str = ""  # the secret mixed into the draws of [problem.vary] (symderiv/vary.py)


@dataclass(frozen=True)
class Problem:
    """One ``[[problem]]`` table: the common fields, the kind's own fields and its parsed spec."""

    id: str
    kind: str
    title: str = ""
    statement: str = ""
    points: Decimal | None = None
    assume: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, Any] = field(default_factory=dict)
    spec: Any = None
    file: str = ""
    # [problem.points]: label -> points (points is then their sum); empty: points split over
    # the labels the question asks for (symderiv/check/points.py)
    label_points: Mapping[str, Decimal] = field(default_factory=dict)
    vary: Any = None  # [problem.vary] as a vary.Vary, or None

    def error(self, field_name: str | None, message: str) -> BadInput:
        return BadInput(message, file=self.file, problem=self.id, field=field_name)


@dataclass(frozen=True)
class ProblemSet:
    path: str
    meta: Meta
    problems: tuple[Problem, ...]

    @property
    def stem(self) -> str:
        return Path(self.path).stem


class Fields:
    """Typed access to a kind's fields; every miss or mistype names the field."""

    def __init__(self, problem: Problem, allowed: set[str]):
        self.problem = problem
        unknown = sorted(set(problem.fields) - allowed)
        if unknown:
            raise problem.error(unknown[0], f"unknown field for kind '{problem.kind}' "
                                f"(allowed: {', '.join(sorted(allowed | COMMON_FIELDS))})")

    def error(self, name: str, message: str) -> BadInput:
        return self.problem.error(name, message)

    def get(self, name: str, types: type | tuple, default: Any = None, *, required: bool = False,
            what: str = "") -> Any:
        if name not in self.problem.fields:
            if required:
                raise self.error(name, "required field is missing")
            return default
        value = self.problem.fields[name]
        if not isinstance(value, types) or isinstance(value, bool) and bool not in _tuple(types):
            raise self.error(name, f"expected {what or _names(types)}, got {_describe(value)}")
        return value

    def latex_table(self, name: str, *, what: str = "a table of name = \"LaTeX\"") -> dict[str, str]:
        """A table of names to LaTeX written in the question's notation, each value vetted as a
        math name (one line, math commands only); errors name ``name.KEY``."""
        table = self.get(name, dict, {}, what=what)
        for key, value in table.items():
            if not isinstance(value, str) or not value.strip():
                raise self.error(f"{name}.{key}", f"expected a LaTeX string, got {value!r}")
            try:
                check_latex_fragment(value, inline=True)
            except BadInput as exc:
                raise self.error(f"{name}.{key}", exc.message) from None
        return {key: value.strip() for key, value in table.items()}

    def string_list(self, name: str, default=(), *, required: bool = False) -> list[str]:
        value = self.get(name, list, list(default), required=required, what="a list of strings")
        for item in value:
            if not isinstance(item, str):
                raise self.error(name, f"expected a list of strings, found {_describe(item)}")
        return value


def _tuple(types) -> tuple:
    return types if isinstance(types, tuple) else (types,)


def _names(types) -> str:
    names = {str: "a string", int: "an integer", Decimal: "a number", float: "a number",
             list: "a list", dict: "a table", bool: "true or false"}
    return " or ".join(names.get(t, t.__name__) for t in _tuple(types))


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (int, Decimal)):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def read_toml(path: str | Path) -> dict:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput("no such file", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read: {exc}", file=str(path)) from None
    if len(text) > MAX_FILE_CHARS:
        raise BadInput(f"the file is too large ({len(text)} characters; the limit is "
                       f"{MAX_FILE_CHARS})", file=str(path))
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"invalid TOML: {printable(str(exc))}", file=str(path)) from None
    _check_numbers(data, str(path))
    return data


MAX_FILE_CHARS = 1_000_000
MAX_DIGITS = 60
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._()\-]{0,39}")


def _number_problem(value) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        if not value.is_finite():
            return f"the number {value} is not finite (nan and inf are not allowed)"
        if len(value.as_tuple().digits) > MAX_DIGITS or (value and abs(value.adjusted()) > MAX_DIGITS):
            return f"the number {value:.6g} is too large or too precise (at most {MAX_DIGITS} digits)"
    return None


def _check_numbers(data: Any, file: str) -> None:
    """Refuse non-finite and absurdly large numbers anywhere in the file, naming where."""
    def walk(value, path: str, problem: str | None):
        trouble = _number_problem(value)
        if trouble:
            raise BadInput(trouble, file=file, problem=problem, field=path or None)
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key), problem)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]", problem)

    for key, value in data.items():
        if key == "problem" and isinstance(value, list):
            for i, table in enumerate(value, start=1):
                pid = table.get("id") if isinstance(table, dict) else None
                where = printable(pid) if isinstance(pid, str) and pid else f"#{i}"
                if isinstance(table, dict):
                    for k, v in table.items():
                        walk(v, str(k), where)
        else:
            walk(value, str(key), None)


LOAD_SECONDS = 10.0


def load(path: str | Path, seconds: float | None = LOAD_SECONDS) -> ProblemSet:
    """Read and validate a problem file, including every kind's own fields.

    Loading has a CPU-time budget of its own: a file whose expressions are too costly even to
    read is a one-line error (exit 2), never a hang.
    """
    from .budget import time_budget
    from .errors import SolveTimeout

    try:
        with time_budget("load", seconds):
            return _load(path)
    except SolveTimeout:
        raise BadInput(f"reading the file took more than {seconds:g} s of CPU time: an "
                       "expression or a size in it is too large", file=str(path)) from None


def _load(path: str | Path) -> ProblemSet:
    return load_data(read_toml(path), str(path))


def load_data(data: dict, name: str) -> ProblemSet:
    """:func:`load` of TOML already read (a variant's tables with its drawn values in place)."""
    from .kinds import kind_module, KINDS

    unknown = sorted(set(data) - {"meta", "problem"})
    if unknown:
        raise BadInput("unknown top-level table (expected [meta] and [[problem]])",
                       file=name, field=unknown[0])
    meta_table = data.get("meta")
    if not isinstance(meta_table, dict):
        raise BadInput("missing [meta] table with a title", file=name, field="meta")
    extra = sorted(set(meta_table) - META_FIELDS)
    if extra:
        raise BadInput(f"unknown field (allowed: {', '.join(sorted(META_FIELDS))})",
                       file=name, field=f"meta.{extra[0]}")
    for key, value in meta_table.items():
        if key == "salt":
            if not isinstance(value, str):
                raise BadInput(f"expected a string, got {_describe(value)}", file=name,
                               field="meta.salt")
        elif key in META_FLAGS:
            if not isinstance(value, bool):
                raise BadInput(f"expected true or false, got {_describe(value)}", file=name,
                               field=f"meta.{key}")
        elif not isinstance(value, str):
            raise BadInput(f"expected a string, got {_describe(value)}", file=name, field=f"meta.{key}")
    if not meta_table.get("title", "").strip():
        raise BadInput("required field is missing", file=name, field="meta.title")
    if meta_table.get("indicator"):
        try:
            check_latex_fragment(meta_table["indicator"], inline=True)
        except BadInput as exc:
            raise exc.located(file=name, field="meta.indicator") from None
    meta = Meta(**meta_table)

    tables = data.get("problem", [])
    if not isinstance(tables, list) or not tables:
        raise BadInput("no [[problem]] tables", file=name, field="problem")
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, table in enumerate(tables, start=1):
        if not isinstance(table, dict):
            raise BadInput("each problem must be a [[problem]] table", file=name, field="problem")
        pid = table.get("id")
        where = printable(pid) if isinstance(pid, str) and pid else f"#{index}"
        if not isinstance(pid, str) or not pid.strip():
            raise BadInput("required field is missing or not a string", file=name,
                           problem=where, field="id")
        if not ID_PATTERN.fullmatch(pid):
            raise BadInput("an id is 1 to 40 letters, digits and . _ ( ) - (starting with a "
                           "letter or digit)", file=name, problem=where, field="id")
        if pid in seen:
            raise BadInput("duplicate problem id", file=name, problem=pid, field="id")
        seen.add(pid)
        kind = table.get("kind")
        if not isinstance(kind, str):
            raise BadInput("required field is missing or not a string", file=name, problem=pid,
                           field="kind")
        if kind not in KINDS:
            raise BadInput(f"unknown kind {kind!r} (known: {', '.join(sorted(KINDS))})",
                           file=name, problem=pid, field="kind")
        vary = None
        if "vary" in table:
            from .vary import parse_vary, substitute

            vary = parse_vary(table, name, pid)
            table = substitute(table, vary, name, pid)
        for key in ("title", "statement"):
            if key in table and not isinstance(table[key], str):
                raise BadInput(f"expected a string, got {_describe(table[key])}", file=name,
                               problem=pid, field=key)
        if "statement" in table:
            try:
                check_latex_fragment(table["statement"])
            except BadInput as exc:
                raise exc.located(file=name, problem=pid, field="statement") from None
        points = table.get("points")
        label_points = {}
        if isinstance(points, dict):
            label_points = _label_points(points, name, pid)
            points = sum(label_points.values(), Decimal(0))
        if points is not None and (isinstance(points, bool) or not isinstance(points, (int, Decimal))):
            raise BadInput(f"expected a number, got {_describe(points)}", file=name, problem=pid,
                           field="points")
        assume = table.get("assume", {})
        if not isinstance(assume, dict) or not all(isinstance(v, str) for v in assume.values()):
            raise BadInput("expected a table of symbol = \"assumption\" strings", file=name,
                           problem=pid, field="assume")
        problem = Problem(
            id=pid, kind=kind, title=table.get("title", ""), statement=table.get("statement", ""),
            points=Decimal(points) if points is not None else None, assume=dict(assume),
            fields={k: v for k, v in table.items() if k not in COMMON_FIELDS}, file=name,
            label_points=label_points, vary=vary)
        from .assume import parse_assumption

        for sym, text in assume.items():
            try:
                parse_assumption(sym, text)
            except BadInput as exc:
                raise exc.located(file=name, problem=pid, field=f"assume.{sym}") from None
        try:
            spec = kind_module(kind).parse(problem)
        except BadInput as exc:
            raise exc.located(file=name, problem=pid) from None
        problems.append(_with_spec(problem, spec))
    return ProblemSet(name, meta, tuple(problems))


def _label_points(table: dict, name: str, pid: str) -> dict[str, Decimal]:
    """``[problem.points]``: answer label -> points (a non-negative number)."""
    out = {}
    for label, value in table.items():
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or value < 0:
            raise BadInput(f"expected a non-negative number of points, got {_describe(value)}",
                           file=name, problem=pid, field=f"points.{label}")
        out[label] = Decimal(value)
    if not out:
        raise BadInput("expected label = points entries", file=name, problem=pid, field="points")
    return out


def _with_spec(problem: Problem, spec: Any) -> Problem:
    from dataclasses import replace

    return replace(problem, spec=spec)
