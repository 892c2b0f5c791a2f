"""Random smooth convex problems on which gradient-descent claims are tested numerically."""

from __future__ import annotations

import math
import random


def quadratic(rng: random.Random, dim: int = 3):
    """f(θ) = ½ Σ aᵢ θᵢ² with aᵢ > 0: μ = min a, L = max a, θ* = 0, f* = 0."""
    a = [rng.uniform(0.05, 4) for _ in range(dim)]
    f = lambda th: 0.5 * sum(ai * t * t for ai, t in zip(a, th))  # noqa: E731
    grad = lambda th: [ai * t for ai, t in zip(a, th)]  # noqa: E731
    return f, grad, min(a), max(a), [0.0] * dim, 0.0


def run_gd(grad, theta, L, steps, eta=None):
    """θ⁰ … θ^steps of gradient descent with step ``eta`` (default 1/L)."""
    eta = 1 / L if eta is None else eta
    path = [list(theta)]
    for _ in range(steps):
        g = grad(path[-1])
        path.append([t - eta * gi for t, gi in zip(path[-1], g)])
    return path


def distance_sq(u, v):
    return sum((a - b) ** 2 for a, b in zip(u, v))


def logistic(rng: random.Random, n: int = 8):
    """The mean logistic loss of a random two-feature data set (convex; f > 0)."""
    data = [([rng.uniform(-2, 2) for _ in range(2)], rng.choice([-1, 1])) for _ in range(n)]
    L = sum(x[0] ** 2 + x[1] ** 2 for x, _ in data) / (4 * n)

    def f(th):
        return sum(math.log1p(math.exp(-y * (th[0] * x[0] + th[1] * x[1]))) for x, y in data) / n

    def grad(th):
        out = [0.0, 0.0]
        for x, y in data:
            s = -y / (1 + math.exp(y * (th[0] * x[0] + th[1] * x[1])))
            out[0] += s * x[0] / n
            out[1] += s * x[1] / n
        return out

    return f, grad, L
