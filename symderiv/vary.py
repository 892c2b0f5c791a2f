"""Per-student variants of a problem: ``[problem.vary]``, draws from a hash, ``require``.

A problem may vary any number in it. ``[problem.vary]`` maps a *parameter* to a draw:

- a field path of the problem (``x``, ``y``, ``params.W1``, ``constants.a``, ``alphas[1]``):
  the number, list or matrix there is replaced by the drawn value (of the same shape);
- any other name, with a ``base`` value: used through ``{{name}}`` placeholders in the
  problem's strings (an expression ``"x*sigmoid({{beta}}*x)"``).

Placeholders ``{{path}}`` in the statement show the value as the question writes it
(a number, a column ``bmatrix`` for a vector, a ``bmatrix`` for a matrix; ``{{x|tuple}}`` gives
``(1, 2, 3)``); the file's own values fill them when the file is rendered as it is.

Draws are a hash (SHA-256) of (salt, variant id, problem id, parameter, entry, try) mapped onto
the parameter's grid (``range = [lo, hi]`` with ``step``, or ``choices``; ``nonzero`` leaves 0
out): the same salt and ids give the same numbers on every machine and Python version.
``require`` constraints are relations in the safe parser's syntax (never ``eval``), evaluated
on the solved and verified key, entry by entry for vectors and matrices.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sympy as sp

from .errors import BadInput

RESERVED = {"require", "max_tries"}
ENTRY_FIELDS = {"range", "step", "choices", "nonzero", "shape", "base"}
DEFAULT_MAX_TRIES = 100
MAX_GRID = 1_000_000
MAX_ENTRIES = 4096
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.\[\]]*)\s*(?:\|\s*([a-z]+)\s*)?\}\}")
PATH_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$")


@dataclass(frozen=True)
class Param:
    """One varied parameter: its name (a field path or a placeholder name), grid and shape."""

    name: str
    grid: tuple            # the values an entry may take (int or Decimal), in order
    shape: tuple[int, ...]  # () for a number, (n,) for a list, (m, n) for a matrix
    in_table: bool          # the name is a field path of the problem


@dataclass(frozen=True)
class Vary:
    params: tuple[Param, ...]
    require: tuple[str, ...]
    max_tries: int

    def names(self) -> list[str]:
        return [p.name for p in self.params]


# ---------------------------------------------------------------------------------------------
# field paths


def _split_path(path: str) -> list:
    """``params.W1`` → ["params", "W1"]; ``alphas[1]`` → ["alphas", 1]."""
    steps: list = []
    for part in path.split("."):
        m = PATH_PART.fullmatch(part)
        if not m:
            raise ValueError(path)
        steps.append(m.group(1))
        steps.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return steps


_MISSING = object()


def get_path(table: dict, path: str) -> Any:
    node: Any = table
    for step in _split_path(path):
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return _MISSING
        elif not isinstance(node, dict) or step not in node:
            return _MISSING
        node = node[step]
    return node


def set_path(table: dict, path: str, value: Any) -> None:
    steps = _split_path(path)
    node: Any = table
    for step in steps[:-1]:
        node = node[step]
    node[steps[-1]] = value


def _is_number(v) -> bool:
    return isinstance(v, (int, Decimal)) and not isinstance(v, bool)


def shape_of(value) -> tuple[int, ...] | None:
    """() for a number, (n,) for a list of numbers, (m, n) for a rectangular matrix."""
    if _is_number(value):
        return ()
    if isinstance(value, list) and value:
        if all(_is_number(v) for v in value):
            return (len(value),)
        if all(isinstance(r, list) and r and all(_is_number(v) for v in r) for r in value):
            widths = {len(r) for r in value}
            if len(widths) == 1:
                return (len(value), widths.pop())
    return None


# ---------------------------------------------------------------------------------------------
# reading [problem.vary]


def parse_vary(table: dict, file: str, pid: str) -> Vary:
    """Validate ``[problem.vary]`` of one problem table (raw TOML) into a :class:`Vary`."""
    raw = table.get("vary")

    def bad(field, message):
        return BadInput(message, file=file, problem=pid, field=field)

    if not isinstance(raw, dict):
        raise bad("vary", "expected a table of parameter = { range = [lo, hi], step = … }")
    params = []
    for name, entry in raw.items():
        if name in RESERVED:
            continue
        where = f"vary.{name}"
        try:
            _split_path(name)
        except ValueError:
            raise bad(where, "a parameter is a field path (x, params.W1, alphas[0]) or a name "
                      "(letters, digits, _)") from None
        if not isinstance(entry, dict):
            raise bad(where, "expected a table such as { range = [-1, 1], step = 0.1 }")
        unknown = sorted(set(entry) - ENTRY_FIELDS)
        if unknown:
            raise bad(f"{where}.{unknown[0]}",
                      f"unknown field (allowed: {', '.join(sorted(ENTRY_FIELDS))})")
        current = get_path(table, name)
        in_table = current is not _MISSING
        if in_table:
            shape = shape_of(current)
            if shape is None:
                raise bad(where, "the field is not a number, a list of numbers or a matrix, so "
                          "it cannot be drawn")
            if "base" in entry:
                raise bad(f"{where}.base", "the field's own value is the base value; base is "
                          "for a name used only in {{placeholders}}")
        else:
            if "base" not in entry:
                raise bad(where, "no such field in the problem; a name used only in "
                          "{{placeholders}} needs base = its value in the file")
            shape = shape_of(entry["base"])
            if shape is None:
                raise bad(f"{where}.base", "expected a number, a list of numbers or a matrix")
        if "shape" in entry:
            given = entry["shape"]
            if (not isinstance(given, list) or len(given) > 2
                    or not all(isinstance(n, int) and not isinstance(n, bool) and 0 < n <= 64
                               for n in given)):
                raise bad(f"{where}.shape", "expected [] (a number), [n] or [m, n] with sizes "
                          "1 to 64")
            if tuple(given) != shape:
                raise bad(f"{where}.shape", f"the value in the file has shape {list(shape)}, "
                          f"not {given}")
        grid = _grid(entry, lambda f, m: bad(f"{where}.{f}" if f else where, m))
        params.append(Param(name, grid, shape, in_table))
    if not params:
        raise bad("vary", "no parameter to draw")
    require = raw.get("require", [])
    if not isinstance(require, list) or not all(isinstance(r, str) and r.strip() for r in require):
        raise bad("vary.require", "expected a list of constraints such as \"abs(forward.loss) < 10\"")
    for i, text in enumerate(require):
        try:
            _split_relation(text)
        except BadInput as exc:
            raise bad(f"vary.require[{i}]", exc.message) from None
    tries = raw.get("max_tries", DEFAULT_MAX_TRIES)
    if not isinstance(tries, int) or isinstance(tries, bool) or not 1 <= tries <= 10_000:
        raise bad("vary.max_tries", "expected an integer from 1 to 10000")
    return Vary(tuple(params), tuple(r.strip() for r in require), tries)


def _grid(entry: dict, bad) -> tuple:
    nonzero = entry.get("nonzero", False)
    if not isinstance(nonzero, bool):
        raise bad("nonzero", "expected true or false")
    if "choices" in entry:
        if "range" in entry or "step" in entry:
            raise bad("choices", "give either choices or range (with step), not both")
        choices = entry["choices"]
        if not isinstance(choices, list) or not choices or not all(_is_number(c) for c in choices):
            raise bad("choices", "expected a non-empty list of numbers")
        values = list(dict.fromkeys(_clean(c) for c in choices))
    elif "range" in entry:
        rng = entry["range"]
        if not isinstance(rng, list) or len(rng) != 2 or not all(_is_number(v) for v in rng):
            raise bad("range", "expected [lo, hi] with two numbers")
        lo, hi = (Decimal(v) for v in rng)
        if lo > hi:
            raise bad("range", f"lo = {lo} is larger than hi = {hi}")
        step = entry.get("step")
        if step is None:
            exponent = min(lo.as_tuple().exponent, hi.as_tuple().exponent, 0)
            step = Decimal(1).scaleb(exponent)
        elif not _is_number(step) or step <= 0:
            raise bad("step", "expected a positive number")
        step = Decimal(step)
        count = int((hi - lo) / step) + 1
        if count > MAX_GRID:
            raise bad("step", f"the grid has {count} points (the limit is {MAX_GRID}); use a "
                      "larger step")
        integral = all(isinstance(v, int) for v in rng) and isinstance(entry.get("step", 1), int)
        values = [_clean(lo + k * step, integral) for k in range(count)]
    else:
        raise bad("", "expected range = [lo, hi] (with step) or choices = [...]")
    if nonzero:
        values = [v for v in values if v != 0]
    if not values:
        raise bad("", "no value can be drawn (the grid is empty)")
    return tuple(values)


def _clean(v, integral: bool = False):
    if isinstance(v, int) or integral:
        return int(v)
    d = Decimal(v).normalize()
    return d if d != d.to_integral_value() else Decimal(int(d))


# ---------------------------------------------------------------------------------------------
# draws


def draw_index(salt: str, variant: str, pid: str, param: str, entry: int, attempt: int,
               size: int) -> int:
    """An index into a grid of ``size`` points: SHA-256 of the ids, reduced mod ``size``.
    The same on every machine and Python version (no ``random``)."""
    text = "\x1f".join(["symderiv-vary-1", salt, variant, pid, param, str(entry), str(attempt)])
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest, "big") % size


def draw(vary: Vary, salt: str, variant: str, pid: str, attempt: int) -> dict[str, Any]:
    """The drawn value of every parameter (numbers, lists, lists of rows) for one try."""
    values = {}
    for p in vary.params:
        count = 1
        for n in p.shape:
            count *= n
        flat = [p.grid[draw_index(salt, variant, pid, p.name, k, attempt, len(p.grid))]
                for k in range(count)]
        if p.shape == ():
            values[p.name] = flat[0]
        elif len(p.shape) == 1:
            values[p.name] = flat
        else:
            m, n = p.shape
            values[p.name] = [flat[i * n:(i + 1) * n] for i in range(m)]
    return values


def apply_values(table: dict, values: dict[str, Any]) -> dict:
    """A copy of a raw problem table with the drawn values in place (field paths set, a
    placeholder-only name's ``base`` replaced)."""
    out = copy.deepcopy(table)
    for name, value in values.items():
        if get_path(out, name) is not _MISSING:
            set_path(out, name, copy.deepcopy(value))
        else:
            out["vary"][name]["base"] = copy.deepcopy(value)
    return out


def current_values(table: dict, vary: Vary) -> dict[str, Any]:
    return {p.name: (get_path(table, p.name) if p.in_table else table["vary"][p.name]["base"])
            for p in vary.params}


# ---------------------------------------------------------------------------------------------
# placeholders


def number_text(v) -> str:
    if isinstance(v, Decimal):
        return format(v.normalize(), "f")
    return str(v)


def latex_value(value, style: str | None) -> str:
    if _is_number(value):
        return number_text(value)
    if style == "tuple":
        entries = value if _is_number(value[0]) else [v for row in value for v in row]
        return "(" + ", ".join(number_text(v) for v in entries) + ")"
    rows = [[v] for v in value] if _is_number(value[0]) else value
    if style == "row" and _is_number(value[0]):
        rows = [value]
    body = r" \\ ".join(" & ".join(number_text(v) for v in row) for row in rows)
    return r"\begin{bmatrix} " + body + r" \end{bmatrix}"


def substitute(table: dict, vary: Vary, file: str, pid: str) -> dict:
    """The problem table with every ``{{name}}`` placeholder filled with the current values:
    LaTeX in the statement and title, plain numbers in parentheses in other strings
    (expressions). ``vary`` is removed from the result."""
    values = current_values(table, vary)

    def fill(text: str, field: str, latex: bool) -> str:
        def one(m):
            name, style = m.group(1), m.group(2)
            if name not in values:
                raise BadInput(f"{{{{{name}}}}} names no parameter of [problem.vary] "
                               f"(parameters: {', '.join(values)})", file=file, problem=pid,
                               field=field)
            if style not in (None, "tuple", "row"):
                raise BadInput(f"unknown format |{style} (use |tuple or |row)", file=file,
                               problem=pid, field=field)
            value = values[name]
            if latex:
                return latex_value(value, style)
            if not _is_number(value):
                raise BadInput(f"{{{{{name}}}}} is a list or matrix and cannot stand in an "
                               "expression", file=file, problem=pid, field=field)
            return f"({number_text(value)})"
        return PLACEHOLDER.sub(one, text)

    def walk(node, field):
        if isinstance(node, str):
            return fill(node, field, field in ("statement", "title"))
        if isinstance(node, dict):
            return {k: walk(v, f"{field}.{k}" if field else k) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, f"{field}[{i}]") for i, v in enumerate(node)]
        return node

    out = {k: walk(v, k) for k, v in table.items() if k != "vary"}
    statement = table.get("statement", "")
    if isinstance(statement, str) and statement.strip():
        shown = {m.group(1) for m in PLACEHOLDER.finditer(statement)}
        for p in vary.params:
            if p.in_table and p.name not in shown:
                raise BadInput(f"the statement does not show this drawn value: write "
                               f"{{{{{p.name}}}}} where it appears, so that each variant's "
                               "sheet shows its own numbers", file=file, problem=pid,
                               field=f"vary.{p.name}")
    return out


