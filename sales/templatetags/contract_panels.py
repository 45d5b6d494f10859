"""Panels the deal page shows for contracts: the deal's contracts with what is paid and outstanding,
and the way to make one when the deal is won or has an accepted quote."""
from django import template
from django.template.loader import render_to_string

from .. import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def deal_contracts_panel(context, opportunity):
    """The contracts panel (two queries at most): contracts the user may see, and a "new contract"
    button for those who may edit the deal once a contract can be made."""
    request = context["request"]
    panel = selectors.contracts_of_deal(request.user, opportunity, editable=bool(context.get("can_edit")))
    return render_to_string("sales/partials/contract_panel.html", {"opportunity": opportunity, **panel},
                            request=request)
