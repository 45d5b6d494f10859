from django.shortcuts import render

from accounts.capabilities import Module
from accounts.permissions import capability_required


@capability_required(module=Module.SERVICE)
def index(request):
    return render(request, "service/index.html")
