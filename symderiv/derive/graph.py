"""Kind ``graph``: the chain rule over a computation graph, as a sum over paths.

Nodes are given in evaluation order; any DAG is allowed (skip connections, shared
subexpressions). For each variable in ``wrt`` the solution lists the local derivative on
every edge, writes ∂out/∂v as the sum over all paths of the products along each path, and
simplifies it in the inputs and parameters alone. The path sum is checked against the direct
derivative of the fully substituted output, symbolically and at random points.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from decimal import Decimal

import sympy as sp

from .. import verify
from ..assume import Scope, parse_assumption
from ..errors import BadInput, VerificationFailed
from ..parse import Namespace, parse_expression
from ..errors import printable
from ..spec import Fields, Problem
from .branches import kink_arguments
from .derivative import _IDENT, namespace
from .network import Diagram
from .steps import Answer, Solution

FIELDS = {"inputs", "nodes", "output", "wrt", "values", "notation"}


@dataclass(frozen=True)
class GraphSpec:
    inputs: tuple[str, ...]
    nodes: tuple[tuple[str, str], ...]  # name, expression text, in evaluation order
    output: str
    wrt: tuple[str, ...]
    values: tuple[tuple[str, sp.Rational], ...] = ()
    notation: tuple[tuple[str, str], ...] = ()  # name -> the question's LaTeX for it


def parse(problem: Problem) -> GraphSpec:
    f = Fields(problem, FIELDS)
    inputs = f.string_list("inputs", required=True)
    for name in inputs:
        if not _IDENT.match(name):
            raise f.error("inputs", f"{printable(name)!r} is not a valid name (letters, digits, _)")
    nodes = f.get("nodes", dict, required=True, what="a table of node = \"expression\"")
    if not nodes:
        raise f.error("nodes", "the table is empty")
    for name, text in nodes.items():
        if not _IDENT.match(name):
            raise f.error(f"nodes.{name}", "not a valid node name")
        if not isinstance(text, str):
            raise f.error(f"nodes.{name}", "expected an expression string")
        if name in inputs:
            raise f.error(f"nodes.{name}", "is also an input")
    output = f.get("output", str, list(nodes)[-1])
    if output not in nodes:
        raise f.error("output", f"{output!r} is not a node")
    wrt = f.string_list("wrt", required=True)
    for name in wrt:
        if not _IDENT.match(name):
            raise f.error("wrt", f"{printable(name)!r} is not a valid name (letters, digits, _)")
    values = f.get("values", dict, {})
    vals = []
    for k, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, Decimal)):
            raise f.error(f"values.{k}", f"expected a number, got {v!r}")
        vals.append((k, sp.Rational(str(v))))
    notation = f.latex_table("notation")
    spec = GraphSpec(tuple(inputs), tuple(nodes.items()), output, tuple(wrt), tuple(vals),
                     tuple(notation.items()))
    exprs = _parse_nodes(problem, spec)  # every expression checked now, with its field
    leaves = set().union(*(e.free_symbols for e in exprs.values())) - set(exprs)
    names = {s.name for s in leaves} | set(inputs)
    for k in notation:
        if k not in names and k not in nodes:
            raise f.error(f"notation.{k}", "is not an input, a node or a parameter of the graph")
    for v in wrt:
        if v not in names:
            raise f.error("wrt", f"{v!r} is not an input or a parameter of the graph")
    for k, _ in vals:
        if k not in names:
            raise f.error(f"values.{k}", "is not an input or a parameter of the graph")
    return spec


def _scope(problem: Problem) -> Scope:
    return Scope({n: parse_assumption(n, t) for n, t in problem.assume.items()})


def _parse_nodes(problem: Problem, spec: GraphSpec) -> dict[sp.Symbol, sp.Expr]:
    scope = _scope(problem)
    later = {name for name, _ in spec.nodes}
    base = namespace(scope)
    known = {n: scope.symbol(n) for n in spec.inputs}
    exprs: dict[sp.Symbol, sp.Expr] = {}
    for name, text in spec.nodes:
        later.discard(name)

        def make(n, later=set(later), name=name):
            if n in later:
                raise BadInput(f"uses node {n!r} before it is defined (list nodes in evaluation order)")
            return scope.symbol(n)

        ns = Namespace(symbols={**base.symbols, **known}, functions=base.functions, make_symbol=make)
        try:
            expr = parse_expression(text, ns)
        except BadInput as exc:
            raise problem.error(f"nodes.{name}", exc.message) from None
        if isinstance(expr, sp.MatrixBase):
            raise problem.error(f"nodes.{name}", "a node must be a scalar expression")
        sym = scope.symbol(name)
        known[name] = sym
        exprs[sym] = expr
    return exprs


@dataclass(frozen=True)
class Edge:
    parent: sp.Symbol
    child: sp.Symbol
    local: sp.Expr


@dataclass(frozen=True)
class PathTerm:
    nodes: tuple[sp.Symbol, ...]
    factors: tuple[sp.Expr, ...]
    product: sp.Expr  # in the inputs and parameters


@dataclass(frozen=True)
class GraphResult:
    wrt: sp.Symbol
    paths: tuple[PathTerm, ...]
    total: sp.Expr       # sum over paths, in the inputs and parameters, simplified
    value: sp.Expr | None


@dataclass(frozen=True)
class Kink:
    """A node whose expression is at a kink at the given values (max(0, u) with u = 0)."""

    node: sp.Symbol
    expr: sp.Expr                                 # the node's expression
    where: sp.Expr                                # the kink's argument, = 0 at the values
    used: tuple[tuple[sp.Symbol, sp.Expr], ...]   # (parent, the local derivative's value used)


@dataclass(frozen=True)
class AdjointRow:
    """One row of the reverse-mode table: ∂out/∂v = Σ over the children c of v of
    (∂out/∂c, the upstream gradient) × (∂c/∂v, the local derivative), at the given values."""

    node: sp.Symbol
    terms: tuple[tuple[sp.Symbol, sp.Expr, sp.Expr], ...]   # (child c, upstream ∂out/∂c, local ∂c/∂v)
    value: sp.Expr


@dataclass(frozen=True)
class GraphSolution:
    spec: GraphSpec
    definitions: tuple[tuple[sp.Symbol, sp.Expr], ...]
    expanded: tuple[tuple[sp.Symbol, sp.Expr], ...]
    edges: tuple[Edge, ...]
    results: tuple[GraphResult, ...]
    values: tuple[tuple[sp.Symbol, sp.Expr], ...]
    diagram: Diagram
    graph_nodes: frozenset = frozenset()  # inputs and nodes: the drawn part of the graph
    names: tuple = ()                     # (symbol, LaTeX) in the question's notation
    output: sp.Basic = None               # the output node
    kinks: tuple[Kink, ...] = ()          # nodes at a kink at the given values
    adjoints: tuple[AdjointRow, ...] = ()  # the reverse-mode table, output first


def solve(problem: Problem) -> Solution:
    spec: GraphSpec = problem.spec
    scope = _scope(problem)
    exprs = _parse_nodes(problem, spec)
    order = list(exprs)
    out = scope.symbol(spec.output)
    # expansions in inputs and parameters alone
    expanded: dict[sp.Symbol, sp.Expr] = {}
    for node in order:
        expanded[node] = exprs[node].xreplace(expanded)
    edges = []
    children: dict[sp.Symbol, list[Edge]] = {}
    for node in order:
        for parent in sorted(exprs[node].free_symbols, key=lambda s: s.name):
            e = Edge(parent, node, sp.diff(exprs[node], parent))
            edges.append(e)
            children.setdefault(parent, []).append(e)
    values = {scope.symbol(k): v for k, v in spec.values}
    results, answers = [], []
    for name in spec.wrt:
        var = scope.symbol(name)
        paths = []
        for chain in _paths(var, out, children):
            factors = tuple(e.local for e in chain)
            product = sp.Mul(*factors).xreplace(expanded)
            paths.append(PathTerm((var, *[e.child for e in chain]), factors, product))
        total = sp.Add(*[p.product for p in paths])
        direct = sp.diff(expanded[out], var)
        label = f"d{spec.output}/d{name}"
        _check(problem, label, total, direct, scope)
        tidy = _tidy(total)
        if tidy != total:
            _check(problem, label, tidy, direct, scope)
            total = tidy
        value = None
        if values and all(s in values for s in total.free_symbols):
            # Heaviside(0) = 0: at a kink the left derivative, as for networks
            value = at_kink_convention(total).xreplace(values)
            answers.append(Answer(f"{label}@values", value))
        results.append(GraphResult(var, tuple(paths), total, value))
        answers.append(Answer(label, total))
    # the output of every node in the inputs and parameters ("write the output of each
    # layer"): public labels forward.<node>, so that check can grade them; each is its
    # definition with the nodes before it substituted, nothing derived
    answers.extend(Answer(f"forward.{node.name}", expanded[node]) for node in order)
    node_values = ()
    if values:
        node_values = tuple((n, sp.simplify(expanded[n].xreplace(values))) for n in order
                            if all(s in values for s in expanded[n].free_symbols))
    names = latex_names(problem, spec, scope, exprs)
    kinks = _kinks_at(exprs, edges, values, node_values) if values else ()
    adjoints = ()
    leaves = {e.parent for e in edges} - set(exprs)
    if values and all(v in values for v in leaves):
        adjoints = reverse_mode(exprs, edges, out, values, node_values)
        _check_adjoints(problem, exprs, out, adjoints, values, node_values)
    body = GraphSolution(spec, tuple(exprs.items()), tuple(expanded.items()), tuple(edges),
                         tuple(results), node_values, _diagram(spec, exprs, scope, names),
                         frozenset([*(scope.symbol(n) for n in spec.inputs), *exprs]),
                         tuple(names.items()), out, kinks, adjoints)
    return Solution(problem, tuple(answers), body,
                    ("graph derivatives: path sums against the derivative of the composed output",))


def at_kink_convention(e: sp.Expr) -> sp.Expr:
    """The derivative's value where it does not exist: Heaviside(0) = 0, so max(0, u)′ at u = 0
    is 0 (the left derivative, a subgradient), as for networks; sign(0) = 0 for |u|."""
    return e.replace(lambda a: isinstance(a, sp.Heaviside), lambda a: sp.Heaviside(a.args[0], 0))


def _kinks_at(exprs: dict, edges: list, values: dict, node_values) -> tuple[Kink, ...]:
    """Every node whose own expression is at a kink at the given values, with the value each
    of its local derivatives takes there under :func:`at_kink_convention`."""
    at = dict(values)
    at.update(dict(node_values))
    found = []
    for node, expr in exprs.items():
        if not all(s in at for s in expr.free_symbols):
            continue
        for arg in kink_arguments(expr):
            if sp.simplify(arg.xreplace(at)) == 0:
                used = tuple((e.parent, sp.simplify(at_kink_convention(e.local).xreplace(at)))
                             for e in edges if e.child == node and e.local.has(sp.Heaviside, sp.sign, sp.Piecewise,
                                                                               sp.Abs, sp.Max, sp.Min))
                found.append(Kink(node, expr, arg, used))
                break
    return tuple(found)


def reverse_mode(exprs: dict, edges: list, out: sp.Symbol, values: dict, node_values) -> tuple[AdjointRow, ...]:
    """Back-propagation at the given values, as CS231n teaches it: start with ∂out/∂out = 1 and
    visit the nodes in reverse evaluation order, then the inputs and parameters; each receives
    upstream × local from every node that uses it, added up where paths meet."""
    at = dict(values)
    at.update(dict(node_values))
    order = list(exprs)
    leaves = []
    for e in edges:   # inputs and parameters in the order they are first used
        if e.parent not in exprs and e.parent not in leaves:
            leaves.append(e.parent)
    adjoint = {out: sp.Integer(1)}
    rows = [AdjointRow(out, (), sp.Integer(1))]
    for v in [n for n in reversed(order) if n != out] + leaves:
        terms = []
        for e in edges:
            if e.parent == v and e.child in adjoint:
                local = sp.simplify(at_kink_convention(e.local).xreplace(at))
                terms.append((e.child, adjoint[e.child], local))
        if not terms:
            continue   # not upstream of the output
        adjoint[v] = sp.simplify(sp.Add(*[u * l for _, u, l in terms]))
        rows.append(AdjointRow(v, tuple(terms), adjoint[v]))
    return tuple(rows)


def _check_adjoints(problem: Problem, exprs: dict, out: sp.Symbol, rows, values: dict, node_values) -> None:
    """Each node's adjoint against sympy.diff of the output composed from that node onward:
    the nodes that depend on v written in v, every other quantity at its given value."""
    at = dict(values)
    at.update(dict(node_values))
    for row in rows:
        v = row.node
        var = sp.Dummy(v.name, real=True)
        shown = {v: var}
        for node, expr in exprs.items():
            if node == v:
                continue
            if expr.free_symbols & set(shown):
                shown[node] = expr.xreplace(shown)
        composed = shown.get(out, sp.Integer(0) if v != out else var).xreplace(
            {s: at[s] for s in at if s not in shown})
        truth = at_kink_convention(sp.diff(composed, var)).xreplace({var: at[v]})
        got, want = sp.N(row.value, 30), sp.N(truth, 30)
        if not (got.is_number and want.is_number) or abs(complex(got - want)) > 1e-20 * max(1, abs(complex(want))):
            raise VerificationFailed(problem.id, f"reverse-mode table, node {v.name}",
                                     f"upstream x local gives {got}, the derivative of the composed "
                                     f"output gives {want}")


def _paths(start: sp.Symbol, end: sp.Symbol, children: dict) -> list[list[Edge]]:
    found = []

    def walk(node, chain):
        if node == end:
            found.append(list(chain))
            return
        for e in children.get(node, []):
            walk(e.child, chain + [e])

    walk(start, [])
    return found


def _tidy(expr: sp.Expr) -> sp.Expr:
    """Collect common factors; 1[max(0, u) > 0] = 1[u > 0] and 1[u > 0]² = 1[u > 0]."""
    expr = expr.replace(lambda e: isinstance(e, sp.Heaviside) and isinstance(e.args[0], sp.Max)
                        and len(e.args[0].args) == 2 and 0 in e.args[0].args,
                        lambda e: sp.Heaviside([a for a in e.args[0].args if a != 0][0]))
    expr = expr.replace(lambda e: e.is_Pow and isinstance(e.base, sp.Heaviside) and e.exp.is_positive,
                        lambda e: e.base)
    candidates = [expr, sp.factor_terms(expr), sp.factor_terms(sp.expand(expr))]
    return min(candidates, key=sp.count_ops)


def _check(problem: Problem, label: str, total: sp.Expr, direct: sp.Expr, scope: Scope) -> None:
    if not verify.zero_branchwise(total - direct, scope):
        raise VerificationFailed(problem.id, label, "the sum over paths differs from the direct derivative")
    rng = random.Random(f"{problem.id}/{label}")
    names = sorted(total.free_symbols | direct.free_symbols, key=lambda s: s.name)
    for _ in range(6):
        at = {s: scope.domain_of(s).sample(rng) + sp.Rational(1, 997) for s in names}
        a, b = sp.N(total.xreplace(at), 30), sp.N(direct.xreplace(at), 30)
        if abs(complex(a - b)) > 1e-20 * max(1, abs(complex(a))):
            raise VerificationFailed(problem.id, label, f"paths give {a}, direct gives {b}")


def latex_names(problem: Problem, spec: GraphSpec, scope: Scope, exprs: dict) -> dict:
    """Every symbol of the graph with the question's LaTeX for it: the ``notation`` table
    first; else, when the statement writes the name with a subscript (``y_p`` or ``y_{p}`` for
    the node ``yp``), that; else the printer's default (``a1`` → a₁, ``w11`` → w₁₁)."""
    given = dict(spec.notation)
    symbols = set(exprs) | {scope.symbol(n) for n in spec.inputs}
    for e in exprs.values():
        symbols |= e.free_symbols
    out = {}
    for sym in symbols:
        name = sym.name
        if name in given:
            out[sym] = given[name]
            continue
        m = re.fullmatch(r"([A-Za-z])([A-Za-z][A-Za-z0-9]*)", name)
        if m and _statement_writes(problem.statement, *m.groups()):
            out[sym] = f"{m.group(1)}_{{{m.group(2)}}}"
    return out


