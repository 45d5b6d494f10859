"""Reads of a user's own exports (each belongs to the user who asked for it)."""
from django.shortcuts import get_object_or_404

from ..models import Export

__all__ = ["export_for", "exports_of"]


def exports_of(user, limit=20):
    """The user's most recent exports, newest first."""
    return Export.objects.filter(user=user).order_by("-created_at", "-id")[:limit]


def export_for(user, pk):
    """One of the user's own exports; anyone else's is a 404."""
    return get_object_or_404(Export, pk=pk, user=user)
