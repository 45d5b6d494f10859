"""Panels the deal page shows for quotes (filled in by the quotes work)."""
from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def deal_lines_panel(context, opportunity):
    return ""


@register.simple_tag(takes_context=True)
def deal_quotes_panel(context, opportunity):
    return ""
