from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Customers")

    def ready(self):
        # Every installed app's reminder rules (`<app>/reminders.py`), as the admin discovers admin.py.
        from .notifications import autodiscover

        autodiscover()
