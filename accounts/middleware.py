"""Language and time zone per user (Chinese is the default: a browser's Accept-Language alone
does not switch the interface; the language cookie (the switcher) or the user's preference does),
the forced password change, and answers htmx can follow when a fragment's request needs another page."""
import zoneinfo
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

SUPPORTED = {code for code, _name in settings.LANGUAGES}


def language_for(request):
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if cookie in SUPPORTED:
        return cookie
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.preferred_language in SUPPORTED:
        return user.preferred_language
    return settings.LANGUAGE_CODE


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = language_for(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response


class UserTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        zone = None
        if user is not None and user.is_authenticated and user.time_zone:
            try:
                zone = zoneinfo.ZoneInfo(user.time_zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                zone = None
        if zone:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """A user given a temporary password by an admin must choose their own before anything else."""

    ALLOWED = ("accounts:password_change", "accounts:logout", "set_language")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.must_change_password:
            allowed = {reverse(name) for name in self.ALLOWED}
            if request.path not in allowed and not request.path.startswith(settings.STATIC_URL):
                return redirect("accounts:password_change")
        return self.get_response(request)


class HtmxRedirectMiddleware:
    """A request made by htmx (a fragment: the bell, My day, a modal form) is never answered with a
    redirect. The browser follows a redirect inside the request and htmx swaps the whole page it leads
    to into the fragment: the bell of a user who had to change the password showed the password page,
    whose own bell asked again, forever. So, whoever issued it (a view, `login_required`, the forced
    password change):

    - for someone no longer signed in, a redirect to the login page becomes 401 with a message, and
      `HX-Redirect` to the login page, which shows the message and returns to the page after sign-in
      (not to the fragment); a script's own request (`X-Requested-With`) gets the 401 and the message;
    - any other redirect becomes `HX-Redirect`: htmx loads the page it points to as a whole page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not (300 <= response.status_code < 400 and response.has_header("Location")):
            return response
        htmx = bool(getattr(request, "htmx", False))
        if not htmx and "X-Requested-With" not in request.headers:
            return response
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if not signed_in and urlsplit(response["Location"]).path == resolve_url(settings.LOGIN_URL):
            return self._session_ended(request, response, htmx)
        if not htmx:
            return response
        return _carrying_cookies(response, HttpResponse(headers={"HX-Redirect": response["Location"]}))

    def _session_ended(self, request, response, htmx):
        message = _("Your session has ended. Please sign in again.")
        answer = HttpResponse(message, status=401, content_type="text/plain; charset=utf-8")
        if htmx:
            messages.warning(request, message)
            answer["HX-Redirect"] = login_url_back_to(request.htmx.current_url_abs_path)
        return _carrying_cookies(response, answer)


def login_url_back_to(page):
    """The login page, coming back to `page` (a path on this site, or None) after sign-in."""
    login = resolve_url(settings.LOGIN_URL)
    if not page or urlsplit(page).path == login:
        return login
    return f"{login}?{urlencode({'next': page}, safe='/')}"


def _carrying_cookies(original, answer):
    for cookie in original.cookies.values():
        answer.cookies[cookie.key] = cookie
    return answer
