"""Signing in and out, one's own password and preferences, and the language switch."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import services
from .forms import LoginForm, ProfileForm


def _set_language_cookie(response, language):
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language,
        max_age=settings.LANGUAGE_COOKIE_AGE, path=settings.LANGUAGE_COOKIE_PATH,
        secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        _set_language_cookie(response, user.preferred_language)
        return response


class LogoutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        services.user_change_own_password(user=self.request.user, password=form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, self.request.user)
        messages.success(self.request, _("Your password has been changed."))
        return HttpResponseRedirect(self.get_success_url())


@login_required
def profile(request):
    user = request.user
    form = ProfileForm(request.POST or None, initial={
        "preferred_language": user.preferred_language, "time_zone": user.time_zone})
    if request.method == "POST" and form.is_valid():
        services.user_set_preferences(user=user, **form.cleaned_data)
        messages.success(request, _("Your preferences have been saved."))
        response = redirect("accounts:profile")
        _set_language_cookie(response, user.preferred_language)
        return response
    return render(request, "accounts/profile.html", {"form": form})


def posted_next_url(request, default):
    """The form's `next` if it is a path on this site, else `default`. A path only: redirect() would
    take "²" or "home" for the name of a URL pattern and fail to reverse it."""
    url = request.POST.get("next") or ""
    if url.startswith("/") and url_has_allowed_host_and_scheme(url, {request.get_host()},
                                                               require_https=request.is_secure()):
        return url
    return default


@require_POST
def set_language(request):
    """Switch the interface language; a signed-in user's choice is also kept on their profile."""
    language = request.POST.get("language")
    response = redirect(posted_next_url(request, reverse("home")))
    if language in dict(settings.LANGUAGES):
        _set_language_cookie(response, language)
        if request.user.is_authenticated:
            services.user_set_preferences(user=request.user, preferred_language=language)
    return response


def show_service_error(form, error, *, field=None):
    """Put a service's ValidationError on the form: per field when it names fields, else on `field`
    (the input the rule is about) or at the top of the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(field, error)
