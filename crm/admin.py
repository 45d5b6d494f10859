from django.contrib import admin

from .models import Customer


def superusers_only(request):
    """The Django admin is a superuser's tool; the product has its own settings area."""
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = superusers_only


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "team", "created_at")
    raw_id_fields = ("owner", "team")
    search_fields = ("name",)
