"""Stage 1 of the reader: normalising a student's text (symderiv/check/normalise.py)."""

import pytest

from symderiv.check.normalise import Unreadable, normalise, split_top

NORMALISED = [
    (r"$$\hat{y} = 1.33$$", r"\hat{y} = 1.33"),
    (r"$$\frac{\partial L}{\partial \hat{y}} = \hat{y} - y = 1$$",
     r"\frac{\partial L}{\partial \hat{y}} = \hat{y} - y = 1"),
    (r"$$\lim_{x \rightarrow +\infty} \frac{d}{dx} \text{sigmoid}(x) = 0,$$",
     r"\lim_{x \to +\infty} \frac{d}{dx} \text{sigmoid}(x) = 0"),
    (r"\[ x^2 \]", "x^2"),
    (r"\( x^2 \)", "x^2"),
    (r"$x$.", "x"),
    (r"\boxed{1.33}", "1.33"),
    (r"\underline{\boxed{t = 7}}", "t = 7"),
    (r"1.33 \quad", "1.33"),
    (r"a\,b\;c\!d", "a b c d"),
    (r"\left( x \right)", "( x )"),
    (r"0 \lt \alpha \lt 2", r"0 < \alpha < 2"),
    (r"\alpha \gt 2", r"\alpha > 2"),
    (r"0, 50, 75, \dots", r"0, 50, 75, \ldots"),
    (r"x \implies y", r"x \Rightarrow y"),
    (r"x \Longrightarrow y", r"x \Rightarrow y"),
    (r"\mathrm{e}^{-x}", "e^{-x}"),
    (r"\operatorname{e}^{x}", "e^{x}"),
    (r"P(Y \le q \mid X = x)", r"P(Y \le q | X = x)"),
    (r"\dfrac{1}{2}", r"\frac{1}{2}"),
    ("ŷ − y", r"\hat{y} - y"),
    ("x → ∞", r"x \to \infty"),
    (r"x^\intercal", r"x^\top"),
    (r"1.33\text{.}", "1.33"),
]


@pytest.mark.parametrize("text, expected", NORMALISED)
def test_normalise(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize("text, message", [
    ("", "the answer is empty"),
    ("$$ $$", "the answer is empty"),
    ("x" * 601, "the answer is too long (601 characters; the limit is 600)"),
    ("1" * 61, "a number has more than 60 digits"),
    ("x \\", "a backslash ends the answer"),
    (r"\boxed{x", r"\boxed{…} is not closed"),
])
def test_normalise_refuses(text, message):
    with pytest.raises(Unreadable) as info:
        normalise(text)
    assert str(info.value) == message


@pytest.mark.parametrize("text, separators, pieces", [
    ("a = b = c", ("=",), [("a ", ""), (" b ", "="), (" c", "=")]),
    (r"\frac{a=b}{c} = d", ("=",), [(r"\frac{a=b}{c} ", ""), (" d", "=")]),
    (r"\{1, 2\}, 3", (",",), [(r"\{1, 2\}", ""), (" 3", ",")]),
    (r"a \le b", (r"\le",), [("a ", ""), (" b", r"\le")]),
    (r"\left(a, b\right)", (",",), [(r"\left(a, b\right)", "")]),
])
def test_split_top(text, separators, pieces):
    assert split_top(text, separators) == pieces
