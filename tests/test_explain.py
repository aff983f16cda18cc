"""Why a rank moved: contributions on hand-computed values, overtaking, and the exact sum (property)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foundation.catalogue import default_catalogue
from indicators.engine import CITY
from indicators.explain import exact_composite, explain_change, rounded_contributions
from indicators.scoring import parse_scheme, score_units

CAT = default_catalogue()
HEADER = "indicator,weight,method,target,floor,ceiling,bands\n"
# score = value·100 for both (target 1.0, higher is better): scores are easy to read by hand
SCHEME = parse_scheme(
    HEADER + "disclosure_rate,60,target,1.0,,,\ncomplaint_closure_rate,40,target,1.0,,,\n",
    catalogue=CAT,
    name="t",
)


def frame(values: dict[str, dict[str, float | None]]) -> pd.DataFrame:
    rows = []
    for indicator, per_unit in values.items():
        for unit, value in per_unit.items():
            rows.append((unit, indicator, "2024-06", np.nan if value is None else value, np.nan))
        rows.append((CITY, indicator, "2024-06", np.nan, np.nan))
    return pd.DataFrame(rows, columns=["unit", "indicator", "period", "value", "benchmark"])


BEFORE = frame(
    {
        "disclosure_rate": {"a": 0.5, "b": 0.9, "c": 0.6},
        "complaint_closure_rate": {"a": 0.8, "b": 0.9, "c": 0.6},
    }
)
NOW = frame(
    {
        "disclosure_rate": {"a": 0.7, "b": 0.6, "c": 0.9},
        "complaint_closure_rate": {"a": 0.75, "b": 0.6, "c": 0.9},
    }
)


def test_contributions_without_na_are_score_change_times_weight():
    before, now = score_units(BEFORE, SCHEME), score_units(NOW, SCHEME)
    e = explain_change(now, before, "a")
    # a before: 0.6·50 + 0.4·80 = 62; now: 0.6·70 + 0.4·75 = 72; change 10
    assert e.composite_before == pytest.approx(62) and e.composite_now == pytest.approx(72)
    assert e.exact_change is not None and float(e.exact_change) == pytest.approx(10)
    by = {c.indicator: c for c in e.contributions}
    # disclosure: (70 − 50)·60/100 = 12; complaints: (75 − 80)·40/100 = −2; largest first
    assert [c.indicator for c in e.contributions] == ["disclosure_rate", "complaint_closure_rate"]
    assert by["disclosure_rate"].contribution == pytest.approx(12)
    assert by["complaint_closure_rate"].contribution == pytest.approx(-2)
    assert by["disclosure_rate"].weight_part == pytest.approx(0)  # weights unchanged: all score
    assert sum(c.exact for c in e.contributions) == e.exact_change
    # ranks before: b 90, a 62, c 60; now: c 90, a 72, b 60 → a stays 2nd, c overtook it, it overtook b
    assert (e.rank_before, e.rank_now, e.rank_change) == (2, 2, 0)
    assert e.overtook_it == ["c"] and e.overtaken == ["b"]
    eb = explain_change(now, before, "b")
    assert (eb.rank_before, eb.rank_now, eb.rank_change) == (1, 3, -2)
    assert eb.overtook_it == ["c", "a"] and eb.overtaken == []


def test_na_indicator_entering_is_all_weight_part():
    before_values = frame(
        {
            "disclosure_rate": {"a": 0.5, "b": 0.9},
            "complaint_closure_rate": {"a": None, "b": 0.9},  # a: no complaints received → NA
        }
    )
    now_values = frame(
        {"disclosure_rate": {"a": 0.7, "b": 0.9}, "complaint_closure_rate": {"a": 0.75, "b": 0.9}}
    )
    e = explain_change(score_units(now_values, SCHEME), score_units(before_values, SCHEME), "a")
    # before: disclosure alone, applied weight 100 → 50; now 0.6·70 + 0.4·75 = 72; change 22
    assert e.composite_before == pytest.approx(50) and e.composite_now == pytest.approx(72)
    by = {c.indicator: c for c in e.contributions}
    # complaints entered: (75·40 − 0)/100 = 30, all of it the weight part
    assert by["complaint_closure_rate"].contribution == pytest.approx(30)
    assert by["complaint_closure_rate"].score_part == 0 and by["complaint_closure_rate"].score_before is None
    # disclosure: (70·60 − 50·100)/100 = −8 = score part (70−50)·(100+60)/2/100 = 16 + weight part −24
    assert by["disclosure_rate"].contribution == pytest.approx(-8)
    assert by["disclosure_rate"].score_part == pytest.approx(16)
    assert by["disclosure_rate"].weight_part == pytest.approx(-24)
    assert (by["disclosure_rate"].weight_before, by["disclosure_rate"].weight_now) == (100.0, 60.0)
    assert sum(c.exact for c in e.contributions) == e.exact_change == Fraction(22)


def test_rounded_contributions_add_up_to_the_shown_change():
    third = 1 / 3
    s = parse_scheme(
        HEADER
        + "disclosure_rate,30,target,1.0,,,\ncomplaint_closure_rate,30,target,1.0,,,\n"
        + "mediation_success_rate,40,target,1.0,,,\n",
        catalogue=CAT,
        name="t3",
    )
    before = frame(
        {
            "disclosure_rate": {"a": 0.5},
            "complaint_closure_rate": {"a": 0.5},
            "mediation_success_rate": {"a": 0.5},
        }
    )
    now = frame(
        {
            "disclosure_rate": {"a": 0.5 + third / 100},
            "complaint_closure_rate": {"a": 0.5 + third / 100},
            "mediation_success_rate": {"a": 0.5 + third / 100},
        }
    )
    e = explain_change(score_units(now, s), score_units(before, s), "a")
    # composite 50 → 50.3333…: shown change 0.33; contributions 0.1, 0.1, 0.1333… exactly
    shown, change = rounded_contributions(e)
    assert change == pytest.approx(0.33)
    # floors 0.10, 0.10, 0.13 = 0.33: nothing to add
    assert shown == pytest.approx(
        {"disclosure_rate": 0.10, "complaint_closure_rate": 0.10, "mediation_success_rate": 0.13}
    )
    assert round(sum(shown.values()) * 100) == round(change * 100)


@st.composite
def two_windows(draw):
    units = ["a", "b", "c", "d"]
    score_value = st.one_of(st.none(), st.floats(min_value=0, max_value=1, allow_nan=False))
    frames = []
    for _ in range(2):
        frames.append(
            frame(
                {
                    code: {u: draw(score_value) for u in units}
                    for code in ("disclosure_rate", "complaint_closure_rate", "mediation_success_rate")
                }
            )
        )
    w1 = draw(st.integers(min_value=1, max_value=98))
    w2 = draw(st.integers(min_value=1, max_value=99 - w1))
    scheme = parse_scheme(
        HEADER
        + f"disclosure_rate,{w1},target,1.0,,,\ncomplaint_closure_rate,{w2},target,1.0,,,\n"
        + f"mediation_success_rate,{100 - w1 - w2},target,1.0,,,\n",
        catalogue=CAT,
        name="p",
    )
    return frames[0], frames[1], scheme


@settings(max_examples=150, deadline=None)
@given(two_windows())
def test_contributions_add_up_exactly(case):
    before_values, now_values, scheme = case
    before, now = score_units(before_values, scheme), score_units(now_values, scheme)
    for unit in ["a", "b", "c", "d"]:
        e = explain_change(now, before, unit)
        if e.exact_change is None:
            assert e.composite_now is None or e.composite_before is None
            continue
        assert sum((c.exact for c in e.contributions), Fraction(0)) == e.exact_change
        for c in e.contributions:  # the two parts make the contribution (float rounding aside)
            assert c.score_part + c.weight_part == pytest.approx(c.contribution, abs=1e-9)
        # the engine's floating-point composite is the exact one to rounding error
        assert e.composite_now == pytest.approx(float(exact_composite(now.detail, unit)), abs=1e-9)
        assert e.change == pytest.approx(e.composite_now - e.composite_before, abs=1e-9)
        shown, change = rounded_contributions(e)
        assert round(sum(shown.values()) * 100) == round(change * 100)
        assert all(abs(shown[c.indicator] - c.contribution) < 0.02 + 1e-9 for c in e.contributions)
        assert not math.isnan(change)


def test_explanation_sentence_by_hand() -> None:
    from application.explain import explanation_sentence

    e = explain_change(score_units(NOW, SCHEME), score_units(BEFORE, SCHEME), "b")
    # b: 0.6·90 + 0.4·90 = 90 → 0.6·60 + 0.4·60 = 60; disclosure (60−90)·60/100 = −18,
    # complaints (60−90)·40/100 = −12; 1st → 3rd, overtaken by c (1st) and a (2nd)
    assert explanation_sentence(e, CAT) == (
        "b综合得分60.00，较上期-30.00，排名由第1名下降至第3名；"
        "得分变化主要来自办结案件公开率（-18.00）、投诉举报办结率（-12.00）。被c、a超过。"
    )
