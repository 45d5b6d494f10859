from django.utils.functional import SimpleLazyObject

from .navigation import sections_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": []}
    path = request.path

    def build():
        sections = sections_for(user)
        # The longest matching URL wins: /customers/my-day/ is "My day", not also "Customers".
        current = max((s for s in sections if path.startswith(s["url"])), key=lambda s: len(s["url"]), default=None)
        for section in sections:
            section["active"] = section is current
        return sections

    return {"nav_sections": SimpleLazyObject(build)}
