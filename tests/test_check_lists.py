"""Lists of values (gradient-descent iterates): the rounding rule and the feedback naming the
entries that differ. Values worked by hand: w_{t+1} = w_t - alpha (w_t - 100) from w_0 = 0."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KEY = ROOT / "problems" / "nndl_hw1.toml"

A05 = "0, 50, 75, 87.5, 93.75, 96.875, 98.4375, 99.21875, 99.609375, 99.8046875, 99.90234375"
A25 = ("0, 250, -125, 437.5, -406.25, 859.375, -1039.0625, 1808.59375, -2462.890625, "
       "3944.3359375, -5666.50390625")

# (label, answer, verdict, fragment of the feedback ("" = no feedback))
CASES = [
    ("Q4/iterates[alpha=0.5]", A05, "correct", ""),
    ("Q4/iterates[alpha=0.5]", "[0, 50, 75, 175/2, 375/4, 775/8, 1575/16, 3175/32, 6375/64, "
     "12775/128, 25575/256]", "correct", ""),
    # rounded to integers (87.5 -> 88, 96.875 -> 97, 99.609375 -> 100)
    ("Q4/iterates[alpha=0.5]", "0, 50, 75, 88, 94, 97, 98, 99, 100, 100, 100", "correct",
     "rounded as written; the exact values are [0, 50, 75, 87.5, 93.75, 96.875"),
    # rounded to two decimals
    ("Q4/iterates[alpha=1.5]", "0, 150, 75, 112.5, 93.75, 103.13, 98.44, 100.78, 99.61, 100.20, "
     "99.90", "correct", "rounded as written"),
    # the example: -1039.0625 and 1808.59375 written as -1039 and 1809
    ("Q4/iterates[alpha=2.5]", "0, 250, -125, 438, -406, 859, -1039, 1809, -2463, 3944, -5667",
     "correct", "-1039.0625, 1808.59375"),
    # one value wrong: named by its iterate, the key's value as a decimal
    ("Q4/iterates[alpha=2.5]", "0, 250, -125, 438, -406, 859, -1093, 1809, -2463, 3944, -5667",
     "incorrect", "w_6 should be -1039.0625, not -1093"),
    ("Q4/iterates[alpha=0.5]", A05.replace("99.90234375", "100.90234375"), "incorrect",
     "w_10 should be 99.90234375, not 100.90234375"),
    ("Q4/iterates[alpha=0.5]", "0, 50, 100, 100, 100, 100, 100, 100, 100, 100, 100", "incorrect",
     "6 of 11 values differ: w_2 should be 75, not 100; w_3 should be 87.5, not 100; w_4 should "
     "be 93.75, not 100; and 3 more"),
    # rounding to an integer is half a unit, not anything close: 88.5 rounds to 89 or 88, not 87
    ("Q4/iterates[alpha=0.5]", "0, 50, 75, 86, 94, 97, 98, 99, 100, 100, 100", "incorrect",
     "w_3 should be 87.5, not 86"),
    ("Q4/iterates[alpha=0.5]", "0, 50, 75, 87.5, 93.75", "incorrect",
     "5 values, but the key lists 11"),
]


def text_of(parts) -> str:
    import sympy as sp

    from symderiv.check.compare import Math

    return "".join(sp.sstr(p.value) if isinstance(p, Math) else str(p) for p in parts)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from symderiv.check import check

    results = {}
    for k, (label, text, _, _) in enumerate(CASES):
        # one answers file per case (a file holds one answer per label)
        path = tmp_path_factory.mktemp("answers") / f"case{k}.toml"
        path.write_text(f'[answers]\n"{label}" = \'{text}\'\n', encoding="utf-8")
        (result,) = [r for r in check(KEY, path).results if r.label == label]
        results[k] = result
    return results


@pytest.mark.parametrize("k", range(len(CASES)))
def test_list_verdict_and_feedback(report, k):

    label, text, verdict, fragment = CASES[k]
    result = report[k]
    assert result.verdict == verdict, (text, text_of(result.feedback))
    if fragment:
        assert fragment in text_of(result.feedback)
    elif verdict == "correct" and "/" not in text and "." in text and "," in text:
        assert text_of(result.feedback) == ""


def test_rtol_decides_for_values_off_by_more_than_half_a_unit(tmp_path):
    """-1040 for -1039.0625 is 0.09% off: within the default tolerance (1e-3), not within 1e-6."""
    from symderiv.check import check

    path = tmp_path / "a.toml"
    path.write_text('[answers]\n"Q4/iterates[alpha=2.5]" = "0, 250, -125, 438, -406, 859, -1040, '
                    '1809, -2463, 3944, -5667"\n', encoding="utf-8")
    (loose,) = [r for r in check(KEY, path).results if r.label == "Q4/iterates[alpha=2.5]"]
    (strict,) = [r for r in check(KEY, path, rtol=1e-6).results
                 if r.label == "Q4/iterates[alpha=2.5]"]
    assert loose.verdict == "correct"
    assert strict.verdict == "incorrect"
    assert "w_6 should be -1039.0625, not -1040" in text_of(strict.feedback)


def test_other_lists_name_values_by_position():
    from symderiv.check.compare import _entry_namer, _ordinal

    class Ctx:
        problem = None

    name = _entry_namer(Ctx(), "values")
    assert [name(k) for k in (0, 1, 2, 3, 10, 21)] == [
        "the 1st value", "the 2nd value", "the 3rd value", "the 4th value", "the 11th value",
        "the 22nd value"]
    assert _ordinal(13) == "13th" and _ordinal(112) == "112th"