def _statement_writes(statement: str, base: str, sub: str) -> bool:
    """Does the statement write ``base_{sub}`` (or ``base_sub`` for a one-letter sub)?"""
    forms = [re.escape(f"{base}_{{{sub}}}")] + ([re.escape(f"{base}_{sub}")] if len(sub) == 1 else [])
    return re.search(r"(?<![A-Za-z\\])(?:" + "|".join(forms) + r")(?![A-Za-z0-9])", statement) is not None


NODE_RADIUS = 0.45   # cm: the drawn circles are 9 mm across
X_STEP, Y_UNIT = 2.4, 1.15
BENDS = (0, 25, -25, 40, -40, 55, -55, 70, -70, 85, -85)


def _layers(spec: GraphSpec, exprs: dict, scope: Scope) -> dict:
    """Columns: inputs in the first; every node as late as its children allow and no earlier
    than one column right of its deepest parent, so that a node feeding a far node sits
    beside the other inputs of that node (a₁, a₂, a₃ all just left of a₄)."""
    inputs = [scope.symbol(n) for n in spec.inputs]
    depth: dict[sp.Symbol, int] = {s: 0 for s in inputs}
    for node, expr in exprs.items():
        parents = [p for p in expr.free_symbols if p in depth]
        depth[node] = 1 + max((depth[p] for p in parents), default=0)
    children: dict[sp.Symbol, list[sp.Symbol]] = {}
    for node, expr in exprs.items():
        for p in expr.free_symbols:
            if p in depth:
                children.setdefault(p, []).append(node)
    for node in reversed(list(exprs)):
        if children.get(node):
            depth[node] = max(depth[node], min(depth[c] for c in children[node]) - 1)
    return depth


