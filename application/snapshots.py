"""Snapshots of a region's live frames, so that a new process starts from bytes, not a full read.

At national scale the region's current values are 3.5 M rows: a full read from PostgreSQL takes
seconds, loading them from a snapshot a fraction of a second. ``application.service`` writes a
snapshot after a full read and, in a new process, loads it, checks it still belongs to this
database and catches up with the revisions added since (its incremental refresh). A snapshot is
only a shortcut: any process can rebuild everything from the database, and a missing, damaged or
foreign snapshot only means a full read.

Where the bytes live is a small interface (``SnapshotStore``: ``get``/``set`` of bytes under a
string key): ``DirectorySnapshots`` (files in ``IPDASH_SNAPSHOT_DIR``, written atomically) is the
local one; a shared cache (Redis) can provide the same two methods.

Format: a NumPy ``.npz`` archive (no pickle, loaded with ``allow_pickle=False``, so bytes from a
shared cache cannot run code): categorical codes, categories as fixed-width unicode arrays,
values as float64, arrival times as int64, and a small JSON header.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

FORMAT = 1
_CATEGORICAL = ("unit", "period", "measure")


class SnapshotStore(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes) -> None: ...


class DirectorySnapshots:
    """Snapshots as files in ``folder`` (created when missing); a write replaces the file whole."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        return self.folder / (hashlib.sha256(key.encode()).hexdigest()[:40] + ".npz")

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except OSError:
            return None

    def set(self, key: str, value: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self._path(key)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".snapshot-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(value)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@dataclass(frozen=True)
class Snapshot:
    """The live frames of one region as of revision ``last_id`` (``marker``: that revision's
    creation time, to recognise the same database; ``units``: digest of the region's units)."""

    last_id: int
    marker: str
    units: str
    values: pd.DataFrame
    arrivals: pd.DataFrame


def snapshot_key(database: str, region: str) -> str:
    return f"ipdash:frames:v{FORMAT}:{database}:{region}"


def _small_codes(codes: np.ndarray, n: int) -> np.ndarray:
    return codes.astype(np.int16 if n < 2**15 else np.int32)


def encode(snapshot: Snapshot) -> bytes:
    arrays: dict[str, np.ndarray] = {}
    for column in _CATEGORICAL:
        series = snapshot.values[column]
        if not isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype("category")
        cats = series.cat.categories
        arrays[f"v_{column}_codes"] = _small_codes(series.cat.codes.to_numpy(), len(cats))
        arrays[f"v_{column}_cats"] = np.asarray(cats.astype(str), dtype=np.str_)
    arrays["v_value"] = snapshot.values["value"].to_numpy(dtype=np.float64)
    arrivals = snapshot.arrivals
    for column in ("unit", "period"):
        codes, uniques = pd.factorize(arrivals[column].astype(str))
        arrays[f"a_{column}_codes"] = _small_codes(codes, len(uniques))
        arrays[f"a_{column}_cats"] = np.asarray(uniques, dtype=np.str_)
    received = arrivals["first_received_at"]
    time_unit = received.dt.unit
    arrays["a_time"] = received.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().view(np.int64)
    header = {
        "format": FORMAT,
        "last_id": snapshot.last_id,
        "marker": snapshot.marker,
        "units": snapshot.units,
        "time_unit": time_unit,
    }
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def decode(data: bytes) -> Snapshot | None:
    """The snapshot in ``data``; None when it is not one this version can read."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            header = json.loads(archive["header"].tobytes().decode())
            if header.get("format") != FORMAT:
                return None
            values = pd.DataFrame(
                {
                    column: pd.Categorical.from_codes(
                        archive[f"v_{column}_codes"].astype(np.int64),
                        categories=pd.Index(archive[f"v_{column}_cats"].astype(object), dtype="str"),
                    )
                    for column in _CATEGORICAL
                }
            )
            values["value"] = archive["v_value"]
            columns = {}
            for column in ("unit", "period"):
                cats = archive[f"a_{column}_cats"].astype(object)
                columns[column] = pd.Series(cats[archive[f"a_{column}_codes"].astype(np.int64)], dtype="str")
            stamps = archive["a_time"].view(f"datetime64[{header['time_unit']}]")
            columns["first_received_at"] = pd.Series(stamps).dt.tz_localize("UTC")
            arrivals = pd.DataFrame(columns)
    except (
        OSError,
        ValueError,
        KeyError,
        TypeError,
        EOFError,
        zipfile.BadZipFile,
    ):  # damaged or foreign bytes: read the database
        return None
    return Snapshot(int(header["last_id"]), str(header["marker"]), str(header["units"]), values, arrivals)
