"""The engine: each problem kind is one module exposing ``solve(problem, ctx) -> Solution``."""
