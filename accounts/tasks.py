from celery import shared_task
from django.core.cache import cache
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from . import services
from .models import User


@shared_task(name="accounts.tasks.shares_expire")
def shares_expire():
    """Beat: remove shares past their end date. Idempotent: a second run removes nothing."""
    return services.shares_expire()


@shared_task(name="accounts.tasks.notify_password_reset", autoretry_for=(OSError,),
             retry_backoff=True, retry_backoff_max=600, max_retries=5)
def notify_password_reset(*, user_id, event_id):
    """Tell a user by email that an admin reset their password (never the password itself).
    `event_id` makes a redelivered task send nothing more. Returns whether a mail went out."""
    user = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    if user is None:
        return False
    if not cache.add(f"mail:password-reset:{event_id}", 1, timeout=7 * 24 * 3600):
        return False
    with translation.override(user.preferred_language):
        send_mail(
            _("Your CRM password was reset"),
            _("Hello %(name)s,\n\nAn administrator has reset your CRM password. Sign in with the "
              "temporary password they give you; you will be asked to choose a new one.\n\n"
              "If you did not expect this, tell your administrator.") % {"name": user.name},
            None, [user.email],
        )
    return True
