"""Marketing. For now only the campaign a deal can name as its origin; leads, segments and sends
come with the marketing issue and will fill these."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Campaign(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "name"]

    def __str__(self):
        return self.name