def _bezier(p0, p3, bend):
    """Points along TikZ's ``bend left=bend`` curve from p0 to p3 (right when negative)."""
    dx, dy = p3[0] - p0[0], p3[1] - p0[1]
    d = math.hypot(dx, dy)
    a = math.atan2(dy, dx)
    r = 0.3915 * d  # TikZ's control distance for looseness 1
    out, inn = a + math.radians(bend), a + math.pi - math.radians(bend)
    p1 = (p0[0] + r * math.cos(out), p0[1] + r * math.sin(out))
    p2 = (p3[0] + r * math.cos(inn), p3[1] + r * math.sin(inn))
    pts = []
    for i in range(41):
        t = i / 40
        u = 1 - t
        pts.append((u ** 3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t ** 3 * p3[0],
                    u ** 3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t ** 3 * p3[1]))
    return pts


def edge_clearance(p0, p3, bend, others) -> float:
    """The least distance (cm) from the drawn edge to the centre of any other node."""
    pts = _bezier(p0, p3, bend)
    return min((math.hypot(px - ox, py - oy) for px, py in pts for ox, oy in others), default=math.inf)


def _diagram(spec: GraphSpec, exprs: dict, scope: Scope, names: dict | None = None) -> Diagram:
    """A layered drawing: columns from :func:`_layers`, each column ordered by the mean height
    of its parents, and an edge bent just enough that it passes no other node."""
    from ..render import tex
    names = names or {}
    depth = _layers(spec, exprs, scope)
    columns: dict[int, list[sp.Symbol]] = {}
    for sym, d in depth.items():
        columns.setdefault(d, []).append(sym)
    parents = {node: [p for p in sorted(expr.free_symbols, key=lambda s: s.name) if p in depth]
               for node, expr in exprs.items()}
    ypos: dict[sp.Symbol, float] = {}
    for d in sorted(columns):
        syms = columns[d]
        if d > 0:
            order = {s: i for i, s in enumerate(syms)}
            syms.sort(key=lambda s: (-sum(ypos[p] for p in parents.get(s, [])) / max(len(parents.get(s, [])), 1),
                                     order[s]))
        for i, sym in enumerate(syms):
            ypos[sym] = (len(syms) - 1) / 2 - i
    place = {sym: (X_STEP * depth[sym], ypos[sym]) for sym in depth}
    nodes = [(f"g{sym.name}", x, y, tex(sym, names)) for sym, (x, y) in
             sorted(place.items(), key=lambda kv: (kv[1][0], -kv[1][1]))]
    edges = []
    for node, expr in exprs.items():
        for p in parents[node]:
            a, b = place[p], place[node]
            a_cm, b_cm = (a[0], a[1] * Y_UNIT), (b[0], b[1] * Y_UNIT)
            others = [(x, y * Y_UNIT) for s, (x, y) in place.items() if s not in (p, node)]
            room = {t: edge_clearance(a_cm, b_cm, t, others) for t in BENDS}
            bend = max(BENDS, key=lambda t: (room[t] > NODE_RADIUS + 0.15,
                                             -abs(t) if room[t] > NODE_RADIUS + 0.15 else room[t]))
            edges.append((f"g{p.name}", f"g{node.name}", "", bend))
    return Diagram(tuple(nodes), tuple(edges))


def sheet_figure(problem: Problem) -> Diagram:
    """The computation graph the statement refers to, from the parsed spec alone (no solving)."""
    spec: GraphSpec = problem.spec
    scope = _scope(problem)
    exprs = _parse_nodes(problem, spec)
    return _diagram(spec, exprs, scope, latex_names(problem, spec, scope, exprs))
