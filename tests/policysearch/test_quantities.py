"""Numbers as people read them (issue 13): scales by unit, one scale per column, no exponents."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policysearch.quantities import change, column, count, quantity, unscaled


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (2_357_150_000, "bytes", "2.20 GiB"),
        (768 * 2**20, "bytes", "768 MiB"),  # seed 000: 64k threads x 12 KiB saved
        (12 * 2**30, "bytes", "12.0 GiB"),  # seed 000: 1M threads x 12 KiB saved
        (512, "bytes", "512 B"),
        (0, "bytes", "0 B"),
        (37_630, "ns", "37.6 µs"),
        (1.5, "us", "1.50 µs"),
        (2_500_000, "ns", "2.50 ms"),
        (976_432.68, "ops/s", "976,433 ops/s"),
        (0.00293, "fraction", "0.293%"),
        (0.25, "1/day", "0.250 /day"),
        (65536 * 2**20, "bytes/s", "64.0 GiB/s"),
        (12, "CPUs", "12 CPUs"),
        (float("nan"), "ns", "n/a"),
    ],
)
def test_quantity_picks_the_scale_people_read(value: float, unit: str, text: str) -> None:
    assert quantity(value, unit) == text


def test_a_column_keeps_one_scale_so_it_reads_down() -> None:
    # the mixed formats of issue 13: 679413 next to 1.00571e+06
    assert column([679_413, 1_005_710, 1_155_000], "bytes") == [
        "0.648 MiB",
        "0.959 MiB",
        "1.101 MiB",
    ]
    assert column([37_378, 38_206.2, 40_237.7], "ns") == ["37.4 µs", "38.2 µs", "40.2 µs"]


def test_change_never_prints_minus_zero() -> None:
    assert change(100, 100) == "0%"
    assert change(99.999999, 100) == "0%"
    assert change(110, 100) == "+10.0%"
    assert change(0.1, 1) == "-90.0%"
    assert change(5, 0) == "n/a"
    assert count(-0.2) == "0" and count(1_048_576) == "1,048,576"


@given(
    st.one_of(st.just(0.0), st.floats(min_value=1e-3, max_value=1e15), st.floats(-1e15, -1e-3)),
    st.sampled_from(["bytes", "ns", "us", "fraction", "ops/s", "1/s", "bytes/s", "CPUs", ""]),
)
def test_no_exponent_and_few_digits(value: float, unit: str) -> None:
    text = quantity(value, unit)
    assert "e+" not in text and "e-" not in text
    assert not text.startswith("-0") or text == "-0" or any(c in "123456789" for c in text)
    digits = [c for c in text.split(" ")[0] if c.isdigit()]
    assert len(digits) <= 20
    if math.isfinite(value) and value != 0:
        assert any(c in "123456789" for c in text)


def test_box_share_reads_as_a_share_of_the_reference_box() -> None:
    from policysearch.quantities import box_share

    assert box_share(0.412) == "41.2% of the reference box"
    assert box_share(0.0949) == "9.49% of the reference box"
    assert box_share(0.00123) == "0.12% of the reference box"
    assert box_share(None) == "n/a"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1000, "1,000"),
        (490, "490"),
        (2.5, "2.5"),
        (5e-5, "0.00005"),
        (1e-6, "0.000001"),
        (1e-8, "1×10⁻⁸"),
        (2.5e-14, "2.5×10⁻¹⁴"),
        (-1e-9, "-1×10⁻⁹"),
        (9.9999999e-8, "1×10⁻⁷"),
        (805_306_368, "805,306,368"),
        (0.0, "0"),
        (float("nan"), "n/a"),
    ],
)
def test_unscaled_keeps_the_unit_and_never_writes_an_e_exponent(value: float, text: str) -> None:
    assert unscaled(value) == text


@given(st.floats(min_value=-1e15, max_value=1e15, allow_nan=False))
def test_unscaled_reads_back_close_to_the_value(value: float) -> None:
    text = unscaled(value)
    assert "e" not in text
    if "×10" in text:
        mantissa, power = text.split("×10")
        digits = power.translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789"))
        back = float(mantissa) * 10.0 ** int(digits)
    else:
        back = float(text.replace(",", ""))
    assert math.isclose(back, value, rel_tol=1e-5, abs_tol=1e-300)
