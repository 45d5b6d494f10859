from django.shortcuts import render

from accounts.capabilities import Module
from accounts.permissions import capability_required


@capability_required(module=Module.MARKETING)
def index(request):
    return render(request, "marketing/index.html")
