"""Contexts of the seed keys, solved once per test process (shared by tests/test_read_*.py)."""

from dataclasses import replace
from functools import lru_cache

from symderiv.check.compare import DECIMAL_RTOL, compare
from symderiv.check.context import build_context
from symderiv.check.report import feedback_text
from symderiv.solve import solve_set
from symderiv.spec import load

from .conftest import ROOT


@lru_cache(maxsize=None)
def _problem_set(name: str):
    return load(ROOT / "problems" / f"{name}.toml")


@lru_cache(maxsize=None)
def context(name: str, pid: str):
    """The context of one part, with only that part solved (a test of one graph answer does
    not train the file's networks); solve_set's own cache shares it with whole-file solves."""
    ps = _problem_set(name)
    (sol,) = solve_set(replace(ps, problems=tuple(p for p in ps.problems if p.id == pid)))
    return build_context(sol.problem, sol)


def contexts(name: str) -> dict:
    return {p.id: context(name, p.id) for p in _problem_set(name).problems}


KEY_OF = {"1a": "ama564_a1", "1b": "ama564_a1", "2": "ama564_a1", "3": "ama564_a1",
          "Q1": "nndl_hw1", "Q2.1": "nndl_hw1", "Q2.2": "nndl_hw1", "Q2.3": "nndl_hw1",
          "Q3": "nndl_hw1", "Q4": "nndl_hw1"}


def judge(full_label: str, text: str, rtol: float = DECIMAL_RTOL, key: str | None = None):
    pid, label = full_label.split("/", 1)
    ctx = context(key or KEY_OF[pid], pid)
    return compare(ctx, label, ctx.answers[label], text, rtol)


def said(outcome) -> str:
    return feedback_text(outcome.feedback)
