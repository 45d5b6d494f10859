from html import escape

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def select_options(groups, selected=""):
    """The <optgroup>/<option> markup of [(group label, [(value, label), ...]), ...], with `selected`
    (a value or its string) marked; a group with an empty label is not wrapped. A 销售总监 picks
    among a thousand people: one join with the standard library's escape costs about a millisecond,
    where a template loop, or format_html per option, took a large part of the page's time."""
    selected = "" if selected is None else str(selected)
    parts = []
    for group, choices in groups:
        if group:
            parts.append(f'<optgroup label="{escape(str(group))}">')
        for value, label in choices:
            value = str(value)
            mark = " selected" if value == selected else ""
            parts.append(f'<option value="{escape(value)}"{mark}>{escape(str(label))}</option>')
        if group:
            parts.append("</optgroup>")
    return mark_safe("".join(parts))
