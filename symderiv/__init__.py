"""symderiv: verified step-by-step derivations rendered as LaTeX answer keys.

Importing the package is cheap: SymPy is imported only by the modules that need it,
so ``symderiv --help`` starts fast.
"""

__version__ = "0.1.0"
