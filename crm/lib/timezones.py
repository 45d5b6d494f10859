"""The user's time zone (their profile's, else the site's)."""
import zoneinfo

from django.conf import settings


def user_zone(user):
    try:
        return zoneinfo.ZoneInfo(user.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)
