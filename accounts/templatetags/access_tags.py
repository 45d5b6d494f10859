from django import template

register = template.Library()


@register.filter
def can(access, capability):
    """{% if crm_access|can:Cap.IMPORT_DATA %}: does the user hold a capability?"""
    return access.has(capability)


@register.filter
def opens(access, module):
    """{% if crm_access|opens:"sales" %}: may the user open a module at all?"""
    return access.can_open(module)
