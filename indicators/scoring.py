"""Performance-assessment scoring (DOMAIN.md "Performance assessment score").

A scheme gives each scored indicator a weight (summing to 100), a method and its parameters.
Methods live in one registry, built-ins included: ``@register_method("efficacy")`` adds one, with
an optional ``check`` that names what is wrong with a scheme row for it. ``score_units`` takes
the engine's indicator frame and returns the composite, its rank and every per-indicator score.

Pure: ``load_scheme`` only reads the file's text (``read_scheme_text``); ``parse_scheme`` parses
and validates it, collecting every problem before raising ``SchemeError``.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from foundation.catalogue import Catalogue, Direction, default_scheme_path
from foundation.i18n import t
from indicators.engine import CITY, MEETS_RTOL

UNIT_TARGET: Literal["unit_target"] = "unit_target"
SCHEME_COLUMNS = ("indicator", "weight", "method", "target", "floor", "ceiling", "bands")
_WEIGHT_TOTAL = 100.0
_WEIGHT_TOL = 1e-6


@dataclass(frozen=True)
class IndicatorRule:
    """One scheme row. ``bands`` are (threshold, score) pairs in the order they are tried."""

    indicator: str
    weight: float
    method: str
    target: float | Literal["unit_target"] | None = None
    floor: float | None = None
    ceiling: float | None = None
    bands: tuple[tuple[float, float], ...] = ()
    direction: Direction = "higher"


@dataclass(frozen=True)
class Scheme:
    name: str
    source: str  # the file it came from
    version: str  # first 12 hex digits of the file's SHA-256: names the exact scheme used
    rules: tuple[IndicatorRule, ...]

    @property
    def indicators(self) -> list[str]:
        return [r.indicator for r in self.rules]


class SchemeError(ValueError):
    """A scheme file with problems; ``problems`` names every one (Chinese, one line each)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class MethodInput:
    """What a method sees for one indicator: every unit's value (index: unit code)."""

    values: pd.Series  # float, NaN where NA
    rule: IndicatorRule
    benchmark: float  # the engine's benchmark: pooled city value for ratios
    unit_targets: pd.Series  # float per unit, NaN where the unit has none


# A method returns a frame indexed like ``values`` with a ``score`` column (NaN where the value is
# NA) and optionally ``method`` (the method actually applied), ``target``, ``floor``, ``ceiling``.
ScoreFunc = Callable[[MethodInput], pd.DataFrame]
CheckFunc = Callable[[IndicatorRule], list[str]]


@dataclass(frozen=True)
class ScoringMethod:
    name: str
    score: ScoreFunc
    check: CheckFunc = field(default=lambda rule: [])


METHODS: dict[str, ScoringMethod] = {}


def register_method(name: str, *, check: CheckFunc | None = None) -> Callable[[ScoreFunc], ScoreFunc]:
    """Register a scoring method under ``name`` (the scheme's ``method`` column)."""

    def decorate(func: ScoreFunc) -> ScoreFunc:
        if name in METHODS:
            raise ValueError(f"scoring method {name} registered twice")
        METHODS[name] = ScoringMethod(name, func, check or (lambda rule: []))
        return func

    return decorate


# --- the built-in methods ----------------------------------------------------------------------


def _frame(inp: MethodInput, score: np.ndarray, **extra: object) -> pd.DataFrame:
    score = np.where(np.isnan(inp.values.to_numpy(dtype=float)), np.nan, score)
    return pd.DataFrame({"score": score, **extra}, index=inp.values.index)


def _target_scores(x: np.ndarray, target: np.ndarray, higher: bool) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if higher:  # min(x/target, 1)·100; a target of 0 is met by anything
            score = np.where(target > 0, np.minimum(x / target, 1.0) * 100, 100.0)
        else:  # min(target/x, 1)·100; x = 0 → 100
            score = np.where(x > 0, np.minimum(target / x, 1.0) * 100, 100.0)
    return np.where(np.isnan(target), np.nan, score)


def _efficacy_bounds(inp: MethodInput) -> tuple[float, float]:
    """The scheme's 不允许值/满意值, else min/max over units with a value (swapped when lower is better)."""
    if inp.rule.floor is not None and inp.rule.ceiling is not None:
        return inp.rule.floor, inp.rule.ceiling
    have = inp.values.dropna()
    if have.empty:
        return math.nan, math.nan
    low, high = float(have.min()), float(have.max())
    return (low, high) if inp.rule.direction == "higher" else (high, low)


def _efficacy_scores(x: np.ndarray, floor: float, ceiling: float) -> np.ndarray:
    if floor == ceiling:
        return np.full(x.shape, 100.0)  # every unit equal: all full marks
    return np.clip(60 + 40 * (x - floor) / (ceiling - floor), 60.0, 100.0)