# ---------------------------------------------------------------------------------------------
# require: constraints on the solved key


RELATIONS = ("<=", ">=", "!=", "==", "<", ">")


class decimals(sp.Function):
    """The number of decimals of an exact number (oo when it does not terminate)."""

    @classmethod
    def eval(cls, x):
        if x.is_Rational:
            from .written import decimal_places

            places = decimal_places(x)
            return sp.Integer(places) if places is not None else sp.oo
        if x.is_number:
            return sp.oo
        return None


class _All(sp.Function):
    """max(v), min(v), sum(v) of one vector or matrix: over all its entries."""


class AllMax(_All):
    pass


class AllMin(_All):
    pass


class AllSum(_All):
    pass


def _split_relation(text: str) -> tuple[str, str, str]:
    depth = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0:
            for op in RELATIONS:
                if text.startswith(op, i):
                    lhs, rhs = text[:i], text[i + len(op):]
                    if not lhs.strip() or not rhs.strip() or any(
                            o in rhs for o in ("<", ">", "!=", "==")):
                        raise BadInput(f"expected one relation 'lhs OP rhs' with OP one of "
                                       f"{' '.join(RELATIONS)}, got {text!r}")
                    return lhs, op, rhs
        i += 1
    raise BadInput(f"expected a relation such as 'abs(forward.loss) < 10' (one of "
                   f"{' '.join(RELATIONS)}), got {text!r}")


