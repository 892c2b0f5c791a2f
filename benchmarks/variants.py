"""Benchmark: a course's variants and a class graded in one command.

Run: ``python benchmarks/variants.py [--variants 25 50 100] [--grade 50 100 200] [--jobs 1 2]``.

1. ``symderiv variants problems/ama564_a1.toml --n N`` (keys and JSON keys, no PDF) for each N
   and each ``-j``;
2. ``symderiv grade`` of M generated submissions (one per student, each against the student's
   own variant: the 1(b) answers taken from that variant's key, the rest from the seed
   student's answers, some perturbed) for each M and each ``-j``.

Each run is a separate process; the table gives its wall-clock time and the CPU time of the
process and its workers, and a least-squares line ``seconds = a + b·N`` per command and ``-j``
(with R²), to show that the cost is linear in the number of variants and submissions.
Targets on a 2-core machine: 100 variants under 60 s and 200 submissions under 60 s with -j 2.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEY = ROOT / "problems" / "ama564_a1.toml"
SEED = ROOT / "problems" / "submissions" / "ama564_a1_student.toml"


def run(args: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (the child and its workers) of ``symderiv ARGS``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "symderiv.cli", *args], env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"symderiv {' '.join(args)} failed:\n{proc.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def fit(points: list[tuple[int, float]]) -> tuple[float, float, float]:
    """Least squares ``y = a + b x``; returns (a, b, R²)."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    b = sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0
    a = my - b * mx
    ss = sum((y - my) ** 2 for _, y in points)
    res = sum((y - a - b * x) ** 2 for x, y in points)
    return a, b, (1 - res / ss) if ss else 1.0


def decimal(e) -> str:
    """An exact rational as the decimals a student types (the keys' values terminate)."""
    from decimal import Decimal

    return format((Decimal(int(e.p)) / Decimal(int(e.q))).normalize(), "f")


def typed_answer(sympy_text: str, latex: bool) -> str:
    """The key's value as a student writes it: LaTeX (a pmatrix of fractions) or plain math
    typed into a form (``[[0.39, -1.17]]``)."""
    import sympy as sp

    value = sp.parse_expr(sympy_text)
    if latex:
        if isinstance(value, sp.MatrixBase):
            rows = r" \\ ".join(" & ".join(sp.latex(e) for e in value.row(i))
                                for i in range(value.rows))
            return r"\begin{pmatrix} " + rows + r" \end{pmatrix}"
        return sp.latex(value)
    if isinstance(value, sp.MatrixBase):
        return "[" + ", ".join("[" + ", ".join(decimal(e) for e in value.row(i)) + "]"
                               for i in range(value.rows)) + "]"
    return decimal(value)


def make_class(variants_dir: Path, out: Path, count: int, latex_share: int = 4) -> None:
    """``count`` submissions of 24 answers each, one per variant, some perturbed: 1(a), 2 and 3
    as the seed student wrote them (LaTeX); 1(b) in LaTeX for one student in ``latex_share``,
    typed as plain math by the others."""
    import sympy as sp

    seed = tomllib.loads(SEED.read_text())["answers"]
    fixed = {k: v for k, v in seed.items() if not k.startswith("1b/")}
    out.mkdir(parents=True, exist_ok=True)
    lock = json.loads((variants_dir / "variants.lock.json").read_text())
    for i, v in enumerate(lock["variants"][:count]):
        key = json.loads((variants_dir / v["id"] / "ama564_a1-key.json").read_text())
        net = next(p for p in key["problems"] if p["id"] == "1b")["answers"]
        answers = dict(fixed)
        for label in ["forward.z1", "forward.h1", "forward.z2", "forward.yhat",
                      "backward.dL/dyhat", "backward.dL/dh1", "backward.dL/dz1", "grad.W2",
                      "grad.b2", "grad.W1", "grad.b1", "forward.loss"]:
            answers[f"1b/{label}"] = typed_answer(net[label]["sympy"], i % latex_share == 0)
        if i % 5 == 1:   # the output off by one
            answers["1b/forward.yhat"] = sp.latex(sp.parse_expr(net["forward.yhat"]["sympy"]) + 1)
        if i % 7 == 2:   # a gradient left out
            del answers["1b/grad.W1"]
        if i % 11 == 3:  # an answer that cannot be read
            answers["1b/grad.b1"] = r"\frac{1}{"
        body = "\n".join(f"{json.dumps(k)} = {json.dumps(a)}" for k, a in answers.items())
        (out / f"{v['id']}.toml").write_text(f'[meta]\nstudent = "{v["id"]}"\n\n[answers]\n{body}\n')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, nargs="*", default=[25, 50, 100])
    parser.add_argument("--grade", type=int, nargs="*", default=[50, 100, 200])
    parser.add_argument("--jobs", type=int, nargs="*", default=[1, 2])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="symderiv-bench-") as tmp:
        tmp = Path(tmp)
        for j in args.jobs:
            for n in args.variants:
                wall, cpu = run(["variants", str(KEY), "--n", str(n), "-o", str(tmp / f"v{n}-{j}"),
                                 "-j", str(j)])
                rows.append(("variants", j, n, wall, cpu))
                print(f"variants  -j {j}  N = {n:4d}  {wall:7.1f} s wall  {cpu:7.1f} s CPU",
                      flush=True)
        if args.grade:
            most = max(args.grade)
            vdir = tmp / "class-variants"
            run(["variants", str(KEY), "--n", str(most), "-o", str(vdir), "-j", str(max(args.jobs))])
            ids = json.loads((vdir / "variants.lock.json").read_text())["variants"]
            for m in args.grade:
                make_class(vdir, tmp / f"class{m}", m)
            sample = tomllib.loads(next((tmp / f"class{most}").iterdir()).read_text())
            print(f"(the class: {len(ids)} variants, about {len(sample['answers'])} answers "
                  "per submission)", flush=True)
            for j in args.jobs:
                for m in args.grade:
                    wall, cpu = run(["grade", str(KEY), str(tmp / f"class{m}"), "--lock",
                                     str(vdir / "variants.lock.json"), "-o",
                                     str(tmp / f"g{m}-{j}"), "-j", str(j)])
                    rows.append(("grade", j, m, wall, cpu))
                    print(f"grade     -j {j}  M = {m:4d}  {wall:7.1f} s wall  {cpu:7.1f} s CPU",
                          flush=True)
    print("\nlinear fit, seconds = a + b·N (wall clock):")
    for command in ("variants", "grade"):
        for j in args.jobs:
            pts = [(n, wall) for c, jj, n, wall, _ in rows if c == command and jj == j]
            if len(pts) >= 2:
                a, b, r2 = fit(pts)
                cpts = [(n, cpu) for c, jj, n, _, cpu in rows if c == command and jj == j]
                ca, cb, cr2 = fit(cpts)
                print(f"  {command:<8} -j {j}: wall {a:6.2f} + {b:.3f}·N (R² {r2:.3f});  "
                      f"CPU {ca:6.2f} + {cb:.3f}·N (R² {cr2:.3f})")


if __name__ == "__main__":
    main()
