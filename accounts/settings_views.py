"""The settings area: users, teams, roles and the access explainer, for admins in the product UI."""
from django.shortcuts import render

from .capabilities import Capability
from .permissions import capability_required


@capability_required(Capability.MANAGE_USERS)
def settings_index(request):
    return render(request, "settings/index.html")
