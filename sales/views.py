from django.shortcuts import render

from accounts.capabilities import Module
from accounts.permissions import capability_required


@capability_required(module=Module.SALES)
def index(request):
    return render(request, "sales/index.html")
