"""Panels the deal page shows for contracts (filled in by the contracts work)."""
from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def deal_contracts_panel(context, opportunity):
    return ""
