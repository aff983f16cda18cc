"""Seeded generator of synthetic, plausible monthly returns (NOT official statistics).

Magnitudes follow the public figures quoted in the spec: about 850 patent-dispute administrative
cases a year in Shanghai, about 8,000 successful mediations a year, some 24 aid workstations at
the start of 2023, decisions taking 60–120 days, satisfaction scores around 80. Each unit gets a
share of the city's volume (Pudong largest, Chongming smallest); figures are internally
consistent (cases closed never exceed what was open, withdrawn never exceeds notified), so the
sample loads without warnings other than the ones planted on purpose.

``generate_values`` is vectorised over units (numpy arrays units × months), so it also makes the
national-scale store of the benchmarks (thousands of units, any number of months).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

# Share of the city's volume per unit; the rest (unknown units) get log-normal shares.
SHANGHAI_SHARES: dict[str, float] = {
    "pudong": 0.200,
    "minhang": 0.080,
    "jiading": 0.070,
    "songjiang": 0.070,
    "baoshan": 0.060,
    "xuhui": 0.060,
    "jingan": 0.060,
    "huangpu": 0.050,
    "changning": 0.045,
    "yangpu": 0.045,
    "qingpu": 0.045,
    "putuo": 0.040,
    "fengxian": 0.040,
    "hongkou": 0.035,
    "jinshan": 0.030,
    "lingang": 0.030,
    "chongming": 0.012,
}

# City-wide monthly volume of each flow at share 1.0 (Shanghai scale).
_CITY_MONTHLY = {
    "adjudication_accepted": 72.0,  # ≈ 850 a year
    "enforcement_filed": 260.0,
    "criminal_transfers": 6.0,
    "abnormal_patent_notified": 900.0,
    "malicious_tm_leads": 120.0,
    "aid_services": 400.0,
    "mediation_accepted": 900.0,  # ≈ 8,000 succeeded a year at ~75 %
    "complaints_received": 600.0,
    "exhibitions_served": 18.0,
    "exhibition_complaints": 40.0,
    "ecommerce_leads_handled": 1500.0,
    "gi_spot_checks": 30.0,
    "special_actions": 12.0,
    "patent_preexaminations": 1200.0,
    "overseas_guidance": 25.0,
    "training_sessions": 40.0,
    "typical_cases_reported": 10.0,
    "credit_records_shared": 300.0,
}


def month_range(start: str, end: str) -> list[str]:
    """Inclusive list of YYYY-MM months."""
    y, m = map(int, start.split("-"))
    ey, em = map(int, end.split("-"))
    out = []
    while (y, m) <= (ey, em):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def unit_shares(units: Sequence[str], rng: np.random.Generator) -> np.ndarray:
    known = [SHANGHAI_SHARES.get(u) for u in units]
    if all(k is not None for k in known):
        return np.array(known, dtype=float)
    # Synthetic regions: log-normal sizes (an order of magnitude between small and large),
    # scaled so a unit is on average as big as a Shanghai district.
    raw = rng.lognormal(mean=0.0, sigma=0.8, size=len(units))
    return raw / raw.mean() / 17.0


def generate_values(
    units: Sequence[str],
    months: Sequence[str],
    *,
    seed: int = 20230315,
    with_annual: bool = True,
) -> pd.DataFrame:
    """Long DataFrame ``unit, period, measure, value`` for every unit × month × measure.

    Annual rows (``satisfaction_score``) have period ``YYYY`` for each year touched.
    """
    rng = np.random.default_rng(seed)
    n_u, n_t = len(units), len(months)
    share = unit_shares(units, rng)[:, None]  # (U, 1)
    season = np.array([0.75 if m.endswith("-02") else 1.0 for m in months])[None, :]  # Spring Festival
    # Per-unit habits: how fast they close, how many abnormal applications get withdrawn...
    close_p = rng.uniform(0.35, 0.65, size=(n_u, 1))
    enf_close_p = rng.uniform(0.4, 0.75, size=(n_u, 1))
    disclose_p = rng.uniform(0.80, 1.0, size=(n_u, 1))
    withdraw_p = rng.uniform(0.55, 0.95, size=(n_u, 1))
    handle_p = rng.uniform(0.70, 0.98, size=(n_u, 1))
    mediate_p = rng.uniform(0.65, 0.92, size=(n_u, 1))
    complaint_p = rng.uniform(0.85, 0.995, size=(n_u, 1))
    adj_days = rng.uniform(60, 120, size=(n_u, 1))
    enf_days = rng.uniform(25, 70, size=(n_u, 1))

    def flow(code: str) -> np.ndarray:
        return rng.poisson(_CITY_MONTHLY[code] * share * season * rng.uniform(0.8, 1.2, (n_u, n_t)))

    out: dict[str, np.ndarray] = {code: flow(code) for code in _CITY_MONTHLY}

    # Cases: pending stocks evolve month by month; closed never exceeds what was open.
    adj_closed = np.zeros((n_u, n_t), dtype=np.int64)
    adj_pending = np.zeros((n_u, n_t), dtype=np.int64)
    enf_closed = np.zeros((n_u, n_t), dtype=np.int64)
    enf_pending = np.zeros((n_u, n_t), dtype=np.int64)
    prev_adj = 3 + rng.poisson(2 * _CITY_MONTHLY["adjudication_accepted"] * share[:, 0])
    prev_enf = 3 + rng.poisson(1.5 * _CITY_MONTHLY["enforcement_filed"] * share[:, 0])

    def settle(prev: np.ndarray, opened: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Close a binomial share of what is open, keeping the pending stock within ±40 % of last
        month's (real backlogs move slowly; the validator warns above 50 %)."""
        open_now = prev + opened
        closed = rng.binomial(open_now, p)
        lo = np.maximum(0, open_now - np.floor(prev * 1.4)).astype(np.int64)
        hi = np.maximum(lo, open_now - np.ceil(prev * 0.6)).astype(np.int64)
        closed = np.clip(closed, lo, hi)
        return closed, open_now - closed

    for t in range(n_t):
        adj_closed[:, t], adj_pending[:, t] = settle(
            prev_adj, out["adjudication_accepted"][:, t], close_p[:, 0]
        )
        prev_adj = adj_pending[:, t]
        enf_closed[:, t], enf_pending[:, t] = settle(
            prev_enf, out["enforcement_filed"][:, t], enf_close_p[:, 0]
        )
        prev_enf = enf_pending[:, t]
    out["adjudication_closed"], out["adjudication_pending"] = adj_closed, adj_pending
    out["enforcement_closed"], out["enforcement_pending"] = enf_closed, enf_pending
    closed = adj_closed + enf_closed
    days = adj_closed * adj_days * rng.uniform(0.9, 1.1, (n_u, n_t)) + enf_closed * enf_days
    out["closed_case_days"] = np.rint(days).astype(np.int64)
    out["closed_cases_disclosed"] = rng.binomial(closed, disclose_p)
    amount = enf_closed * rng.lognormal(1.5, 0.6, (n_u, n_t))
    out["amount_involved"] = np.round(amount, 2)
    out["fines_confiscations"] = np.round(amount * rng.uniform(0.1, 0.4, (n_u, n_t)), 2)
    out["abnormal_patent_withdrawn"] = rng.binomial(out["abnormal_patent_notified"], withdraw_p)
    out["malicious_tm_leads_handled"] = rng.binomial(out["malicious_tm_leads"], handle_p)
    out["mediation_succeeded"] = rng.binomial(out["mediation_accepted"], mediate_p)
    out["judicial_confirmations"] = rng.binomial(out["mediation_succeeded"], 0.05)
    out["complaints_closed"] = rng.binomial(out["complaints_received"], complaint_p)
    out["trainees"] = out["training_sessions"] * rng.integers(30, 90, (n_u, n_t))

    # Stocks that only grow: aid workstations (24 city-wide by early 2023), standardized markets.
    start_ws = np.maximum(2, np.rint(share[:, 0] * 18)).astype(np.int64)
    out["aid_workstations"] = start_ws[:, None] + np.cumsum(rng.random((n_u, n_t)) < 0.03, axis=1)
    start_mk = np.maximum(2, np.rint(share[:, 0] * 40)).astype(np.int64)
    out["standardized_markets"] = start_mk[:, None] + np.cumsum(rng.random((n_u, n_t)) < 0.04, axis=1)

    unit_idx, month_idx = np.meshgrid(np.arange(n_u), np.arange(n_t), indexing="ij")
    unit_arr = np.asarray(units, dtype=object)[unit_idx.ravel()]
    month_arr = np.asarray(months, dtype=object)[month_idx.ravel()]
    frames = [
        pd.DataFrame(
            {"unit": unit_arr, "period": month_arr, "measure": code, "value": arr.ravel().astype(float)}
        )
        for code, arr in out.items()
    ]
    if with_annual:
        years = sorted({m[:4] for m in months})
        base = rng.normal(81.0, 2.0, size=n_u)
        for i, year in enumerate(years):
            score = np.clip(base + 0.6 * i + rng.normal(0, 0.8, size=n_u), 70, 95).round(2)
            frames.append(
                pd.DataFrame(
                    {"unit": list(units), "period": year, "measure": "satisfaction_score", "value": score}
                )
            )
    return pd.concat(frames, ignore_index=True)


def receipt_dates(
    units: Sequence[str], months: Sequence[str], *, seed: int = 7
) -> dict[tuple[str, str], date]:
    """When each unit's return for each month was filled in: mostly by the 10th of the next
    month, about one in twelve late (the 11th–20th), so the on-time rate has something to show."""
    rng = np.random.default_rng(seed)
    out: dict[tuple[str, str], date] = {}
    for unit in units:
        for month in months:
            y, m = map(int, month.split("-"))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
            day = int(rng.integers(11, 21)) if rng.random() < 0.08 else int(rng.integers(1, 11))
            out[(unit, month)] = date(y, m, day)
    return out


def workstation_targets(units: Sequence[str], years: Sequence[int], values: pd.DataFrame) -> pd.DataFrame:
    """A per-unit workstation target per year: the count at the start of the year plus one or two."""
    rows = []
    ws = values[values["measure"] == "aid_workstations"]
    for year in years:
        first = ws[ws["period"] == f"{year}-01"].set_index("unit")["value"]
        for i, unit in enumerate(units):
            start = float(first.get(unit, 1.0))
            rows.append(
                {"unit": unit, "year": year, "indicator": "aid_workstations", "target": start + 1 + (i % 2)}
            )
    return pd.DataFrame(rows)
