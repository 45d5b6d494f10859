"""django-environ, strict: a variable that is set but does not parse stops the start with its name.

django-environ itself reads any unknown word as false (`DEBUG=ture` would quietly turn DEBUG off), a
float from whatever digits it finds (`1 min` is 1) and a URL it cannot parse as an empty database
configuration; here each is an error, at start-up.
"""
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

REDIS_SCHEMES = ("redis", "rediss", "unix")


class Env(environ.Env):
    BOOLEAN_FALSE_STRINGS = ("false", "off", "no", "n", "0", "")

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(f"The environment variable {var} is malformed: {exc}") from None

    @classmethod
    def parse_value(cls, value, cast):
        if cast is bool and isinstance(value, str):
            if value.strip().lower() not in cls.BOOLEAN_TRUE_STRINGS + cls.BOOLEAN_FALSE_STRINGS:
                raise ValueError(f"{value!r} is none of true/false, yes/no, on/off, 1/0")
        if cast is float and isinstance(value, str):
            return float(value)  # django-environ would drop the letters of "1 min" and read 1
        return super().parse_value(value, cast)

    def db_url(self, var="DATABASE_URL", default=environ.Env.NOTSET, engine=None):
        """A PostgreSQL URL (the only database the project runs on); the message never shows its password."""
        try:
            config = super().db_url(var, default=default, engine=engine)
        except ValueError as exc:
            raise ImproperlyConfigured(f"The environment variable {var} is malformed: {exc}") from None
        if "postgresql" not in config.get("ENGINE", ""):
            raise ImproperlyConfigured(f"The environment variable {var} must be a PostgreSQL URL, "
                                       "e.g. postgres://user:password@host:5432/crm")
        return config

    def url_str(self, var, *, default, schemes=None):
        """A URL as a string, checked to have a scheme (one of `schemes` if given) and a place."""
        value = self.str(var, default=default)
        parts = urlsplit(value)
        if not parts.scheme or (schemes and parts.scheme not in schemes) or not (parts.netloc or parts.path):
            wanted = " or ".join(f"{scheme}://" for scheme in schemes) if schemes else "scheme://"
            raise ImproperlyConfigured(f"The environment variable {var} must be a URL starting with {wanted}")
        return value