def _check_target(rule: IndicatorRule) -> list[str]:
    return [t("score.problem.target_missing")] if rule.target is None else []


@register_method("target", check=_check_target)
def target_method(inp: MethodInput) -> pd.DataFrame:
    """min(x/target, 1)·100 (lower is better: min(target/x, 1)·100); unit targets fall back to efficacy."""
    x = inp.values.to_numpy(dtype=float)
    higher = inp.rule.direction == "higher"
    if inp.rule.target != UNIT_TARGET:
        target = np.full(x.shape, float(inp.rule.target))  # type: ignore[arg-type]
        return _frame(inp, _target_scores(x, target, higher), method="target", target=target)
    target = inp.unit_targets.reindex(inp.values.index).to_numpy(dtype=float)
    floor, ceiling = _efficacy_bounds(inp)
    with_target = ~np.isnan(target)
    score = np.where(with_target, _target_scores(x, target, higher), _efficacy_scores(x, floor, ceiling))
    return _frame(
        inp,
        score,
        method=np.where(with_target, "target", "efficacy"),
        target=target,
        floor=np.where(with_target, np.nan, floor),
        ceiling=np.where(with_target, np.nan, ceiling),
    )


@register_method("benchmark")
def benchmark_method(inp: MethodInput) -> pd.DataFrame:
    """Meets the city benchmark → 100, else x/city·100 (lower is better: city/x·100)."""
    x = inp.values.to_numpy(dtype=float)
    city = inp.benchmark
    with np.errstate(divide="ignore", invalid="ignore"):
        close = np.isclose(x, city, rtol=MEETS_RTOL, atol=0.0)  # equality meets, as in the engine
        if inp.rule.direction == "higher":
            meets = (x >= city) | close
            ratio = np.where(city > 0, x / city, 0.0)
        else:
            meets = (x <= city) | close
            ratio = np.where(x > 0, city / x, 1.0)
    score = np.where(meets, 100.0, np.minimum(ratio, 1.0) * 100)
    if math.isnan(city):
        score = np.full(x.shape, np.nan)
    return _frame(inp, score, method="benchmark", target=city)


def _check_floor_ceiling(rule: IndicatorRule) -> list[str]:
    if (rule.floor is None) != (rule.ceiling is None):
        return [t("score.problem.floor_ceiling_pair")]
    if rule.floor is None or rule.ceiling is None:
        return []
    if rule.floor == rule.ceiling:
        return [t("score.problem.floor_equals_ceiling", floor=f"{rule.floor:g}")]
    if (rule.direction == "higher") != (rule.floor < rule.ceiling):
        key = f"score.problem.floor_order_{rule.direction}"
        return [t(key, floor=f"{rule.floor:g}", ceiling=f"{rule.ceiling:g}")]
    return []


@register_method("efficacy", check=_check_floor_ceiling)
def efficacy_method(inp: MethodInput) -> pd.DataFrame:
    """功效系数法: 60 + 40·(x − floor)/(ceiling − floor), clipped to 60..100."""
    x = inp.values.to_numpy(dtype=float)
    floor, ceiling = _efficacy_bounds(inp)
    return _frame(inp, _efficacy_scores(x, floor, ceiling), method="efficacy", floor=floor, ceiling=ceiling)


def _check_bands(rule: IndicatorRule) -> list[str]:
    if not rule.bands:
        return [t("score.problem.bands_missing")]
    thresholds = [b[0] for b in rule.bands]
    if rule.direction == "higher":
        ordered = all(a > b for a, b in zip(thresholds, thresholds[1:], strict=False))
    else:
        ordered = all(a < b for a, b in zip(thresholds, thresholds[1:], strict=False))
    return [] if ordered else [t(f"score.problem.bands_order_{rule.direction}")]


@register_method("bands", check=_check_bands)
def bands_method(inp: MethodInput) -> pd.DataFrame:
    """分档: the first threshold the value reaches (lower is better: stays at or under); none → 0."""
    x = inp.values.to_numpy(dtype=float)
    score = np.zeros(x.shape)
    done = np.zeros(x.shape, dtype=bool)
    for threshold, points in inp.rule.bands:
        hit = ~done & ((x >= threshold) if inp.rule.direction == "higher" else (x <= threshold))
        score = np.where(hit, points, score)
        done |= hit
    return _frame(inp, score, method="bands")


# --- schemes -----------------------------------------------------------------------------------


def read_scheme_text(path: str | Path) -> str:
    """The file's text (UTF-8, a BOM tolerated): the only file access of this package."""
    return Path(path).read_text(encoding="utf-8-sig")