def _flat(value) -> list:
    if isinstance(value, sp.MatrixBase):
        return list(value)
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            out.extend(_flat(v))
        return out
    if isinstance(value, (int, Decimal)):
        return [sp.Rational(str(value))]
    return [sp.sympify(value) if not isinstance(value, sp.Basic) else value]


class Constraint:
    """One ``require`` entry: ``lhs OP rhs`` over the key's labels (``forward.z1``), the drawn
    parameters (``params.W1``) and ``answers`` (every number of the problem's answers).
    A vector or matrix makes the relation hold entry by entry; ``max(v)``, ``min(v)`` and
    ``sum(v)`` of one argument run over its entries; ``decimals(v)`` counts decimals."""

    def __init__(self, text: str, names: list[str]):
        self.text = text
        lhs, self.op, rhs = _split_relation(text)
        # names with dots and slashes (forward.z1, backward.dL/dz1) become plain identifiers
        # before the safe parser sees the text: longest first, whole names only
        self.aliases: dict[str, str] = {}
        ordered = sorted(set(names) | {"answers"}, key=len, reverse=True)

        def rename(side: str) -> str:
            for name in ordered:
                alias = self.aliases.setdefault(name, f"v_{len(self.aliases)}_")
                side = re.sub(r"(?<![\w.])" + re.escape(name) + r"(?![\w.\[(])", alias, side)
            return side

        lhs, rhs = rename(lhs), rename(rhs)
        for side in (lhs, rhs):
            stray = re.search(r"[A-Za-z_]\w*(?:\.[A-Za-z_][\w/]*)+", side)
            if stray:
                raise BadInput(f"{text!r}: {stray.group(0)} is not a label of the key nor a "
                               f"drawn parameter (known: {', '.join(sorted(names))})")
        from .parse import ELEMENTARY, Namespace, parse_expression

        functions = dict(ELEMENTARY)
        for word, cls in (("max", AllMax), ("min", AllMin), ("sum", AllSum)):
            multi = ELEMENTARY.get(word)
            functions[word] = (lambda cls, multi: lambda *a: cls(a[0]) if len(a) == 1
                               else (multi(*a) if multi else cls(*a)))(cls, multi)
        functions["decimals"] = lambda *a: decimals(*a)
        ns = Namespace(functions=functions)
        self.sides = (parse_expression(lhs, ns), parse_expression(rhs, ns))
        self.by_alias = {alias: name for name, alias in self.aliases.items()}

    def holds(self, values: dict[str, Any]) -> bool:
        """True when the relation holds for every entry. ``values`` maps names to the key's
        values; raises BadInput when the relation cannot be decided (symbols left, unknown
        names)."""
        left = self._eval(self.sides[0], values)
        right = self._eval(self.sides[1], values)
        return all(self._compare(a, b) for a, b in _broadcast(left, right, self.text))

    def _compare(self, a, b) -> bool:
        rel = {"<": sp.Lt, "<=": sp.Le, ">": sp.Gt, ">=": sp.Ge, "==": sp.Eq, "!=": sp.Ne}[self.op]
        result = rel(a, b)
        if result not in (sp.true, sp.false):
            raise BadInput(f"{self.text!r} cannot be decided on the key ({a} {self.op} {b}): "
                           "a constraint needs numbers")
        return bool(result)

    def _eval(self, expr, values) -> list:
        if isinstance(expr, sp.Symbol):
            name = self.by_alias.get(expr.name)
            if name is None or name not in values:
                known = ", ".join(sorted(values))
                raise BadInput(f"{self.text!r}: {name or expr.name} is not a label of the key "
                               f"nor a drawn parameter (known: {known})")
            return _flat(values[name])
        if not expr.args or expr.is_Number or expr in (sp.pi, sp.E, sp.oo):
            return [expr]
        if isinstance(expr, _All):
            entries = self._eval(expr.args[0], values)
            if isinstance(expr, AllSum):
                return [sp.Add(*entries)]
            return [(sp.Max if isinstance(expr, AllMax) else sp.Min)(*entries)]
        parts = [self._eval(a, values) for a in expr.args]
        size = max(len(p) for p in parts)
        for p in parts:
            if len(p) not in (1, size):
                raise BadInput(f"{self.text!r}: the sizes do not match ({len(p)} and {size} "
                               "entries)")
        return [expr.func(*[p[0] if len(p) == 1 else p[k] for p in parts]) for k in range(size)]


def _broadcast(left: list, right: list, text: str):
    if len(left) == len(right):
        return zip(left, right)
    if len(left) == 1:
        return ((left[0], b) for b in right)
    if len(right) == 1:
        return ((a, right[0]) for a in left)
    raise BadInput(f"{text!r}: the two sides have {len(left)} and {len(right)} entries")


def key_values(solution, drawn: dict[str, Any]) -> dict[str, Any]:
    """The names a constraint may use for one solved problem: its answer labels, its drawn
    parameters, and ``answers`` (every number in its answers)."""
    values: dict[str, Any] = dict(drawn)
    everything = []
    for a in solution.answers:
        values[a.label] = a.value
        v = a.value
        if isinstance(v, (sp.MatrixBase, sp.Basic, list, tuple)):
            entries = [e for e in _flat(v) if isinstance(e, sp.Basic) and e.is_number]
            everything.extend(entries)
    values["answers"] = everything or [sp.Integer(0)]
    return values
