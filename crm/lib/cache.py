"""The cache backend: Django's Redis cache, failing soft when Redis does not answer.

The cache holds only what can be lost (an import's progress count, a cancel request that the import's
row repeats), so with Redis down a page still answers: a read is a miss and a write is skipped, with a
warning in the log. Operations whose answer decides something (`add`, `incr`, `decr`: claims and
counters) still raise, since pretending there would do the wrong thing.
"""
import functools
import logging

import redis
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)
DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def _soft(fallback):
    def wrap(method):
        @functools.wraps(method)
        def soft(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except DOWN as exc:
                logger.warning("Cache unavailable, %s skipped: %s", method.__name__, exc)
                return fallback(*args, **kwargs) if callable(fallback) else fallback
        return soft
    return wrap


class FailSoftRedisCache(RedisCache):
    get = _soft(lambda key, default=None, version=None: default)(RedisCache.get)
    get_many = _soft({})(RedisCache.get_many)
    has_key = _soft(False)(RedisCache.has_key)
    set = _soft(None)(RedisCache.set)
    set_many = _soft([])(RedisCache.set_many)
    touch = _soft(False)(RedisCache.touch)
    delete = _soft(False)(RedisCache.delete)
    delete_many = _soft(None)(RedisCache.delete_many)
