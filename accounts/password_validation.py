"""Password validators whose messages are in our catalogue. Django 5.2 words the too-short error
"… at least %d characters." while its zh_Hans catalogue still has only the older wording, so that
one error came out in English among the Chinese ones on every password form."""
from django.contrib.auth import password_validation
from django.utils.translation import ngettext


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self):
        return ngettext(
            "This password is too short: it must have at least %(min_length)d character.",
            "This password is too short: it must have at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}
