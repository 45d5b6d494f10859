"""The public service request pages (/support/), open to anyone without signing in: the form, and the
thank-you page after it. They show the new ticket's reference and what the sender typed, nothing
else: never a customer's name, nor whether one was found (service.public decides that unseen).

Bots are kept off by the form's honeypot and fill time (public_forms), and by a limit of requests per
IP address and hour in the shared cache (SERVICE_FORM_PER_IP_HOUR; IPv6 counted per /64, which one
subscriber holds)."""
import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.views import show_service_error
from crm.lib.ratelimit import rate_allowed

from .public import web_request_submit
from .public_forms import ServiceRequestForm, form_token

# What the thank-you page shows, kept in the sender's session between the POST and the page.
SENT = "service_web_request"
_HOUR = 60 * 60


@require_http_methods(["GET", "POST"])
def request_form(request):
    form = ServiceRequestForm(request.POST if request.method == "POST" else None)
    if form.caught_in_honeypot:  # a bot: told all went well, nothing created
        request.session.pop(SENT, None)
        return redirect("support:thanks")
    if form.is_bound and form.is_valid():
        if not rate_allowed(f"service_web_request:{_sender_address(request)}",
                            limit=settings.SERVICE_FORM_PER_IP_HOUR, window=_HOUR):
            return render(request, "service/public/limited.html", status=429)
        try:
            ticket = web_request_submit(**form.submission())
        except ValidationError as error:
            show_service_error(form, error)
        else:
            request.session[SENT] = _as_typed(form, ticket)
            return redirect("support:thanks")
    return render(request, "service/public/request.html", {"form": form, "started": form_token()},
                  status=422 if form.errors else 200)


@require_GET
def request_thanks(request):
    """Shown once: what was sent stays in the session only until this page has shown it (a shared
    computer's next visitor does not find it)."""
    return render(request, "service/public/thanks.html", {"sent": request.session.pop(SENT, None)})


def _as_typed(form, ticket):
    data = form.cleaned_data
    return {"reference": ticket.reference, "name": data["name"], "company": data["company"],
            "mobile": form.data.get("mobile", "").strip() if data["mobile"] else "", "email": data["email"],
            "type": str(data["type"]), "subject": data["subject"], "description": data["description"]}


def _sender_address(request):
    """The key the rate limit counts a sender by: their IPv4 address, or their IPv6 /64. REMOTE_ADDR,
    as the sign-in throttle reads it (the proxy in front sets it)."""
    address = request.META.get("REMOTE_ADDR") or ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64] or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
