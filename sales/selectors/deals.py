"""Reads of the sales app, all through the access layer: the deals a user may see, one deal, and a
pipeline's board (columns per stage with count, sum and weighted sum, and the first cards)."""
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone
from django.utils.translation import pgettext

from accounts.access import get_visible_or_404, visible

from ..models import Opportunity, Stage, StageKind
from .history import customer_seen, deal_history, with_customer_visible

BOARD_CARDS = 50  # cards a column shows before "load more"
BOARD_CLOSED_DAYS = 30  # won, lost and invalid columns show the deals closed this recently


def opportunities_visible_to(user):
    return visible(user, Opportunity.objects.all())


def opportunity_for(user, pk, *, write=False):
    """The deal `pk` if the user may see it (404 otherwise; 403 for write=True on a read-only deal)."""
    qs = Opportunity.objects.select_related("customer", "contact", "pipeline", "stage", "owner", "team", "source",
                                            "campaign", "lost_reason")
    return get_visible_or_404(user, qs, pk, write=write)


def stage_visits(opportunity):
    """The deal's stage history, oldest first, with each stage and who moved the deal."""
    return list(opportunity.stage_visits.select_related("stage", "moved_by").order_by("entered_at", "id"))


@dataclass
class Column:
    stage: Stage
    count: int = 0
    total: Decimal = Decimal(0)
    weighted: Decimal = Decimal(0)
    cards: list = field(default_factory=list)

    @property
    def more(self):
        return self.count > len(self.cards)


_WEIGHTED = ExpressionWrapper(F("amount") * F("probability") / Decimal(100),
                              output_field=DecimalField(max_digits=16, decimal_places=2))


def board(user, pipeline, *, per_column=BOARD_CARDS, filters=None, only=None):
    """The pipeline's columns: its stages in order (retired ones only while deals are in them),
    each with the count, sum and weighted sum of the deals the user may see (open ones, and in the
    closed columns those closed in the last BOARD_CLOSED_DAYS days), and the newest `per_column` of
    them. Four queries, however many deals and stages. With `only` (stage ids), just those columns:
    what a moved card changed."""
    since = timezone.now() - datetime.timedelta(days=BOARD_CLOSED_DAYS)
    deals = opportunities_visible_to(user).filter(Q(closed_at=None) | Q(closed_at__gte=since), pipeline=pipeline)
    if filters is not None:
        deals = deals.filter(filters)
    if only is not None:
        deals = deals.filter(stage_id__in=only)
    totals = {row["stage_id"]: row for row in deals.values("stage_id").annotate(
        count=Count("pk"), total=Sum("amount"), weighted=Sum(_WEIGHTED)).order_by()}
    columns = [Column(stage=stage, count=totals.get(stage.pk, {}).get("count", 0),
                      total=totals.get(stage.pk, {}).get("total") or Decimal(0),
                      weighted=totals.get(stage.pk, {}).get("weighted") or Decimal(0))
               for stage in pipeline.stages.prefetch_related("gate_items").order_by("order", "id")
               if (not stage.retired_at or stage.pk in totals) and (only is None or stage.pk in only)]
    by_stage = {column.stage.pk: column for column in columns}
    # The newest cards of each column: one LIMIT per stage (each an index range), in one UNION ALL,
    # then the cards themselves with what they show.
    parts = [deals.filter(stage_id=column.stage.pk).order_by("-pk").values_list("pk", flat=True)[:per_column]
             for column in columns]
    ids = list(parts[0].union(*parts[1:], all=True)) if parts else []
    cards = with_customer_visible(Opportunity.objects.filter(pk__in=ids), user).select_related(
        "customer", "owner", "stage").order_by("-pk")
    for card in cards:
        column = by_stage.get(card.stage_id)
        if column is not None:
            column.cards.append(card)
    return columns


def column_cards(user, pipeline, stage, *, before=None):
    """One column's cards, newest first (older than the deal `before`, if given); the board's
    "load more" pages through them."""
    since = timezone.now() - datetime.timedelta(days=BOARD_CLOSED_DAYS)
    deals = opportunities_visible_to(user).filter(Q(closed_at=None) | Q(closed_at__gte=since), pipeline=pipeline,
                                                  stage=stage)
    if before:
        deals = deals.filter(pk__lt=before)
    return with_customer_visible(deals, user).select_related("customer", "owner", "stage").order_by("-pk")


def opportunity_page(user, opportunity):
    """Everything a deal's page shows, in a fixed number of queries: its pipeline's stages (the
    retired ones only if it is in one), the stage history, each open stage's gate items with whether
    they are ticked and whether this user may tick them, what the user may change, the deal's
    history, and whether the user may see its customer and contact (else the page names neither)."""
    from accounts.access import can_edit

    from ..forms.deals import MoveForm, ProbabilityForm

    stages = [stage for stage in opportunity.pipeline.stages.prefetch_related("gate_items__role").order_by(
        "order", "id") if not stage.retired_at or stage.pk == opportunity.stage_id]
    ticks = {tick.item_id: tick for tick in opportunity.ticks.select_related("ticked_by")}
    my_roles = set(user.roles.values_list("pk", flat=True))
    editable = can_edit(user, opportunity)
    superuser = getattr(user, "is_superuser", False)
    gates = []
    for stage in stages:
        items = [{"item": item, "tick": ticks.get(item.pk),
                  "may_tick": superuser or (item.role_id in my_roles if item.role_id else editable)}
                 for item in stage.gate_items.all()]
        if stage.kind == StageKind.OPEN and (items or stage.required_fields):
            # Translators: the separator between the items of a list ("、" in Chinese).
            fields = pgettext("list separator", ", ").join(str(Stage.GATE_FIELDS[name]) for name in stage.required_fields)
            gates.append({"stage": stage, "items": items, "fields": fields})
    return {
        "opportunity": opportunity, "stages": stages, "visits": stage_visits(opportunity), "gates": gates,
        "history": deal_history(user, opportunity), **customer_seen(user, opportunity),
        "can_edit": editable,
        "move_form": MoveForm(opportunity=opportunity, initial={"stage": opportunity.stage_id,
                                                                  "version": opportunity.version}),
        "probability_form": ProbabilityForm(initial={"probability": opportunity.probability,
                                                     "reason": opportunity.probability_reason}),
    }


def opportunities_of_customer(user, customer, limit=10):
    """The customer's deals the user may see, newest first (the customer page's panel)."""
    deals = opportunities_visible_to(user).filter(customer=customer).select_related("stage", "owner")
    return list(deals.order_by("-pk")[:limit])


def opportunity_list(user, params):
    """The deal list `params` (the list page's query string) describes, as `user` may see it: the
    filterset (for the form) and its deals, newest first, with what a row shows preloaded. With an
    invalid filter value (shown on the form) there are no deals, never the list unfiltered."""
    from ..filters import OpportunityFilter

    deals = with_customer_visible(opportunities_visible_to(user), user).select_related(
        "customer", "stage", "owner", "pipeline")
    filterset = OpportunityFilter(params, queryset=deals, user=user)
    found = filterset.qs if filterset.is_valid() else deals.none()
    return filterset, found.order_by("-pk")
