from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and access")

    def ready(self):
        # Each app's settings_sections.py registers its section of the settings area (accounts.settings_area).
        from .settings_area import autodiscover

        autodiscover()
