"""symderiv: verified step-by-step derivations rendered as LaTeX answer keys.

Importing the package is cheap: SymPy is imported only by the modules that need it,
so ``symderiv --help`` starts fast.

The Python API (imported on first use): ``symderiv.derive(expr, var="x", limits=False)``,
``symderiv.solve_file(path)`` and ``symderiv.check(key, answers)`` return the objects the
command line uses; they display in Jupyter (see :mod:`symderiv.notebook`).
"""

__version__ = "0.1.0"

__all__ = ["derive", "solve_file", "check"]


def __getattr__(name):
    if name == "solve_file":
        from . import api

        return api.solve_file
    if name in ("derive", "check"):
        import importlib

        # the subpackages of these names are callable: symderiv.derive(...) is api.derive
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'symderiv' has no attribute {name!r}")