def load_scheme(path: str | Path, *, catalogue: Catalogue) -> Scheme:
    """Read and check a scheme file in the catalogue's CSV format; SchemeError names every problem."""
    path = Path(path)
    try:
        text = read_scheme_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemeError([t("score.problem.unreadable", path=str(path), reason=str(exc))]) from exc
    return parse_scheme(text, catalogue=catalogue, name=path.stem, source=str(path))


def default_scheme(catalogue: Catalogue) -> Scheme:
    """The shipped scheme (``foundation/catalogue_data/scheme_default.csv``)."""
    return load_scheme(default_scheme_path(), catalogue=catalogue)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _parse_bands(text: str, where: str, problems: list[str]) -> tuple[tuple[float, float], ...]:
    bands = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        threshold_text, sep, score_text = part.partition(":")
        threshold, points = _number(threshold_text.strip()), _number(score_text.strip())
        if not sep or threshold is None or points is None:
            problems.append(t("score.problem.band_malformed", where=where, part=part))
            continue
        if not 0 <= points <= 100:
            problems.append(t("score.problem.band_score_range", where=where, part=part))
            continue
        bands.append((threshold, points))
    return tuple(bands)


def parse_scheme(text: str, *, catalogue: Catalogue, name: str = "scheme", source: str = "") -> Scheme:
    """Parse and check a scheme's CSV text. Pure; every problem is collected before raising."""
    problems: list[str] = []
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in SCHEME_COLUMNS if c not in header]
    if missing:
        raise SchemeError([t("score.problem.missing_columns", columns="、".join(missing))])
    rules: list[IndicatorRule] = []
    seen: set[str] = set()
    total = 0.0
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue
        code = row["indicator"]
        where = t("score.problem.where", line=line, indicator=code or "?")
        indicator = catalogue.indicators.get(code)
        if indicator is None:
            close = difflib.get_close_matches(code, list(catalogue.indicators), n=3)
            hint = t("score.problem.did_you_mean", names="、".join(close)) if close else ""
            problems.append(t("score.problem.unknown_indicator", where=where, indicator=code) + hint)
        elif code in seen:
            problems.append(t("score.problem.duplicate_indicator", where=where, indicator=code))
        seen.add(code)

        weight = _number(row["weight"])
        if weight is None or weight <= 0:
            problems.append(t("score.problem.bad_weight", where=where, value=row["weight"]))
        else:
            total += weight
        method = row["method"]
        if method not in METHODS:
            problems.append(
                t("score.problem.unknown_method", where=where, value=method, known="、".join(METHODS))
            )

        target: float | Literal["unit_target"] | None = None
        if row["target"] == UNIT_TARGET:
            target = UNIT_TARGET
        elif row["target"]:
            target = _number(row["target"])
            if target is None or target <= 0:
                problems.append(t("score.problem.bad_target", where=where, value=row["target"]))
                target = None
        if row["target"] and method != "target":
            problems.append(t("score.problem.target_unused", where=where, method=method))

        bounds: dict[str, float | None] = {}
        for col in ("floor", "ceiling"):
            bounds[col] = _number(row[col]) if row[col] else None
            if row[col] and bounds[col] is None:
                problems.append(t("score.problem.bad_number", where=where, column=col, value=row[col]))
        if (row["floor"] or row["ceiling"]) and not (
            method == "efficacy" or (method == "target" and target == UNIT_TARGET)
        ):
            problems.append(t("score.problem.floor_ceiling_unused", where=where, method=method))

        bands: tuple[tuple[float, float], ...] = ()
        if row["bands"]:
            bands = _parse_bands(row["bands"], where, problems)
            if method != "bands":
                problems.append(t("score.problem.bands_unused", where=where, method=method))

        if indicator is None or weight is None or weight <= 0 or method not in METHODS:
            continue
        rule = IndicatorRule(
            indicator=code,
            weight=weight,
            method=method,
            target=target,
            floor=bounds["floor"],
            ceiling=bounds["ceiling"],
            bands=bands,
            direction=indicator.direction,
        )
        already_reported = (row["bands"] and not bands) or (row["target"] and target is None)
        if not already_reported:
            problems.extend(f"{where}{p}" for p in METHODS[method].check(rule))
        rules.append(rule)

    if not seen:
        problems.append(t("score.problem.empty"))
    if seen and abs(total - _WEIGHT_TOTAL) > _WEIGHT_TOL:
        problems.append(t("score.problem.weight_sum", total=f"{total:g}"))
    if problems:
        raise SchemeError(problems)
    version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return Scheme(name=name, source=source, version=version, rules=tuple(rules))


# --- scoring -----------------------------------------------------------------------------------


