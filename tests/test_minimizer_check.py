"""The numeric instance check of the population-minimizer proofs: fast, and it catches a
wrong claim (the statistic of another loss, a neighbouring quantile)."""

import time

import pytest

from symderiv.derive.proofs import mean_minimizer, median_minimizer, quantile_minimizer
from symderiv.derive.proofs._minimizer import minimizer_matches
from symderiv.derive.proofs import StepFailed


def check_loss(tau):
    return lambda u: (tau - (1 if u < 0 else 0)) * u


@pytest.mark.parametrize("module", [quantile_minimizer, median_minimizer, mean_minimizer])
def test_the_true_claims_pass_in_well_under_a_second(module):
    step = module.steps({})[-1]
    assert step.name == "instances"
    start = time.process_time()
    assert "the minimizer is the" in step.run()
    assert time.process_time() - start < 1.5


@pytest.mark.parametrize("integrand, name, statistic, message", [
    (check_loss(0.25), "median", lambda quant, mean: quant(0.5),
     "for exponential(1) the risk's slope at the median 0.693147 is 2.50e-01, not 0"),
    (check_loss(0.25), "0.2-quantile", lambda quant, mean: quant(0.2),
     "for exponential(1) the risk's slope at the 0.2-quantile 0.223144 is -5.00e-02, not 0"),
    (abs, "mean", lambda quant, mean: mean,
     "for exponential(1) the risk's slope at the mean 1.000000 is 2.64e-01, not 0"),
    (lambda u: u * u, "median", lambda quant, mean: quant(0.5),
     "for exponential(1) the risk's slope at the median 0.693147 is -6.14e-01, not 0"),
])
def test_a_wrong_claim_fails_naming_the_law_and_the_slope(integrand, name, statistic, message):
    with pytest.raises(StepFailed) as err:
        minimizer_matches(integrand, name, statistic).run()
    assert str(err.value) == message
