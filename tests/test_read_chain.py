"""Chains of relations graded against the seed keys (symderiv/check/chain.py):
(label, answer, verdict, feedback); every right answer has its wrong neighbour."""

import pytest

from .read_keys import judge, said

CHAINS = [
    # the last member is graded
    ("1b/forward.yhat", r"\hat{y} = 1.33", "correct", ""),
    ("1b/forward.yhat", r"\hat{y} = 1.34", "incorrect",
     "close, but off by 0.75% (decimals are accepted within the tolerance)"),
    ("1b/forward.yhat", r"$$\boxed{\hat{y} = 1.33}.$$", "correct", ""),
    ("1b/forward.yhat", r"\approx 1.33", "correct", ""),
    ("1b/forward.yhat", r"\approx 1.34", "incorrect",
     "close, but off by 0.75% (decimals are accepted within the tolerance)"),
    ("1b/forward.yhat", "yhat = 1.33", "correct", ""),
    ("1b/forward.yhat", r"1.33 = \hat{y}", "correct", ""),
    # a name the statement gives a value is not the value itself
    ("1b/forward.yhat", r"\hat{y}", "incorrect",
     "this only names ŷ; the question asks for its value"),
    ("1b/forward.yhat", r"f(x; \theta) = \hat{y}", "incorrect",
     "this only names ŷ; the question asks for its value"),
    ("Q3/gradient", "z", "incorrect", "this only names z; the question asks for its value"),
    ("1b/forward.yhat", "yhat = 1.43", "incorrect", "the key's answer is 133/100"),
    ("Q4/steps_to_tolerance[alpha=0.5]", "t = 7", "correct", ""),
    ("Q4/steps_to_tolerance[alpha=0.5]", "t = 8", "incorrect", "the key's answer is 7"),
    ("1a/sigmoid.limit(+oo)",
     r"$$\lim_{x \rightarrow +\infty} \frac{d}{dx} \text{sigmoid}(x) = 0,$$", "correct", ""),
    ("1a/sigmoid.limit(+oo)", r"\to 0", "correct", ""),
    ("1a/sigmoid.limit(+oo)", r"\sigma(x)(1 - \sigma(x)) \to 0", "correct", ""),
    ("1a/sigmoid.limit(+oo)", r"\sigma(x)(1 - \sigma(x)) \to \frac{1}{4}", "incorrect",
     "the key's answer is 0"),
    ("1b/grad.W1", r"\frac{\partial L}{\partial W^{(1)}} = \begin{pmatrix} 0 & 0 & 0 \\ "
     r"1.1 & 2.2 & 3.3 \end{pmatrix}", "correct", ""),
    ("1b/grad.W1", r"\frac{\partial L}{\partial W^{(1)}} = \begin{pmatrix} 0 & 0 & 0 \\ "
     r"1.1 & 2.2 & 3.2 \end{pmatrix}", "incorrect",
     "1 of 6 entry wrong: (2,3) should be 33/10, not 16/5"),
    ("Q2.2/gradient", r"\nabla_w L = (w^\top x - y) x", "correct", ""),
    ("Q2.1/gradient", r"\nabla_x f = (A + A^T)x + z", "correct", ""),
    ("Q2.1/gradient", r"\nabla_x f = 2Ax + z", "incorrect",
     "differs from the key's answer entry by entry at a concrete size"),
    # the left-hand side names the labelled quantity
    ("1a/leaky_relu.limit(+oo)", r"\lim_{x\to+\infty} f'(x) = 1", "correct", ""),
    ("1a/leaky_relu.limit(+oo)", r"\lim_{x\to-\infty} f'(x) = 1", "incorrect",
     "this answers another part: the left-hand side is the limit at −∞, but the question "
     "asks for the limit of the derivative of Leaky ReLU at +∞"),
    ("1a/sigmoid.limit(-oo)", r"\lim_{x\to+\infty} \sigma'(x) = 0", "correct",
     "the left-hand side names the limit at +∞; the question asks for the limit of the "
     "derivative of sigmoid at −∞ (the two are equal here)"),
    ("1a/tanh.derivative", r"\frac{d}{dx}\tanh(x) = 1 - \tanh^2(x)", "correct", ""),
    ("1a/tanh.derivative", r"\frac{d}{dx}\text{sigmoid}(x) = 1 - \tanh^2(x)", "incorrect",
     "this answers another part: the left-hand side is the derivative of sigmoid, but the "
     "question asks for the derivative of tanh"),
    ("1a/tanh.derivative", r"\sigma'(x) = 1 - \tanh^2(x)", "correct", ""),  # σ: any activation
    ("1b/forward.yhat", r"z^{(2)} = 1.33", "correct",
     "the left-hand side names z₂; the question asks for ŷ (the two are equal here)"),
    ("Q2.2/gradient", r"\nabla_x L = (w^\top x - y) x", "correct",
     "the left-hand side names the derivative in x, but the question asks for ∂L/∂w"),
    # a left-hand side naming another part of the key, of another kind
    ("1b/backward.dL/dyhat", r"\hat{y} = 1", "incorrect",
     "this answers another part: the left-hand side is ŷ, but the question asks for ∂L/∂ŷ"),
    ("1b/forward.yhat", r"\frac{\partial L}{\partial \hat y} = 1.33", "incorrect",
     "this answers another part: the left-hand side is ∂L/∂ŷ, but the question asks for ŷ"),
    ("1a/sigmoid.limit(+oo)", r"\sigma'(x) = \sigma(x)(1 - \sigma(x)) \to 0", "correct", ""),
    # every middle member that can be evaluated must be equal
    ("1a/sigmoid.derivative",
     r"\sigma'(x) = \frac{e^{-x}}{(1+e^{-x})^2} = \sigma(x)(1-\sigma(x))", "correct", ""),
    ("1a/sigmoid.derivative",
     r"\sigma'(x) = \frac{e^{-x}}{1+e^{-x}} = \sigma(x)(1-\sigma(x))", "incorrect",
     "the last value is right, but a middle step is not: exp(-x)/(1 + exp(-x)) is not equal "
     "to it (differs from the key at x = -2243/1000: the key gives 0.0867476, this gives "
     "0.904045)"),
    # an environment is one member: its conditions' = and \le are not relations of the chain
    ("1a/leaky_relu.derivative", r"\begin{cases} 1 & x > 0 \\ a & x \le 0 \end{cases}",
     "correct", ""),
    ("1a/leaky_relu.derivative",
     r"f'(x) = \begin{cases} 1 & x > 0 \\ \frac{1+a}{2} & x = 0 \\ a & x < 0 \end{cases}",
     "correct", ""),
    ("1a/leaky_relu.derivative", r"\begin{cases} 1 & x > 0 \\ 0 & x \le 0 \end{cases}",
     "incorrect", "right where x > 0, but not where x < 0: there the key's answer is a, not 0"),
    # a bound: what precedes the last \le is not equal to the answer, and is not checked
    ("3/conclusion", r"\min_{1 \le k \le T} \|\nabla f(\theta^k)\|^2 \le "
     r"\frac{2L(f(\theta^0) - \bar f)}{T}", "correct", ""),
    ("3/conclusion", r"\min_{1 \le k \le T} \|\nabla f(\theta^k)\|^2 \le "
     r"\frac{L(f(\theta^0) - \bar f)}{T}", "incorrect",
     "off by a constant factor: this is 1/2 times the key's answer"),
    # only the last \Rightarrow's conclusion is graded for sets and equations
    ("Q4/converges", r"|1-\alpha| < 1 \Rightarrow 0 < \alpha < 2", "correct", ""),
    ("Q4/converges", r"|1-\alpha| < 1 \Rightarrow 0 < \alpha < 1", "incorrect",
     "the key's set is (0, 2); alpha = 3/2 satisfies the key's but not yours"),
    ("2/conclusion", r"\Rightarrow F(q) = \tau", "correct", ""),
    # A = B ⇒ C = D (seed 004's 2(c)): the definition before ⇒ is a premise, not a member equal
    # to the answer; the chain after it is graded, its middle steps included
    ("1a/tanh.derivative", r"\tanh(x) = \frac{e^x - e^{-x}}{e^x + e^{-x}} \Rightarrow "
     r"\tanh'(x) = 1 - \tanh^2(x)", "correct", ""),
    ("1a/tanh.derivative", r"\tanh(x) = \frac{e^x - e^{-x}}{e^x + e^{-x}} \Rightarrow "
     r"\tanh'(x) = 1 + \tanh^2(x)", "incorrect",
     "sign error in one term: the key's answer has 1 - tanh(x)^2 where this has tanh(x)^2 + 1"),
    ("1a/tanh.derivative", r"\tanh(x) = \frac{e^x - e^{-x}}{e^x + e^{-x}} \Rightarrow "
     r"\tanh'(x) = 2 - \tanh^2(x) = 1 - \tanh^2(x)", "incorrect",
     "the last value is right, but a middle step is not: 2 - tanh(x)^2 is not equal to it "
     "(off by a constant: this is the key's answer plus 1)"),
]


@pytest.mark.parametrize("label, text, verdict, feedback", CHAINS)
def test_chains(label, text, verdict, feedback):
    outcome = judge(label, text)
    assert (outcome.verdict, said(outcome)) == (verdict, feedback)
