"""Why did a unit's composite (and rank) move: the change split into each indicator's contribution.

Pure: two ``ScoreResult``s of the same scheme (this window and the previous comparable one) in, an
``Explanation`` out.

The composite is Σ sᵢ·aᵢ / 100, where aᵢ is the applied weight (wᵢ·100 / Σ applicable w; 0 for
an NA indicator, whose score is null). So the change of the composite is exactly

    ΔC = Σ (s'ᵢ·a'ᵢ − sᵢ·aᵢ) / 100          (an NA score counts 0 with its weight 0)

and each indicator's **contribution** is its term (s'ᵢ·a'ᵢ − sᵢ·aᵢ) / 100. When no indicator
changed between applicable and NA, a'ᵢ = aᵢ and the contribution is the issue's "score change ×
applied weight / 100". When the set of NA indicators changed, the weights were re-spread, and the
contribution is split symmetrically (no order of the two effects is preferred):

    score part   = (s'ᵢ − sᵢ) · (aᵢ + a'ᵢ) / 2 / 100
    weight part  = (a'ᵢ − aᵢ) · (sᵢ + s'ᵢ) / 2 / 100        (score part + weight part = contribution)

An indicator NA in one of the two windows has no score change: its whole contribution is the
weight part (it entered or left the composite; the others' weight parts are the re-spreading).

**Exactly.** The contributions are computed in exact rational arithmetic (``fractions.Fraction``)
from the scores and weights as stored (floats are exact rationals), with the composites recomputed
the same way, so Σ contributions == ΔC holds exactly, not within a tolerance; the floats handed out
are those rationals rounded once. The composite ``score_units`` computes in floating point agrees
with the exact one to about 1e-13 (tested). For display, ``rounded_contributions`` rounds to two
decimals with largest remainders so the shown contributions add up to the shown change (the
difference of the two composites as displayed, two decimals) exactly.

**Overtaking.** Units ranked behind the unit before and ahead of it now *overtook* it; units
ahead before and behind now were *overtaken* by it (strict order: a tie is neither ahead nor
behind). Units without a composite in either window take no part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import pandas as pd

from indicators.scoring import ScoreResult

_HUNDRED = Fraction(100)


@dataclass(frozen=True)
class Contribution:
    indicator: str
    score_before: float | None  # None where NA
    score_now: float | None
    weight_before: float  # applied weight (0 where NA)
    weight_now: float
    contribution: float  # (s'·a' − s·a) / 100
    score_part: float
    weight_part: float
    exact: Fraction  # the contribution, exactly


@dataclass(frozen=True)
class Explanation:
    unit: str
    composite_before: float | None
    composite_now: float | None
    change: float | None  # exactly Σ contributions (rounded once to float)
    exact_change: Fraction | None
    rank_before: int | None
    rank_now: int | None
    contributions: list[Contribution]  # largest |contribution| first
    overtook_it: list[str]  # behind before, ahead now
    overtaken: list[str]  # ahead before, behind now
    units_before: int = 0  # units ranked
    units_now: int = 0

    @property
    def rank_change(self) -> int | None:
        """Places gained (positive = moved up); None when either rank is missing."""
        if self.rank_before is None or self.rank_now is None:
            return None
        return self.rank_before - self.rank_now


def _num(value: object) -> float | None:
    if value is None or value is pd.NA:
        return None
    x = float(value)  # type: ignore[arg-type]
    return None if math.isnan(x) else x


def exact_composite(detail: pd.DataFrame, unit: str) -> Fraction | None:
    """Σ sᵢ·aᵢ / 100 of ``unit`` in exact arithmetic; None when no indicator applies."""
    rows = detail[detail["unit"] == unit]
    total = Fraction(0)
    any_score = False
    for score, weight in zip(rows["score"], rows["applied_weight"], strict=True):
        s = _num(score)
        if s is None:
            continue
        any_score = True
        total += Fraction(s) * Fraction(float(weight)) / _HUNDRED
    return total if any_score else None


def _ranks(result: ScoreResult) -> dict[str, int]:
    frame = result.composite.dropna(subset=["rank"])
    return {str(u): int(r) for u, r in zip(frame["unit"], frame["rank"], strict=True)}


def explain_change(now: ScoreResult, before: ScoreResult, unit: str) -> Explanation:
    """The composite change of ``unit`` from ``before`` to ``now`` split per indicator, and who
    overtook whom. Both results must come from the same scheme (the same indicators)."""
    if now.scheme.indicators != before.scheme.indicators:
        raise ValueError("the two score results use different schemes")
    if unit not in set(now.composite["unit"]):
        raise KeyError(unit)
    d_now = now.detail[now.detail["unit"] == unit].set_index("indicator")
    d_before = before.detail[before.detail["unit"] == unit].set_index("indicator")
    parts: list[Contribution] = []
    for code in now.scheme.indicators:
        s1 = _num(d_now.at[code, "score"]) if code in d_now.index else None
        s0 = _num(d_before.at[code, "score"]) if code in d_before.index else None
        a1 = float(d_now.at[code, "applied_weight"]) if s1 is not None else 0.0
        a0 = float(d_before.at[code, "applied_weight"]) if s0 is not None else 0.0
        f1 = Fraction(s1) * Fraction(a1) if s1 is not None else Fraction(0)
        f0 = Fraction(s0) * Fraction(a0) if s0 is not None else Fraction(0)
        exact = (f1 - f0) / _HUNDRED
        if s1 is not None and s0 is not None:
            score_part = (Fraction(s1) - Fraction(s0)) * (Fraction(a0) + Fraction(a1)) / 2 / _HUNDRED
        else:
            score_part = Fraction(0)
        parts.append(
            Contribution(
                indicator=code,
                score_before=s0,
                score_now=s1,
                weight_before=a0,
                weight_now=a1,
                contribution=float(exact),
                score_part=float(score_part),
                weight_part=float(exact - score_part),
                exact=exact,
            )
        )
    parts.sort(key=lambda c: (-abs(c.exact), now.scheme.indicators.index(c.indicator)))

    c1 = exact_composite(now.detail, unit)
    c0 = exact_composite(before.detail, unit)
    exact_change = c1 - c0 if c1 is not None and c0 is not None else None
    ranks_now, ranks_before = _ranks(now), _ranks(before)
    r1, r0 = ranks_now.get(unit), ranks_before.get(unit)
    overtook_it: list[str] = []
    overtaken: list[str] = []
    if r1 is not None and r0 is not None:
        for other in now.composite["unit"]:
            if other == unit or other not in ranks_now or other not in ranks_before:
                continue
            if ranks_before[other] > r0 and ranks_now[other] < r1:
                overtook_it.append(str(other))
            elif ranks_before[other] < r0 and ranks_now[other] > r1:
                overtaken.append(str(other))
    composite_now = _num(now.composite.set_index("unit").at[unit, "composite"])
    before_frame = before.composite.set_index("unit")
    composite_before = _num(before_frame.at[unit, "composite"]) if unit in before_frame.index else None
    return Explanation(
        unit=unit,
        composite_before=composite_before,
        composite_now=composite_now,
        change=float(exact_change) if exact_change is not None else None,
        exact_change=exact_change,
        rank_before=r0,
        rank_now=r1,
        contributions=parts,
        overtook_it=sorted(overtook_it, key=lambda u: ranks_now[u]),
        overtaken=sorted(overtaken, key=lambda u: ranks_now[u]),
        units_before=len(ranks_before),
        units_now=len(ranks_now),
    )


def rounded_contributions(explanation: Explanation, decimals: int = 2) -> tuple[dict[str, float], float]:
    """Each contribution rounded to ``decimals`` so that they add up to the shown change exactly.

    The shown change is round(composite now) − round(composite before), what a reader computes
    from the two displayed composites. Largest remainder: every contribution is floored to the
    last shown digit, and the units still missing go, one each, to the largest remainders. Returns
    ({indicator: shown contribution}, shown change). Needs both composites.
    """
    if explanation.composite_now is None or explanation.composite_before is None:
        raise ValueError("no change to apportion: a composite is missing")
    scale = 10**decimals
    target = round(explanation.composite_now * scale) - round(explanation.composite_before * scale)
    raw = [(c.indicator, c.exact * scale) for c in explanation.contributions]
    floors = {code: math.floor(x) for code, x in raw}
    missing = target - sum(floors.values())
    # |Σ raw − target| ≤ 1 (each composite moves by at most half a digit when rounded), so missing
    # is 0..n; the loop also copes with the float edge where it would be one beyond.
    order = sorted(raw, key=lambda item: (-(item[1] - math.floor(item[1])), -abs(item[1])))
    step = 1 if missing > 0 else -1
    i = 0
    while missing != 0 and order:
        code = order[i % len(order)][0] if step > 0 else order[-1 - i % len(order)][0]
        floors[code] += step
        missing -= step
        i += 1
    return {code: floors[code] / scale for code, _ in raw}, target / scale
