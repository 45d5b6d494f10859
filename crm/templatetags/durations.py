"""{{ then|duration:now }}: the time between two moments in one natural unit (crm.lib.durations)."""
from django import template

from crm.lib.durations import duration_words

register = template.Library()


@register.filter
def duration(start, end=None):
    if not start:
        return ""
    return duration_words(start, end or None)
