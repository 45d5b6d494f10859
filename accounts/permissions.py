"""Declaring what a view needs: `permission = Capability.X` or `module = Module.Y` on a class-based
view through `CapabilityRequiredMixin`, or `@capability_required(...)` on a function."""
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied

from .access import user_access


def check(user, *, permission=None, module=None):
    access = user_access(user)
    if permission and not access.has(permission):
        raise PermissionDenied
    if module and not access.can_open(module):
        raise PermissionDenied


class CapabilityRequiredMixin(LoginRequiredMixin):
    permission = None  # a Capability value
    module = None  # a Module value: the user needs some data scope in it

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        check(request.user, permission=self.permission, module=self.module)
        return super().dispatch(request, *args, **kwargs)


def capability_required(permission=None, *, module=None):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            check(request.user, permission=permission, module=module)
            return view(request, *args, **kwargs)

        wrapped.crm_permission = permission
        wrapped.crm_module = module
        return wrapped

    return decorator
