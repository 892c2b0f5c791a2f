"""The engine: each problem kind is one module exposing ``solve(problem, ctx) -> Solution``."""


class _CallableModule(__import__("types").ModuleType):
    """``symderiv.derive(expr, var=..., limits=...)`` is the Python API's
    :func:`symderiv.api.derive`: the package and the function share the name."""

    def __call__(self, expr, var="x", limits=False, **options):
        from ..api import derive as api_derive

        return api_derive(expr, var=var, limits=limits, **options)


__import__("sys").modules[__name__].__class__ = _CallableModule
