from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Role, Share, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + (
        ("CRM", {"fields": ("display_name", "mobile", "team", "manager", "roles",
                            "preferred_language", "time_zone", "must_change_password")}),
    )
    list_display = ("username", "display_name", "mobile", "team", "is_active", "is_superuser")
    raw_id_fields = ("team", "manager")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    """Teams are created and moved in the settings area, which keeps the tree paths right."""

    list_display = ("name", "parent", "lead", "path")
    readonly_fields = ("path", "parent")

    def has_add_permission(self, request):
        return False


admin.site.register(Role)
admin.site.register(Share)
