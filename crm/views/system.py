"""Pages outside any one area: the home redirect and the health check."""
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache

from ..health import run_checks
from ..navigation import home_url_for


@login_required
def home(request):
    """Each user lands on the home page of their role."""
    return redirect(home_url_for(request.user))


@never_cache  # Cache-Control: no-store (and no-cache, max-age=0): every answer is fresh
def healthz(request):
    """Liveness of PostgreSQL, Redis and the Celery workers (their heartbeat) as JSON; 503 when one is
    down. Public and cheap: one query and one Redis GET (crm.health)."""
    checks = run_checks()
    healthy = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503)
