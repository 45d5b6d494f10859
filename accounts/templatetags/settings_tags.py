from django import template

from accounts.settings_area import sections_for

register = template.Library()


@register.simple_tag(takes_context=True)
def settings_sidebar(context):
    """{% settings_sidebar as sections %}: the settings sections and links the signed-in user may open."""
    return sections_for(context["request"].user)
