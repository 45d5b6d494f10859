from django.shortcuts import render

from accounts.capabilities import Capability
from accounts.permissions import capability_required


@capability_required(Capability.VIEW_DASHBOARDS)
def index(request):
    return render(request, "reports/index.html")
