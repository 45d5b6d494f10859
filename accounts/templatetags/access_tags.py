from django import template

from accounts.access import user_access

register = template.Library()


@register.filter
def can(access, capability):
    """{% if crm_access|can:Cap.IMPORT_DATA %}: does the user hold a capability?"""
    return access.has(capability)


@register.filter
def opens(access, module):
    """{% if crm_access|opens:"sales" %}: may the user open a module at all?"""
    return access.can_open(module)


@register.simple_tag
def access_of(user):
    return user_access(user)
