"""{{ number|phone }}: a stored (E.164) number as people read it, e.g. "138 1234 5678"."""
from django import template

from crm.lib.text import display_phone

register = template.Library()


@register.filter
def phone(value):
    return display_phone(value)
