"""Every label of the AMA564 key (seed 001) and the NNDL key, answered the ways students write:
plain, LaTeX, Mathpix-style $$…$$ lines, with a left-hand side, with the statement's names;
each label also has typical wrong answers. (label, answer, verdict)."""

import pytest

from .read_keys import judge

RIGHT = {
    "1a/sigmoid.derivative": [
        r"$$\frac{d}{dx}\sigma(x) = \sigma(x)(1-\sigma(x))$$",
        r"\sigma'(x)=\frac{e^{-x}}{\left(1+e^{-x}\right)^{2}}",
        r"f'(x) = \frac{1}{1+e^{-x}}\cdot\frac{e^{-x}}{1+e^{-x}}",
        "sigmoid(x)(1-sigmoid(x))",
        r"\frac{\mathrm{d}}{\mathrm{d}x} \sigma(x) = \sigma(x)\,(1-\sigma(x))",
        r"\frac{d}{dx}\left(\frac{1}{1+e^{-x}}\right) = \frac{e^{-x}}{(1+e^{-x})^2}",
        r"\sigma (1-\sigma)",
        r"(1+e^{-x})^{-2}e^{-x}",
        r"\frac{1}{4}\operatorname{sech}^2\left(\frac{x}{2}\right)",
    ],
    "1a/tanh.derivative": [
        r"\frac{d}{dx}\tanh(x) = 1-\tanh^2(x)",
        r"1 - \left(\frac{e^{2x}-1}{e^{2x}+1}\right)^2",
        r"\frac{4}{(e^{x}+e^{-x})^2}",
        "1-tanh(x)^2",
        r"\text{sech}^2(x)",
        r"$$1 - \tanh^{2} x$$",
    ],
    "1a/leaky_relu.derivative": [
        r"\begin{cases} 1, & x > 0 \\ a, & x < 0 \end{cases}",
        r"f'(x) = \begin{cases} 1 & \text{if } x > 0 \\ a & \text{if } x < 0 \end{cases}",
        r"\mathbb{I}(x>0) + a\mathbb{I}(x<0)",
        r"a + (1-a)\mathbb{I}(x > 0)",
        r"\begin{cases} 1 & \text{for } x>0 \\ a & \text{otherwise} \end{cases}",
    ],
    "1a/leaky_relu.limit(+oo)": [r"\lim_{x\to+\infty} \frac{d}{dx}\max\{ax, x\} = 1", "1",
                                 r"\to 1", r"$$\lim_{x \to \infty} f'(x) = 1.$$"],
    "1a/leaky_relu.limit(-oo)": [r"\lim_{x \to -\infty} f'(x) = a", "a",
                                 r"$$\lim_{x\rightarrow-\infty}\frac{d}{dx}\text{LeakyReLU}(x)=a$$"],
    "1a/tanh.limit(+oo)": [r"\lim_{x\to\infty}(1-\tanh^2(x)) = 0", "0", r"\to 0"],
    "1a/tanh.limit(-oo)": [r"\lim_{x \to -\infty} \frac{d}{dx}\tanh(x) = 1 - 1 = 0", "0"],
    "1a/sigmoid.limit(-oo)": [r"\lim_{x\to -\infty}\sigma(x)(1-\sigma(x)) = 0 \cdot 1 = 0"],
    "1a/sigmoid.limit(+oo)": [r"\lim_{x\to +\infty}\sigma(x)(1-\sigma(x)) = 1 \cdot 0 = 0"],
    "1b/forward.z1": [r"z^{(1)} = W^{(1)}x + b^{(1)} = \begin{pmatrix} -3.2 \\ 1.3 \end{pmatrix}",
                      r"\begin{bmatrix}-3.2\\1.3\end{bmatrix}", "[-3.2, 1.3]", "(-3.2, 1.3)^T"],
    "1b/forward.h1": [r"h = \sigma(z^{(1)}) = (0, 1.3)^\top",
                      r"\begin{pmatrix} 0 \\ 1.3 \end{pmatrix}"],
    "1b/forward.yhat": [r"f(x;\theta) = W^{(2)}h + b^{(2)} = 1.43 - 0.1 = 1.33",
                        r"f(x; \theta) = 1.33", r"\hat{y}=0.6\times0+1.1\times1.3-0.1=1.33",
                        "1.33", r"\hat{y} \approx 1.33"],
    "1b/forward.loss": [r"L = \frac{1}{2}(1.33 - 0.33)^2 = 0.5", "L = 0.5", "1/2",
                        r"\frac{1}{2}(\hat y - y)^2"],
    "1b/backward.dL/dyhat": [
        r"\frac{\partial L}{\partial f} = f(x;\theta) - y = 1.33 - 0.33 = 1",
        r"\frac{\partial L}{\partial \hat y} = 1", r"\hat y - y", "1",
        r"$$\frac{\partial L}{\partial \hat{y}} = \hat{y} - y = 1$$"],
    "1b/backward.dL/dh1": [
        r"\frac{\partial L}{\partial h} = (W^{(2)})^\top \frac{\partial L}{\partial \hat y} = "
        r"\begin{pmatrix} 0.6 \\ 1.1\end{pmatrix}", "(0.6, 1.1)^T"],
    "1b/backward.dL/dz1": [r"\frac{\partial L}{\partial z^{(1)}} = \begin{pmatrix} 0 \\ 1.1 \end{pmatrix}"],
    "1b/grad.W2": [r"\frac{\partial L}{\partial W^{(2)}} = \frac{\partial L}{\partial \hat{y}} "
                   r"h^\top = \begin{pmatrix} 0 & 1.3 \end{pmatrix}",
                   r"\nabla_{W^{(2)}} L = [0, 1.3]", r"\left[ 0 \quad 1.3 \right]"],
    "1b/grad.b2": [r"\frac{\partial L}{\partial b^{(2)}} = 1", "1"],
    "1b/forward.z2": [r"z^{(2)} = 1.33", "1.33", r"\begin{pmatrix} 1.33 \end{pmatrix}"],
    "1b/backward.dL/dz2": [r"\frac{\partial L}{\partial z^{(2)}} = \hat y - y = 1", "1"],
    "1b/grad.W1": [r"\frac{\partial L}{\partial W^{(1)}} = \begin{bmatrix} 0 & 0 & 0 \\ 1.1 & 2.2 "
                   r"& 3.3 \end{bmatrix}", "[[0, 0, 0], [1.1, 2.2, 3.3]]"],
    "1b/grad.b1": [r"\frac{\partial L}{\partial b^{(1)}} = \begin{bmatrix} 0 \\ 1.1 \end{bmatrix}",
                   "(0, 1.1)^T"],
    "2/conclusion": [r"F(q) = \tau", r"\Rightarrow F(q) = \tau", r"\tau = F(q)"],
    "3/conclusion": [
        r"\min_{1 \le k \le T} \|\nabla f(\theta^k)\|^2 \le \frac{2L(f(\theta^0) - \bar f)}{T}",
        r"\frac{2L[f(\theta^0) - \bar{f}]}{T}", r"2L(f(\theta^0) - \bar f)/T",
        r"\frac{2L\{f(\theta^0)-\bar f\}}{T}"],
    "Q4/converges": [r"\alpha \in (0, 2)", r"0<\alpha<2", r"|1 - \alpha| < 1 \Rightarrow 0 < \alpha < 2"],
    "Q4/closed_form": [r"w_t = 100(1 - (1-\alpha)^t)", r"w^{(t)} = 100 - 100(1-\alpha)^t"],
    "Q4/steps_to_tolerance[alpha=0.5]": ["t = 7", r"7 \text{ iterations}", "$t=7$"],
    "Q4/steps_to_tolerance[alpha=2.5]": [r"\text{never (diverges)}", r"t = \infty", "never"],
    "Q2.1/gradient": [r"\nabla_x f(x) = (A + A^\top)x + z",
                      r"\frac{\partial f}{\partial x} = Ax + A^Tx + z"],
    "Q2.2/gradient": [r"\nabla_w L = x(x^\top w - y)", "(w^Tx - y)x"],
    "Q2.3/gradient": [r"\nabla_w L = \frac{1}{m}X^\top(Xw - y)", r"\frac{X^TXw - X^Ty}{m}"],
    "Q3/gradient": [r"\frac{\partial L}{\partial W} = 2(Wx + b - y)x^\top",
                    r"\frac{\partial L}{\partial \mathbf{W}} = 2(\mathbf{z}-\mathbf{y})\mathbf{x}^T"],
}
WRONG = {
    "1a/sigmoid.derivative": [r"\sigma(x)(1+\sigma(x))", r"\frac{e^{-x}}{1+e^{-x}}",
                              r"\sigma'(x) = \frac{e^{-x}}{1+e^{-x}} = \sigma(x)(1-\sigma(x))"],
    "1a/tanh.derivative": [r"1 + \tanh^2(x)", r"\operatorname{sech}(x)"],
    "1a/leaky_relu.derivative": [r"\begin{cases} a & x > 0 \\ 1 & x < 0 \end{cases}",
                                 r"\mathbb{I}(x > 0)"],
    "1a/leaky_relu.limit(+oo)": ["a", r"\lim_{x\to-\infty} f'(x) = 1"],
    "1a/leaky_relu.limit(-oo)": ["1", "0"],
    "1a/tanh.limit(+oo)": ["1"],
    "1a/tanh.limit(-oo)": ["-1"],
    "1a/sigmoid.limit(-oo)": [r"\frac{1}{4}"],
    "1a/sigmoid.limit(+oo)": ["1"],
    "1b/forward.z1": [r"\begin{pmatrix} 3.2 \\ 1.3 \end{pmatrix}", "(1.3, -3.2)^T"],
    "1b/forward.h1": [r"\begin{pmatrix} -3.2 \\ 1.3 \end{pmatrix}"],
    "1b/forward.yhat": ["1.43", r"\hat{y} = 1.34"],
    "1b/forward.loss": ["1", r"(\hat y - y)^2"],
    "1b/backward.dL/dyhat": ["2", r"y - \hat{y}",
                             r"\frac{\partial L}{\partial \hat{y}} = \hat{y} + y = 1"],
    "1b/backward.dL/dh1": ["(1.1, 0.6)^T"],
    "1b/backward.dL/dz1": [r"\begin{pmatrix} 0.6 \\ 1.1 \end{pmatrix}"],
    "1b/grad.W2": [r"\left[ 0 \quad 1.4 \right]", r"\frac{\partial L}{\partial W^{(1)}} = [0, 1.3]"],
    "1b/grad.b2": ["0"],
    "1b/forward.z2": ["1.43"],
    "1b/backward.dL/dz2": [r"\frac{\partial L}{\partial z^{(2)}} = 0.5"],
    "1b/grad.W1": [r"\begin{bmatrix} 0 & 1.1 \\ 0 & 2.2 \\ 0 & 3.3 \end{bmatrix}"],
    "1b/grad.b1": [r"(1.1, 0)^T"],
    "2/conclusion": [r"F(q) = 1 - \tau"],
    "3/conclusion": [r"\frac{L(f(\theta^0) - \bar f)}{T}"],
    "Q4/converges": [r"0 < \alpha \le 2"],
    "Q4/closed_form": [r"100 - 100(1-\alpha)^{t+1}"],
    "Q4/steps_to_tolerance[alpha=0.5]": ["t = 8", "never"],
    "Q4/steps_to_tolerance[alpha=2.5]": ["7"],
    "Q2.1/gradient": ["2Ax + z"],
    "Q2.2/gradient": ["(y - w^Tx)x"],
    "Q2.3/gradient": [r"X^T(Xw - y)"],
    "Q3/gradient": [r"2x(Wx + b - y)^T"],
}
TABLE = [(label, text, "correct") for label, texts in RIGHT.items() for text in texts] + \
    [(label, text, "incorrect") for label, texts in WRONG.items() for text in texts]


@pytest.mark.parametrize("label, text, verdict", TABLE)
def test_seed_answers(label, text, verdict):
    outcome = judge(label, text)
    assert outcome.verdict == verdict, outcome


def test_every_label_of_the_ama564_key_is_covered():
    from .read_keys import contexts

    labels = {f"{pid}/{label}" for pid, ctx in contexts("ama564_a1").items() for label in ctx.answers}
    assert labels <= set(RIGHT) and labels <= set(WRONG)
