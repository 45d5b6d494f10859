"""Rate limits in the shared cache (Redis): a fixed window per key, counted atomically by every
process (INCR), so a limit holds across web workers. Platform code: names no business table."""
import logging
import time

from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

__all__ = ["rate_allowed"]


def rate_allowed(key, *, limit, window=60):
    """Count one use of `key` (say "duplicate_check:42") in the current window of `window` seconds.
    True while this use is within `limit` for the window, False past it (the window is fixed: its
    count starts again at the next multiple of `window`). When the cache cannot be reached the use
    is allowed (and logged): a limit must not take the feature down with the cache."""
    slot = int(time.time() // window)
    cache_key = f"ratelimit:{key}:{slot}"
    try:
        cache.add(cache_key, 0, timeout=window * 2)
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.set(cache_key, 1, timeout=window * 2)
            count = 1
    except (RedisError, OSError) as exc:
        logger.warning("rate limit %s not counted: %s", key, exc)
        return True
    return count <= limit
