"""Scoring methods, re-spread weights, tie ranks and scheme checks, on hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from foundation.catalogue import default_catalogue
from indicators.engine import CITY
from indicators.scoring import (
    METHODS,
    MethodInput,
    SchemeError,
    default_scheme,
    load_scheme,
    parse_scheme,
    register_method,
    score_units,
)

CAT = default_catalogue()
HEADER = "indicator,weight,method,target,floor,ceiling,bands\n"


def scheme(*rows: str):
    return parse_scheme(HEADER + "\n".join(rows) + "\n", catalogue=CAT, name="test")


def frame(
    values: dict[str, dict[str, float | None]], benchmarks: dict[str, float] | None = None
) -> pd.DataFrame:
    """An indicator frame as the engine returns it (the columns scoring reads)."""
    rows = []
    for indicator, per_unit in values.items():
        bench = (benchmarks or {}).get(indicator, math.nan)
        for unit, value in per_unit.items():
            rows.append((unit, indicator, "2024-06", np.nan if value is None else value, bench))
        rows.append((CITY, indicator, "2024-06", bench, bench))
    return pd.DataFrame(rows, columns=["unit", "indicator", "period", "value", "benchmark"])


def scores(result, indicator: str) -> dict[str, float]:
    d = result.detail[result.detail["indicator"] == indicator]
    return dict(zip(d["unit"], d["score"], strict=True))


def approx_dict(expected: dict[str, float | None]):
    return {k: (pytest.approx(v) if v is not None else None) for k, v in expected.items()}


def nan_to_none(d: dict[str, float]) -> dict[str, float | None]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}


def test_target_higher_and_lower():
    s = scheme("disclosure_rate,50,target,0.8,,,", "avg_handling_days,50,target,30,,,")
    f = frame(
        {
            "disclosure_rate": {"a": 0.6, "b": 0.8, "c": 1.0, "d": None},
            "avg_handling_days": {"a": 20.0, "b": 40.0, "c": 0.0, "d": 60.0},
        }
    )
    r = score_units(f, s)
    # min(x/0.8, 1)·100: 0.6 → 75, 0.8 → 100, 1.0 → 100 (capped), NA → null
    assert nan_to_none(scores(r, "disclosure_rate")) == approx_dict({"a": 75, "b": 100, "c": 100, "d": None})
    # lower is better, min(30/x, 1)·100: 20 → 100, 40 → 75, 0 → 100, 60 → 50
    assert scores(r, "avg_handling_days") == approx_dict({"a": 100, "b": 75, "c": 100, "d": 50})


def test_unit_targets_and_efficacy_fallback():
    s = scheme("aid_workstations,100,target,unit_target,,,")
    f = frame({"aid_workstations": {"a": 3.0, "b": 6.0, "c": 5.0, "d": 2.0}})
    targets = pd.DataFrame(
        [
            ("a", 2024, "aid_workstations", 4.0),
            ("b", 2024, "aid_workstations", 5.0),
            ("c", 2023, "aid_workstations", 1.0),
        ],
        columns=["unit", "year", "indicator", "target"],
    )
    r = score_units(f, s, targets=targets)
    d = r.detail.set_index("unit")
    # a: 3/4 → 75; b: 6/5 capped → 100
    assert d.loc["a", "score"] == pytest.approx(75) and d.loc["a", "method"] == "target"
    assert d.loc["b", "score"] == pytest.approx(100) and d.loc["b", "target"] == 5.0
    # c's target is for 2023, d has none: efficacy over the cohort min 2 .. max 6
    # c: 60 + 40·(5−2)/(6−2) = 90; d: 60 + 40·0 = 60
    assert d.loc["c", "method"] == "efficacy" and d.loc["c", "score"] == pytest.approx(90)
    assert d.loc["d", "score"] == pytest.approx(60)
    assert (d.loc["c", "floor_used"], d.loc["c", "ceiling_used"]) == (2.0, 6.0)


def test_benchmark_method():
    s = scheme("mediation_success_rate,50,benchmark,,,,", "avg_handling_days,50,benchmark,,,,")
    f = frame(
        {
            "mediation_success_rate": {"a": 0.9, "b": 0.8, "c": 0.6},
            "avg_handling_days": {"a": 20.0, "b": 25.0, "c": 16.0},
        },
        benchmarks={"mediation_success_rate": 0.8, "avg_handling_days": 20.0},
    )
    r = score_units(f, s)
    # meets 0.8 → 100 (equality meets); 0.6 → 0.6/0.8·100 = 75
    assert scores(r, "mediation_success_rate") == approx_dict({"a": 100, "b": 100, "c": 75})
    # lower is better: 20 meets; 25 → 20/25·100 = 80; 16 → 100
    assert scores(r, "avg_handling_days") == approx_dict({"a": 100, "b": 80, "c": 100})


def test_efficacy_method():
    s = scheme(
        "mediation_success_rate,40,efficacy,,,,",
        "avg_handling_days,30,efficacy,,,,",
        "satisfaction_score,30,efficacy,,70,90,",
    )
    f = frame(
        {
            "mediation_success_rate": {"a": 0.5, "b": 0.7, "c": 0.9, "d": None},
            "avg_handling_days": {"a": 10.0, "b": 20.0, "c": 30.0, "d": 25.0},
            "satisfaction_score": {"a": 65.0, "b": 85.0, "c": 95.0, "d": 80.0},
        }
    )
    r = score_units(f, s)
    # floor = min 0.5, ceiling = max 0.9 over units with a value: 60 + 40·(x−0.5)/0.4
    assert nan_to_none(scores(r, "mediation_success_rate")) == approx_dict(
        {"a": 60, "b": 80, "c": 100, "d": None}
    )
    # lower is better: floor = max 30, ceiling = min 10: 60 + 40·(x−30)/(10−30)
    # 10 → 100, 20 → 80, 30 → 60, 25 → 70
    assert scores(r, "avg_handling_days") == approx_dict({"a": 100, "b": 80, "c": 60, "d": 70})
    # the scheme's 不允许值 70 / 满意值 90: 65 → clipped 60, 85 → 90, 95 → clipped 100, 80 → 80
    assert scores(r, "satisfaction_score") == approx_dict({"a": 60, "b": 90, "c": 100, "d": 80})


def test_efficacy_all_equal_scores_100():
    s = scheme("mediation_success_rate,100,efficacy,,,,")
    r = score_units(frame({"mediation_success_rate": {"a": 0.7, "b": 0.7}}), s)
    assert scores(r, "mediation_success_rate") == {"a": 100.0, "b": 100.0}


def test_bands_method():
    s = scheme(
        "case_completion_rate,50,bands,,,,0.9:100;0.8:90;0.7:80;0.3:60",
        "avg_handling_days,50,bands,,,,15:100;20:80;30:60",
    )
    f = frame(
        {
            "case_completion_rate": {"a": 0.95, "b": 0.85, "c": 0.7, "d": 0.1},
            "avg_handling_days": {"a": 15.0, "b": 18.0, "c": 30.0, "d": 35.0},
        }
    )
    r = score_units(f, s)
    # the first threshold reached: 0.95 → 100, 0.85 → 90, 0.7 (equal) → 80, 0.1 reaches none → 0
    assert scores(r, "case_completion_rate") == {"a": 100, "b": 90, "c": 80, "d": 0}
    # lower is better: the first it stays at or under: 15 → 100, 18 → 80, 30 → 60, 35 → none → 0
    assert scores(r, "avg_handling_days") == {"a": 100, "b": 80, "c": 60, "d": 0}


def test_composite_respread_weights_when_an_indicator_is_na():
    s = scheme(
        "disclosure_rate,50,target,1.0,,,",
        "complaint_closure_rate,30,target,1.0,,,",
        "mediation_success_rate,20,target,1.0,,,",
    )
    f = frame(
        {
            "disclosure_rate": {"a": 0.9, "b": 0.8},
            "complaint_closure_rate": {"a": 0.5, "b": None},  # b: no complaints received
            "mediation_success_rate": {"a": 0.6, "b": 0.7},
        }
    )
    r = score_units(f, s)
    comp = r.composite.set_index("unit")
    # a: (50·90 + 30·50 + 20·60) / 100 = (4500 + 1500 + 1200) / 100 = 72
    assert comp.loc["a", "composite"] == pytest.approx(72)
    # b: (50·80 + 20·70) / (50 + 20) = 5400 / 70 = 77.142857…
    assert comp.loc["b", "composite"] == pytest.approx(5400 / 70)
    assert comp.loc["b", "respread"] and comp.loc["b", "na_indicators"] == ["complaint_closure_rate"]
    assert not comp.loc["a", "respread"] and comp.loc["a", "na_indicators"] == []
    d = r.detail[r.detail["unit"] == "b"].set_index("indicator")
    # applied weights: 50·100/70 = 71.43, 0, 20·100/70 = 28.57 (sum 100); the scheme weight stays
    assert d["applied_weight"].to_dict() == approx_dict(
        {"disclosure_rate": 5000 / 70, "complaint_closure_rate": 0, "mediation_success_rate": 2000 / 70}
    )
    assert math.isnan(d.loc["complaint_closure_rate", "score"])
    assert d.loc["complaint_closure_rate", "weight"] == 30
    assert list(r.composite["unit"]) == ["b", "a"]  # 77.14 before 72


def test_tie_ranks_on_rounded_composite():
    s = scheme("disclosure_rate,100,target,1.0,,,")
    f = frame({"disclosure_rate": {"a": 0.90, "b": 0.85004, "c": 0.84996, "d": 0.70, "e": None}})
    r = score_units(f, s)
    # composites 90, 85.004, 84.996, 70: rounded to 2 decimals b and c are both 85.00 → 1, 2, 2, 4
    ranks = dict(zip(r.composite["unit"], r.composite["rank"], strict=True))
    assert [ranks[u] for u in "abcd"] == [1, 2, 2, 4]
    assert ranks["e"] is pd.NA
    assert list(r.composite["unit"]) == ["a", "b", "c", "d", "e"]  # no score: last, no rank
    assert math.isnan(r.composite.set_index("unit").loc["e", "composite"])


def test_default_scheme_loads_and_scores_within_0_100():
    s = default_scheme(CAT)
    assert sum(r.weight for r in s.rules) == 100
    assert {r.method for r in s.rules} == {"benchmark", "bands", "efficacy", "target"}
    assert len(s.version) == 12


def test_broken_scheme_names_every_problem(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text(
        HEADER
        + "abnormal_withdrawl_rate,15,benchmark,,,,\n"  # line 2: misspelt indicator
        + "case_completion_rate,15,bands,,,,0.9:100;x;0.7:120\n"  # line 3: malformed band, score > 100
        + "avg_handling_days,10,efficacy,,60,120,\n"  # line 4: lower is better, floor < ceiling
        + "disclosure_rate,abc,target,1.0,,,\n"  # line 5: weight not a number
        + "aid_workstations,10,magic,,,,\n"  # line 6: unknown method
        + "mediation_success_rate,10,target,,,,\n"  # line 7: target method without target
        + "mediation_success_rate,10,bands,,,,0.5:80;0.9:100\n",  # line 8: duplicate; bands out of order
        encoding="utf-8",
    )
    with pytest.raises(SchemeError) as info:
        load_scheme(path, catalogue=CAT)
    problems = info.value.problems
    text = "\n".join(problems)
    expected = [
        ("第2行", "未知指标 abnormal_withdrawl_rate", "abnormal_withdrawal_rate"),
        ("第3行", "分档“x”格式应为 阈值:得分"),
        ("第3行", "分档“0.7:120”的得分应在 0 到 100 之间"),
        ("第4行", "越低越好", "不允许值（60）应大于满意值（120）"),
        ("第5行", "权重应为大于 0 的数字", "abc"),
        ("第6行", "未知的计分方法“magic”"),
        ("第7行", "target 方法需要目标值"),
        ("第8行", "指标 mediation_success_rate 重复出现"),
        ("第8行", "分档阈值应从高到低排列"),
        ("权重之和应为 100", "实际为 70"),  # 15+15+10+10+10+10 (the bad weight is left out)
    ]
    for parts in expected:
        assert any(all(p in problem for p in parts) for problem in problems), (parts, text)
    assert len(problems) == len(expected)


def test_scheme_missing_columns_and_unreadable_file(tmp_path):
    with pytest.raises(SchemeError) as info:
        parse_scheme("indicator,weight\nabnormal_withdrawal_rate,100\n", catalogue=CAT)
    assert "method" in info.value.problems[0]
    with pytest.raises(SchemeError):
        load_scheme(tmp_path / "absent.csv", catalogue=CAT)


def test_parameters_given_to_a_method_that_does_not_use_them():
    with pytest.raises(SchemeError) as info:
        scheme("disclosure_rate,100,benchmark,0.9,,,0.9:100")
    text = "\n".join(info.value.problems)
    assert "目标值仅用于 target 方法" in text and "分档仅用于 bands 方法" in text


def test_registry_accepts_a_new_method():
    name = "pass_fail_test"
    if name not in METHODS:

        @register_method(name)
        def pass_fail(inp: MethodInput) -> pd.DataFrame:
            return pd.DataFrame({"score": np.where(inp.values >= 0.5, 100.0, 0.0)}, index=inp.values.index)

    with pytest.raises(ValueError):
        register_method(name)(lambda inp: inp.values.to_frame("score"))
    s = scheme(f"disclosure_rate,100,{name},,,,")
    r = score_units(frame({"disclosure_rate": {"a": 0.4, "b": 0.6}}), s)
    assert scores(r, "disclosure_rate") == {"a": 0.0, "b": 100.0}


def test_frame_without_a_scheme_indicator_is_an_error():
    with pytest.raises(ValueError):
        score_units(frame({"disclosure_rate": {"a": 0.4}}), default_scheme(CAT))
