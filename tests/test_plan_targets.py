"""Plan targets "above the benchmark" (高于) and the unit page's scorecard cells: equality does not
meet such a target, and rounding never hides the difference between a value and the benchmark."""

from __future__ import annotations

import math

import pandas as pd

from application.plan_targets import above_targets, meets_above
from foundation.catalogue import CITY, default_catalogue

CAT = default_catalogue()


def test_jingans_plan_asks_for_a_withdrawal_rate_above_the_city() -> None:
    # seed 004 §二(二), task 004-02: "…非正常专利申请撤回率高于全市平均水平。" owner 静安区知识产权局
    assert above_targets("jingan") == {"abnormal_withdrawal_rate": "004-02"}
    # the same task lists malicious_tm_handling_rate without 高于: no "above" target for it;
    # other districts are not owners of the task
    assert above_targets("pudong") == {} and above_targets("hefei") == {}


def test_meets_above_is_strict() -> None:
    assert meets_above(0.74, 0.73) is True
    assert meets_above(0.73, 0.73) is False  # equality does not meet "above"
    assert meets_above(0.1 + 0.2, 0.3) is False  # equal but summed in another order: still equal
    assert meets_above(0.72, 0.73) is False
    assert meets_above(50.0, 55.0, "lower") is True and meets_above(55.0, 55.0, "lower") is False
    assert meets_above(math.nan, 0.73) is None and meets_above(None, 0.73) is None


def _cells(component) -> list[list[str]]:  # noqa: ANN001
    """Text of every body row of a dbc.Table built by dashboard.components.table."""

    def text(node) -> str:  # noqa: ANN001
        if node is None:
            return ""
        if isinstance(node, str | int | float):
            return str(node)
        children = getattr(node, "children", None)
        if isinstance(children, list):
            return "".join(text(c) for c in children)
        return text(children)

    body = component.children[1]
    return [[text(td) for td in tr.children] for tr in body.children]


def test_unit_scorecard_shows_digits_and_strict_above() -> None:
    from dashboard.pages.unit import _scorecard

    def row(unit: str, indicator: str, value: float, meets: object, bench: float) -> dict:
        return {
            "unit": unit,
            "indicator": indicator,
            "value": value,
            "meets_benchmark": meets,
            "small_denominator": False,
            "incomplete": False,
            "rank": 1,
            "benchmark": bench,
        }

    # 静安's withdrawal rate equals the city's exactly (the engine says it meets: equality meets);
    # its mediation rate 0.7308 against 0.7314: both read 73.1% at one decimal
    table = pd.DataFrame(
        [
            row("jingan", "abnormal_withdrawal_rate", 0.731, True, 0.731),
            row(CITY, "abnormal_withdrawal_rate", 0.731, pd.NA, 0.731),
            row("jingan", "mediation_success_rate", 0.7308, False, 0.7314),
            row(CITY, "mediation_success_rate", 0.7314, pd.NA, 0.7314),
        ]
    )
    detail = pd.DataFrame(
        [("jingan", "abnormal_withdrawal_rate", 0.731, 100.0)],
        columns=["unit", "indicator", "target", "score"],
    )
    cells = {r[0]: r for r in _cells(_scorecard(table, detail, "jingan", "shanghai"))}
    withdrawal = cells["非正常专利申请撤回率"]
    assert withdrawal[1:4] == ["73.1%", "73.1%", "未高于"]  # equal: the plan's "above" is not met
    assert withdrawal[4] == "高于全市平均水平（计划任务 004-02）"
    mediation = cells["调解成功率"]
    assert mediation[1:4] == ["73.08%", "73.14%", "低于"]  # one more digit shows why 低于
