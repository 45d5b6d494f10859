from django.shortcuts import render

from accounts.capabilities import Capability
from accounts.permissions import capability_required


@capability_required(Capability.CONFIGURE_PIPELINE)
def pipeline_list(request):
    return render(request, "sales/index.html", {"can_configure": True})
