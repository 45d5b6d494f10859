from django.contrib.auth.backends import ModelBackend
from django.db.models import Q

from .models import User


class UsernameOrMobileBackend(ModelBackend):
    """Sign in with the username (any letter case) or the mobile number."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        login = username.strip()
        candidates = list(User.objects.filter(Q(username__iexact=login) | Q(mobile=login))[:2])
        if len(candidates) != 1:
            User().set_password(password)  # same work as a real check, against timing probes
            return None
        user = candidates[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
