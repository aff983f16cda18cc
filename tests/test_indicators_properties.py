"""Properties of the engine and the scoring that hold for any store (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foundation.catalogue import default_catalogue
from indicators.engine import CITY, compute_indicators
from indicators.scoring import default_scheme, score_units

CAT = default_catalogue()
MONTHS = ["2023-01", "2023-02", "2023-03", "2023-04", "2024-01", "2024-02", "2024-03", "2024-04"]
RATIOS = [c for c, i in CAT.indicators.items() if i.is_ratio and not i.from_submissions]
SUM_NUMERATORS = [
    c for c, i in CAT.indicators.items() if i.numerator and all(t.func == "sum" for t in i.numerator)
]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def stores(draw: st.DrawFn, max_units: int = 5) -> tuple[list[str], pd.DataFrame]:
    """Random stores: some units, each month reported or not, values small (zeros likely)."""
    n_units = draw(st.integers(1, max_units))
    units = [f"u{i}" for i in range(n_units)]
    seed = draw(st.integers(0, 2**32 - 1))
    reported = draw(st.lists(st.booleans(), min_size=n_units * len(MONTHS), max_size=n_units * len(MONTHS)))
    scale = draw(st.sampled_from([1, 3, 20]))
    rng = np.random.default_rng(seed)
    rows = []
    monthly = [m.code for m in CAT.monthly_measures()]
    for ui, unit in enumerate(units):
        for mi, month in enumerate(MONTHS):
            if not reported[ui * len(MONTHS) + mi]:
                continue
            values = rng.integers(0, scale + 1, size=len(monthly)) * (rng.random(len(monthly)) < 0.8)
            rows += [(unit, month, code, float(v)) for code, v in zip(monthly, values, strict=True)]
        for year in ("2023", "2024"):
            if rng.random() < 0.8:
                rows.append((unit, year, "satisfaction_score", float(rng.uniform(60, 95))))
    return units, pd.DataFrame(rows, columns=["unit", "period", "measure", "value"])


windows = st.sampled_from(["month", "quarter", "ytd", "year", "rolling12"])
periods = st.sampled_from(["2024-01", "2024-02", "2024-03", "2024-04"])


@SETTINGS
@given(stores(), windows, periods)
def test_pooled_city_rate_lies_between_unit_rates(store, window, period):
    units, values = store
    frame = compute_indicators(
        values, catalogue=CAT, units=units, period=period, window=window, indicators=RATIOS
    )
    for _, rows in frame.groupby("indicator"):
        unit_values = rows.loc[rows["unit"] != CITY, "value"].dropna()
        city = rows.loc[rows["unit"] == CITY, "value"].iloc[0]
        if unit_values.empty:
            assert np.isnan(city)
        else:
            tol = 1e-12 * max(1.0, abs(city))
            assert unit_values.min() - tol <= city <= unit_values.max() + tol


@SETTINGS
@given(stores(), windows, periods)
def test_adding_a_unit_with_zero_denominators_changes_no_ones_value(store, window, period):
    units, values = store
    zeros = pd.DataFrame(
        [("zero", month, m.code, 0.0) for month in MONTHS for m in CAT.monthly_measures()],
        columns=["unit", "period", "measure", "value"],
    )
    indicators = [c for c, i in CAT.indicators.items() if not i.from_submissions]
    before = compute_indicators(
        values, catalogue=CAT, units=units, period=period, window=window, indicators=indicators
    )
    after = compute_indicators(
        pd.concat([values, zeros], ignore_index=True),
        catalogue=CAT,
        units=[*units, "zero"],
        period=period,
        window=window,
        indicators=indicators,
    )
    after = after[after["unit"] != "zero"].reset_index(drop=True)
    for column in ("value", "numerator", "denominator", "coverage", "yoy", "pop"):
        kept = before["unit"] != CITY
        pd.testing.assert_series_equal(before.loc[kept, column], after.loc[kept, column])
    # the city value (pooled ratios; sums of levels — 0 added —; mean of scores) and, for ratios,
    # the benchmark, ranks and meets: all unchanged. (A level with no value anywhere becomes 0:
    # the new unit's 0 is a value, not a zero denominator.)
    ratio = before["indicator"].isin(RATIOS)
    had_value = ratio | before["city_value"].notna()
    pd.testing.assert_series_equal(before.loc[had_value, "city_value"], after.loc[had_value, "city_value"])
    for column in ("benchmark", "rank", "meets_benchmark"):
        pd.testing.assert_series_equal(before.loc[ratio, column], after.loc[ratio, column])
    zero_rows = compute_indicators(
        zeros, catalogue=CAT, units=["zero"], period=period, window=window, indicators=RATIOS
    )
    assert zero_rows["value"].isna().all()  # the premise: its ratios are all NA


@SETTINGS
@given(stores(), st.sampled_from(["2024-01", "2024-02", "2024-03", "2024-04"]))
def test_ytd_numerator_is_the_sum_of_monthly_numerators(store, period):
    units, values = store
    ytd = compute_indicators(
        values, catalogue=CAT, units=units, period=period, window="ytd", indicators=SUM_NUMERATORS
    )
    months = [m for m in MONTHS if m[:4] == period[:4] and m <= period]
    monthly = [
        compute_indicators(
            values, catalogue=CAT, units=units, period=m, window="month", indicators=SUM_NUMERATORS
        )["numerator"].to_numpy()
        for m in months
    ]
    stacked = np.vstack(monthly)
    expected = np.where(np.isnan(stacked).all(axis=0), np.nan, np.nansum(stacked, axis=0))
    is_unit = (ytd["unit"] != CITY).to_numpy()
    np.testing.assert_allclose(ytd["numerator"].to_numpy()[is_unit], expected[is_unit], rtol=1e-12)


@SETTINGS
@given(stores(max_units=8), windows, periods, st.integers(0, 2**32 - 1))
def test_composite_stays_within_0_and_100(store, window, period, seed):
    units, values = store
    rng = np.random.default_rng(seed)
    arrivals = pd.DataFrame(
        {
            "unit": np.repeat(units, len(MONTHS)),
            "period": MONTHS * len(units),
            "first_received_at": pd.Timestamp("2024-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(-400, 200, len(units) * len(MONTHS)), unit="D"),
        }
    )
    frame = compute_indicators(
        values,
        catalogue=CAT,
        units=units,
        period=period,
        window=window,
        arrivals=arrivals,
        now=pd.Timestamp("2024-06-01", tz="UTC").to_pydatetime(),
    )
    targets = pd.DataFrame(
        {
            "unit": units,
            "year": 2024,
            "indicator": "aid_workstations",
            "target": rng.uniform(0.5, 10, len(units)),
        }
    )
    result = score_units(frame, default_scheme(CAT), targets=targets)
    composite = result.composite["composite"].dropna()
    assert ((composite >= 0) & (composite <= 100)).all()
    score = result.detail["score"].dropna()
    assert ((score >= 0) & (score <= 100)).all()
    applied = result.detail.groupby("unit")["applied_weight"].sum()
    has_score = result.composite.set_index("unit")["composite"].notna()
    np.testing.assert_allclose(applied[has_score[has_score].index], 100.0)
