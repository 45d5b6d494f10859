from django.utils.functional import SimpleLazyObject

from .navigation import sections_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": []}
    path = request.path

    def build():
        sections = sections_for(user)
        for section in sections:
            section["active"] = path.startswith(section["url"])
        return sections

    return {"nav_sections": SimpleLazyObject(build)}
