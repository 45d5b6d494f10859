from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .access import user_access
from .capabilities import Capability


def access(request):
    """`crm_access` in templates: the signed-in user's capabilities and module scopes,
    so templates hide what the user cannot do. `Cap` names the capabilities."""
    user = getattr(request, "user", None)
    return {
        "crm_access": SimpleLazyObject(lambda: user_access(user)),
        "Cap": Capability,
        # each language by its own name, as settings.LANGUAGES spells it (never translated)
        "crm_languages": settings.LANGUAGES,
    }
