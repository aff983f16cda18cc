"""The response cache of the read-only views (issue 13): many leaders look at the same few views,
so a callback response for the same view and the same data is computed once and then served as
the stored bytes, in any worker — of any host when the cache is Redis.

Which callbacks: those registered with ``guard.callback(..., cache=True)`` — 总览, 排名, 对比, 趋势
and 区详情's figures, whose output depends on nothing but their inputs and the data. Never a
write, a download (audited), a page router (the navigation differs by role) or a callback that
reads which input fired.

Where it sits: in the gate (``dashboard.auth``), after sign-in, CSRF and the callback's own rule
(role, unit scope) have let the request through — so a person is never served what they may not
see, cached or not — and before Dash's callback dispatch, which a hit never reaches. A miss runs
the callback as usual and its response is stored when it is a plain success: status 200, JSON,
no internal error shown (``dashboard.safe`` marks the request); a refusal (403, from the gate),
``PreventUpdate`` (204) or a failure (500) is never stored.

The key (SHA-256 of all of these; the entry is the response body's bytes):
- the callback request as Dash's renderer sends it: ``output``, ``outputs``, ``inputs``, ``state``
  (``changedPropIds`` is left out: no cached callback reads which input fired);
- the data version (``application.versions.views_version``, one small query per request): it
  changes with every upload, restore, target change, scheme choice …, so a write makes the next
  response fresh, in every worker at once;
- today's date in the settings' time zone (returns fall due at local midnight: the on-time rate
  changes then), the settings a view reads (region, due day, time zone, small-denominator
  threshold, language), the catalogue (``IPDASH_CATALOGUE_DIR``'s or the built-in one: units,
  indicators, plan tasks) and its default scoring scheme — a catalogue changed at a restart never
  meets the answers of the old one;
- who is asking, as far as it could change an answer: the role, and a clerk's unit;
- the installed ipdash version (a new release never serves an old release's bytes), under a
  namespace of the database: a random id generated once and kept in it (``app_secret`` row
  ``cache_namespace``) together with its URL (password hidden). Two deployments sharing one Redis
  never mix — not even a copy of a database restored elsewhere (same id, other URL) — and every
  host of one deployment shares, as long as they name the database with the same
  ``IPDASH_DATABASE_URL`` (docs/deployment.md).

Backends: in each worker process (default, at most ``IPDASH_RESPONSE_CACHE_MB``, least recently
used out first), or Redis at ``IPDASH_CACHE_URL`` (entries expire after
``IPDASH_CACHE_TTL_SECONDS``; old data versions are never read again and just age out). When
Redis does not answer (0.5 s timeouts), the worker logs it once, serves uncached for
``REDIS_RETRY_SECONDS`` before trying again, and logs once more when it is back: a user never
sees an error from the cache. Nothing here is state a worker cannot rebuild: an empty cache only
means the next request computes.

Within one worker, requests missing the same key at once compute it once: the others wait for
the first (up to ``FLIGHT_WAIT_SECONDS``) and are then served its stored bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import Counter, OrderedDict
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import flask

from application.access import Account, Role
from foundation.settings import Settings

log = logging.getLogger("dashboard.cache")

CONFIG_KEY = "IPDASH_RESPONSE_CACHE"
NAMESPACE_SECRET = "cache_namespace"
HEADER = "X-IPdash-Cache"  # hit | miss: what the cache did with this callback request
REDIS_TIMEOUT_SECONDS = 0.5
REDIS_RETRY_SECONDS = 10.0
FLIGHT_WAIT_SECONDS = 30.0
_G_KEY = "ipdash_cache_key"
_G_FLIGHT = "ipdash_cache_flight"
FAILED_FLAG = "ipdash_failed"  # set on flask.g by dashboard.safe when a callback showed an internal error


class Backend(Protocol):
    name: str

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes) -> None: ...


class MemoryBackend:
    """Least recently used entries out first once their bytes pass ``max_bytes`` (per process)."""

    name = "memory"

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            self._items[key] = value
            self._bytes += len(value)
            while self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)

    def __len__(self) -> int:
        return len(self._items)


class RedisBackend:
    """Redis through redis-py; any Redis error is logged once and answered as a miss."""

    name = "redis"

    def __init__(self, url: str, ttl_seconds: int) -> None:
        import redis

        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self.client = redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            retry_on_timeout=False,
        )
        self.ttl = ttl_seconds
        self.url = _without_password(url)
        self._down_until = 0.0
        self._down = False
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        if self._skipping():
            return None
        try:
            value = self.client.get(key)
        except self._errors as exc:
            self._failed(exc)
            return None
        self._answered()
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes) -> None:
        if self._skipping():
            return
        try:
            self.client.set(key, value, ex=self.ttl)
        except self._errors as exc:
            self._failed(exc)
            return
        self._answered()

    def _skipping(self) -> bool:
        return self._down and time.monotonic() < self._down_until

    def _failed(self, exc: BaseException) -> None:
        with self._lock:
            first = not self._down
            self._down = True
            self._down_until = time.monotonic() + REDIS_RETRY_SECONDS
        if first:
            log.warning(
                "response cache: Redis at %s does not answer (%s: %s); serving uncached, retrying every %.0f s",
                self.url,
                exc.__class__.__name__,
                exc,
                REDIS_RETRY_SECONDS,
            )

    def _answered(self) -> None:
        if self._down:
            with self._lock:
                was_down, self._down = self._down, False
            if was_down:
                log.warning("response cache: Redis at %s answers again", self.url)


def _without_password(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def make_backend(settings: Settings) -> Backend:
    if settings.cache_url:
        backend: Backend = RedisBackend(settings.cache_url, settings.cache_ttl_seconds)
        log.info("response cache: Redis at %s", _without_password(settings.cache_url))
        return backend
    log.info("response cache: in this process, up to %d MB", settings.response_cache_mb)
    return MemoryBackend(settings.response_cache_mb * 1024 * 1024)


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:16]


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ipdash")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "source"


class ResponseCache:
    """One per app (``install``); the backend is built at first use, in the worker process."""

    def __init__(self, settings: Settings, database_url: str, *, backend: Backend | None = None) -> None:
        self.settings = settings
        self.database_url = database_url
        self.enabled = settings.response_cache
        self._backend = backend
        self._prefix: str | None = None
        self._lock = threading.Lock()
        self._flights: dict[str, threading.Event] = {}
        self.stats: Counter[str] = Counter()  # hit, miss, stored (this process; tests and logs read it)

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    self._backend = make_backend(self.settings)
        return self._backend

    # --- the key -------------------------------------------------------------------------------

    def prefix(self) -> str:
        """``ipdash:<version>:<database namespace>:<configuration>:`` (computed once per process)."""
        if self._prefix is None:
            from sqlalchemy.engine import make_url

            from application.accounts import shared_secret
            from application.submissions import engine_for
            from foundation.catalogue import default_catalogue, default_scheme_path

            engine = engine_for(self.database_url)
            namespace = _fingerprint(
                shared_secret(engine, NAMESPACE_SECRET), make_url(self.database_url).render_as_string()
            )
            s = self.settings
            config = _fingerprint(
                s.region,
                s.due_day,
                s.timezone,
                s.small_denominator,
                s.language,
                repr(default_catalogue()),  # units, measures, indicators, plan tasks
                default_scheme_path().read_text(encoding="utf-8"),  # the shipped default scheme
            )
            self._prefix = f"ipdash:{_installed_version()}:{namespace}:{config}:"
        return self._prefix

    def key(self, who: Account, body: dict[str, Any]) -> str:
        from application.submissions import session_scope
        from application.versions import views_version

        with session_scope(self.database_url) as session:
            version = views_version(session=session)
        today = datetime.now(ZoneInfo(self.settings.timezone)).date().isoformat()
        sight = (who.role.value, who.unit if who.role == Role.CLERK else None)
        # The renderer leaves ``state`` out when a callback has none: the same as an empty list.
        request = {
            "output": body.get("output"),
            "outputs": body.get("outputs"),
            "inputs": body.get("inputs") or [],
            "state": body.get("state") or [],
        }
        material = json.dumps(
            [list(version), today, list(sight), request], sort_keys=True, ensure_ascii=False, default=str
        )
        return self.prefix() + hashlib.sha256(material.encode("utf-8")).hexdigest()

    # --- in the gate and after the callback ----------------------------------------------------

    def serve(self, who: Account, body: dict[str, Any]) -> flask.Response | None:
        """The stored response for this (already allowed, cacheable) request, or None after
        noting the key so ``store`` keeps the callback's response."""
        if not self.enabled:
            return None
        key = self.key(who, body)
        value = self.backend.get(key)
        if value is None:
            value = self._wait_for_flight(key)
        if value is not None:
            self.stats["hit"] += 1
            response = flask.Response(value, status=200, mimetype="application/json")
            response.headers[HEADER] = "hit"
            return response
        self.stats["miss"] += 1
        flask.g.setdefault(_G_KEY, key)
        return None

    def _wait_for_flight(self, key: str) -> bytes | None:
        """When another thread of this process is computing ``key``, wait for it and read its
        result; else become the one computing it (released in ``release``)."""
        with self._lock:
            event = self._flights.get(key)
            if event is None:
                self._flights[key] = threading.Event()
                flask.g.setdefault(_G_FLIGHT, key)
                return None
        event.wait(FLIGHT_WAIT_SECONDS)
        return self.backend.get(key)

    def store(self, response: flask.Response) -> flask.Response:
        key = flask.g.get(_G_KEY)
        if key is None:
            return response
        if (
            response.status_code == 200
            and response.mimetype == "application/json"
            and not flask.g.get(FAILED_FLAG)
            and not response.direct_passthrough
        ):
            self.backend.set(key, response.get_data())
            self.stats["stored"] += 1
        response.headers[HEADER] = "miss"
        return response

    def release(self, _exc: BaseException | None = None) -> None:
        key = flask.g.get(_G_FLIGHT)
        if key is None:
            return
        with self._lock:
            event = self._flights.pop(key, None)
        if event is not None:
            event.set()


def install(server: flask.Flask, settings: Settings) -> ResponseCache:
    from dashboard.data import CONFIG_KEY as DATABASE_KEY

    cache = ResponseCache(settings, server.config.get(DATABASE_KEY) or settings.database_url)
    server.config[CONFIG_KEY] = cache
    server.after_request(cache.store)
    server.teardown_request(cache.release)
    return cache


def of(server: flask.Flask) -> ResponseCache | None:
    found = server.config.get(CONFIG_KEY)
    return found if isinstance(found, ResponseCache) else None
