"""The shared LRU cache: hits skip the computation, the least recently used entry goes first."""

from foundation.cache import LruCache


def test_lru_eviction_and_hits():
    calls = []
    cache: LruCache[int] = LruCache(2)

    def compute(key):
        return lambda: calls.append(key) or len(calls)

    assert cache.get_or_compute("a", compute("a")) == 1
    assert cache.get_or_compute("b", compute("b")) == 2
    assert cache.get_or_compute("a", compute("a")) == 1  # hit: a is now the most recent
    assert cache.get_or_compute("c", compute("c")) == 3  # evicts b, the least recent
    assert len(cache) == 2
    assert cache.get_or_compute("a", compute("a")) == 1
    assert cache.get_or_compute("b", compute("b")) == 4  # b was evicted: computed again
    assert calls == ["a", "b", "c", "b"]
    cache.clear()
    assert len(cache) == 0