@dataclass
class ScoreResult:
    """``composite``: unit, composite, rank, respread, na_indicators (sorted by rank).
    ``detail``: unit, indicator, value, method, score, weight, applied_weight, target,
    floor_used, ceiling_used (one row per unit and scheme indicator)."""

    composite: pd.DataFrame
    detail: pd.DataFrame
    scheme: Scheme


def competition_rank(scores: pd.Series, decimals: int = 2) -> pd.Series:
    """Rank by score rounded to ``decimals``, descending; ties share, the next is skipped (1, 2, 2, 4)."""
    return scores.round(decimals).rank(method="min", ascending=False).astype("Int64")


def score_units(
    indicator_frame: pd.DataFrame,
    scheme: Scheme,
    *,
    targets: pd.DataFrame | None = None,
    year: int | None = None,
) -> ScoreResult:
    """Score every unit of ``indicator_frame`` (the engine's output) by ``scheme``.

    ``targets``: columns unit, year, indicator, target (per-unit targets, for ``unit_target``);
    ``year`` picks the targets' year (default: the year of the frame's ``period``).
    """
    frame = indicator_frame[indicator_frame["unit"] != CITY]
    present = set(frame["indicator"].unique())  # not set(column): a Python step per row
    missing = [c for c in scheme.indicators if c not in present]
    if missing:
        raise ValueError(f"indicator frame lacks scheme indicators: {', '.join(missing)}")
    units = pd.Index(pd.unique(frame["unit"]), name="unit")
    if year is None and "period" in frame.columns and not frame.empty:
        year = int(str(frame["period"].iloc[0])[:4])
    wanted = frame[frame["indicator"].isin(scheme.indicators)]
    wide = wanted.pivot(index="unit", columns="indicator", values="value").reindex(units).astype(float)
    benchmarks = wanted.groupby("indicator", sort=False)["benchmark"].first()
    target_table = None
    if targets is not None and not targets.empty and year is not None:
        mine = targets[targets["year"].astype(int) == year]
        mine = mine.drop_duplicates(["unit", "indicator"], keep="last")
        target_table = mine.pivot(index="unit", columns="indicator", values="target").astype(float)

    n_rules, n_units = len(scheme.rules), len(units)
    value = np.full((n_rules, n_units), np.nan)
    score = np.full((n_rules, n_units), np.nan)
    target = np.full((n_rules, n_units), np.nan)
    floor = np.full((n_rules, n_units), np.nan)
    ceiling = np.full((n_rules, n_units), np.nan)
    method = np.empty((n_rules, n_units), dtype=object)
    for row, rule in enumerate(scheme.rules):
        values = wide[rule.indicator]
        if target_table is not None and rule.indicator in target_table:
            unit_targets = target_table[rule.indicator].dropna()
        else:
            unit_targets = pd.Series(dtype=float)
        inp = MethodInput(values, rule, float(benchmarks[rule.indicator]), unit_targets)
        result = METHODS[rule.method].score(inp)
        value[row] = values.to_numpy()
        score[row] = result["score"].to_numpy(dtype=float)
        method[row] = result["method"].to_numpy() if "method" in result else rule.method
        for array, column in ((target, "target"), (floor, "floor"), (ceiling, "ceiling")):
            if column in result:
                array[row] = result[column].to_numpy(dtype=float)

    # Composite over the indicators that apply; an NA indicator's weight goes to the rest.
    applies = ~np.isnan(score)
    weights = np.array([r.weight for r in scheme.rules])[:, None]
    used = np.where(applies, weights, 0.0)
    used_total = used.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        applied_weight = np.where(applies, used * _WEIGHT_TOTAL / used_total, 0.0)
        composite = np.where(
            used_total > 0, np.where(applies, score * weights, 0.0).sum(axis=0) / used_total, np.nan
        )

    codes = np.array(scheme.indicators, dtype=object)
    detail = pd.DataFrame(
        {
            "unit": np.tile(units.to_numpy(dtype=object), n_rules),
            "indicator": np.repeat(codes, n_units),
            "value": value.ravel(),
            "method": method.ravel(),
            "score": score.ravel(),
            "weight": np.repeat(weights[:, 0], n_units),
            "applied_weight": applied_weight.ravel(),
            "target": target.ravel(),
            "floor_used": floor.ravel(),
            "ceiling_used": ceiling.ravel(),
        }
    )
    na_indicators = [list(codes[~applies[:, i]]) for i in range(n_units)]
    result = pd.DataFrame(
        {
            "unit": units.to_numpy(dtype=object),
            "composite": composite,
            "rank": competition_rank(pd.Series(composite)).array,
            "respread": [bool(na) for na in na_indicators],
            "na_indicators": na_indicators,
        }
    )
    result = result.sort_values("rank", na_position="last", kind="stable").reset_index(drop=True)
    return ScoreResult(composite=result, detail=detail, scheme=scheme)
