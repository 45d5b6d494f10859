"""The bell in the top bar. The page renders an empty bell; htmx fills in the count from
`notifications:bell` on load and every minute, so no page pays a query for it."""
from django import template
from django.template.loader import render_to_string

register = template.Library()


@register.simple_tag(takes_context=True)
def notification_bell(context):
    # On a phone the search icon (for those who have customers) already pushes the icons right.
    pushed = any(section["key"] == "customers" for section in context.get("nav_sections") or [])
    return render_to_string("crm/notifications/bell_slot.html", {"pushed": pushed}, request=context.get("request"))
