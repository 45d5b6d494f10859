"""Reads of the customer core. Every one goes through the access layer."""
from django.contrib.contenttypes.models import ContentType

from accounts.access import can_edit, get_visible_or_404, visible
from accounts.models import Share

from .audit import history_of
from .models import Customer


def customers_visible_to(user):
    """Customers `user` may see, newest first, with owner and team preloaded."""
    return visible(user, Customer).select_related("owner", "team").order_by("-id")


def customer_for(user, pk, *, write=False):
    """One customer, or 404 outside the user's reach (403 with write=True on a read-only one)."""
    return get_visible_or_404(user, Customer.objects.select_related("owner", "team"), pk, write=write)


def shares_of(obj):
    """The manual shares on a record, active first."""
    ct = ContentType.objects.get_for_model(obj)
    return (Share.objects.filter(content_type=ct, object_id=obj.pk)
            .select_related("user", "team", "created_by").order_by("-created_at"))


def customer_page(user, pk):
    customer = customer_for(user, pk)
    return {
        "customer": customer,
        "can_edit": can_edit(user, customer),
        "shares": shares_of(customer),
        "history": history_of(customer),
    }
