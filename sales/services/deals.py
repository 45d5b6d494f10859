"""Every write of the sales app: pipeline configuration (pipelines, stages, gates, products) by holders
of sales.stage:configure, and deals (opportunities) by the people who may edit them. Each runs in one
audited transaction; a deal that enters a won or lost stage tells the hooks other apps registered."""
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.access import can_edit, user_access, visible
from accounts.capabilities import Capability
from accounts.services import audited

from ..models import GateItem, GateTick, Opportunity, Pipeline, Product, Stage, StageKind, StageVisit

# Hooks: callables other apps register, called with (opportunity=, by=) after a deal is won or lost,
# inside the same transaction (so a failing hook undoes the move). crm marks the customer a won deal.
WON_HOOKS = []
LOST_HOOKS = []


def on_won(function):
    WON_HOOKS.append(function)
    return function


def on_lost(function):
    LOST_HOOKS.append(function)
    return function


class GateBlocked(ValidationError):
    """The deal may not enter the stage yet: `missing` lists what is missing, as people read it."""

    def __init__(self, stage, missing):
        self.stage, self.missing = stage, missing
        # Translators: the separator between the items of a list ("、" in Chinese).
        separator = pgettext("list separator", ", ")
        super().__init__(_("%(stage)s needs: %(missing)s.") % {"stage": stage.name, "missing": separator.join(missing)})


def _require_configure(by):
    if not user_access(by).has(Capability.CONFIGURE_PIPELINE):
        raise PermissionDenied


# Configuration -----------------------------------------------------------------------------------

def pipeline_save(*, by, pipeline=None, name, teams=(), is_active=True):
    """Create or change a pipeline. A new one starts with the stages every process has: 赢单, 输单 and
    无效 (closed), and one open stage to rename."""
    _require_configure(by)
    name = name.strip()
    if Pipeline.objects.filter(name=name).exclude(pk=getattr(pipeline, "pk", None)).exists():
        raise ValidationError({"name": _("There is already a pipeline called %(name)s.") % {"name": name}})
    with audited(by, "pipeline_save"):
        created = pipeline is None
        if created:
            order = (Pipeline.objects.aggregate(m=Max("order"))["m"] or 0) + 10
            pipeline = Pipeline.objects.create(name=name, is_active=is_active, order=order)
            Stage.objects.bulk_create([
                Stage(pipeline=pipeline, name=_("Initial contact"), kind=StageKind.OPEN, order=10, probability=10),
                Stage(pipeline=pipeline, name=pgettext("stage", "Won"), kind=StageKind.WON, order=900, probability=100),
                Stage(pipeline=pipeline, name=pgettext("stage", "Lost"), kind=StageKind.LOST, order=910, probability=0),
                Stage(pipeline=pipeline, name=pgettext("stage", "Invalid"), kind=StageKind.INVALID, order=920,
                      probability=0),
            ])
        else:
            pipeline.name, pipeline.is_active = name, is_active
            pipeline.save(update_fields=["name", "is_active"])
        pipeline.teams.set(teams)
    return pipeline


def stage_save(*, by, pipeline, stage=None, name, kind=StageKind.OPEN, probability, stale_after_days=None,
               required_fields=()):
    """Create or change a stage. Renaming never touches deals: they and their history refer to the
    stage by id. A new stage goes before the closed ones."""
    _require_configure(by)
    unknown = [f for f in required_fields if f not in Stage.GATE_FIELDS]
    if unknown:
        raise ValidationError({"required_fields": _("Unknown fields: %(fields)s.") % {"fields": ", ".join(unknown)}})
    if not 0 <= probability <= 100:
        raise ValidationError({"probability": _("A probability is between 0 and 100.")})
    with audited(by, "stage_save"):
        if stage is None:
            last_open = pipeline.stages.filter(kind=StageKind.OPEN).aggregate(m=Max("order"))["m"] or 0
            stage = Stage(pipeline=pipeline, order=last_open + 10)
        elif stage.pipeline_id != pipeline.pk:
            raise ValidationError(_("The stage belongs to another pipeline."))
        elif stage.kind == StageKind.OPEN and kind != StageKind.OPEN and _last_open_stage(stage):
            raise ValidationError({"kind": _("A pipeline needs at least one open stage.")})
        stage.name, stage.kind, stage.probability = name.strip(), kind, probability
        stage.stale_after_days, stage.required_fields = stale_after_days, list(required_fields)
        stage.save()
    return stage


def _last_open_stage(stage):
    """Whether `stage` is its pipeline's only open stage in use (a pipeline keeps at least one)."""
    return not stage.pipeline.stages.filter(kind=StageKind.OPEN, retired_at=None).exclude(pk=stage.pk).exists()


def stages_reorder(*, by, pipeline, stage_ids):
    """Put the pipeline's stages in the order of `stage_ids` (all of them, each once)."""
    _require_configure(by)
    current = set(pipeline.stages.values_list("pk", flat=True))
    if set(stage_ids) != current or len(stage_ids) != len(current):
        raise ValidationError(_("The stages changed meanwhile; reload the page and try again."))
    with audited(by, "stages_reorder"):
        stages = [Stage(pk=pk, order=(index + 1) * 10) for index, pk in enumerate(stage_ids)]
        Stage.objects.bulk_update(stages, ["order"])


def stage_retire(*, by, stage, retired=True):
    """A retired stage takes no new deals; the deals in it stay and can move on. A pipeline keeps at
    least one open stage."""
    _require_configure(by)
    if retired and stage.kind == StageKind.OPEN and _last_open_stage(stage):
        raise ValidationError(_("A pipeline needs at least one open stage."))
    with audited(by, "stage_retire"):
        stage.retired_at = timezone.now() if retired else None
        stage.save(update_fields=["retired_at"])
    return stage


def gate_item_save(*, by, stage, item=None, label, role=None):
    _require_configure(by)
    with audited(by, "gate_item_save"):
        if item is None:
            order = (stage.gate_items.aggregate(m=Max("order"))["m"] or 0) + 10
            item = GateItem(stage=stage, order=order)
        item.label, item.role = label.strip(), role
        item.save()
    return item


def gate_item_delete(*, by, item):
    _require_configure(by)
    with audited(by, "gate_item_delete"):
        item.delete()


def product_save(*, by, product=None, code, name, unit="", list_price=Decimal(0), is_active=True):
    _require_configure(by)
    code = code.strip()
    if Product.objects.filter(code=code).exclude(pk=getattr(product, "pk", None)).exists():
        raise ValidationError({"code": _("The code %(code)s is taken.") % {"code": code}})
    with audited(by, "product_save"):
        product = product or Product()
        product.code, product.name, product.unit = code, name.strip(), unit.strip()
        product.list_price, product.is_active = list_price, is_active
        product.save()
    return product


# Deals --------------------------------------------------------------------------------------------

def pipelines_for(user):
    """The active pipelines the user's team may open deals in (all, for a pipeline without teams)."""
    pipelines = Pipeline.objects.filter(is_active=True)
    if user_access(user).is_superuser:
        return pipelines
    team = getattr(user, "team", None)
    limited = Pipeline.teams.through.objects.values("pipeline_id")
    allowed = Q(teams__in=team.ancestor_ids) if team else Q(pk__in=[])
    return pipelines.filter(~Q(pk__in=limited) | allowed).distinct()


def _first_open_stage(pipeline):
    stage = pipeline.stages.filter(kind=StageKind.OPEN, retired_at=None).order_by("order", "id").first()
    if stage is None:
        raise ValidationError(_("The pipeline %(name)s has no open stage.") % {"name": pipeline.name})
    return stage


def opportunity_create(*, by, customer, pipeline, name, amount=Decimal(0), expected_close=None, contact=None,
                       owner=None, source=None, campaign=None, next_step=""):
    """A new deal for a customer `by` may change (Customer.DoesNotExist for one they may not see,
    PermissionDenied for one they may only read, e.g. shared read-only), in the pipeline's first open
    stage. The owner is `by` unless another is given, which needs the assign capability and one of
    `by`'s assignable users; the team is the owner's."""
    from crm.models import Customer
    from crm.selectors.pool import assignable_users

    if not can_edit(by, customer):
        if not visible(by, Customer.objects.filter(pk=customer.pk)).exists():
            raise Customer.DoesNotExist
        raise PermissionDenied
    if owner is not None and owner.pk != by.pk and not (
            user_access(by).has(Capability.ASSIGN_FROM_POOL) and assignable_users(by).filter(pk=owner.pk).exists()):
        raise PermissionDenied
    if not pipelines_for(by).filter(pk=pipeline.pk).exists():
        raise ValidationError({"pipeline": _("Your team does not work in this pipeline.")})
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError({"contact": _("The contact belongs to another customer.")})
    owner = owner or by
    stage = _first_open_stage(pipeline)
    now = timezone.now()
    with audited(by, "opportunity_create"):
        opportunity = Opportunity.objects.create(
            customer=customer, contact=contact, name=name.strip(), pipeline=pipeline, stage=stage, amount=amount,
            expected_close=expected_close, probability=stage.probability, owner=owner, team=owner.team,
            source=source, campaign=campaign, next_step=next_step, stage_entered_at=now, created_by=by)
        StageVisit.objects.create(opportunity=opportunity, stage=stage, entered_at=now, moved_by=by)
    return opportunity


def gate_missing(opportunity, stage):
    """What the deal lacks to enter `stage`: the labels of empty required fields and unticked items."""
    missing = []
    for field in stage.required_fields:
        value = getattr(opportunity, f"{field}_id" if field in ("contact", "source") else field)
        if value in (None, "") or (field == "amount" and not value):
            missing.append(str(Stage.GATE_FIELDS[field]))
    ticked = set(opportunity.ticks.values_list("item_id", flat=True))
    missing.extend(item.label for item in stage.gate_items.all() if item.pk not in ticked)
    return missing


def _require_edit(opportunity, by):
    if not can_edit(by, opportunity):
        if visible(by, Opportunity.objects.filter(pk=opportunity.pk)).exists():
            raise PermissionDenied
        raise Opportunity.DoesNotExist


def locked_deal(opportunity, version=None):
    """The deal's row, locked for the rest of the transaction; refused with a conflict when `version`
    is not its current one (someone saved meanwhile)."""
    locked = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    if version is not None and locked.version != version:
        raise ValidationError(_("Someone else changed this deal meanwhile; reload it and try again."),
                              code="conflict")
    return locked


def opportunity_move(*, opportunity, stage, by, lost_reason=None, version=None):
    """Move the deal to `stage` of its pipeline. Refused (GateBlocked) while the stage's gate is not
    met; a lost stage needs a lost reason. Closes the current stage visit and opens the next one;
    entering won or lost tells the hooks. Returns the deal."""
    _require_edit(opportunity, by)
    if stage.pipeline_id != opportunity.pipeline_id:
        raise ValidationError(_("The stage belongs to another pipeline."))
    if stage.pk == opportunity.stage_id:
        return opportunity
    if stage.retired_at:
        raise ValidationError(_("The stage %(name)s is retired.") % {"name": stage.name})
    if stage.kind == StageKind.LOST and lost_reason is None:
        raise ValidationError({"lost_reason": _("Choose why the deal was lost.")})
    with audited(by, "opportunity_move"):
        locked = locked_deal(opportunity, version)
        missing = gate_missing(locked, stage)
        if missing:
            raise GateBlocked(stage, missing)
        now = timezone.now()
        StageVisit.objects.filter(opportunity=locked, left_at=None).update(left_at=now)
        StageVisit.objects.create(opportunity=locked, stage=stage, entered_at=now, moved_by=by)
        locked.stage, locked.stage_entered_at = stage, now
        if not locked.probability_reason:
            locked.probability = stage.probability
        locked.closed_at = now if stage.is_closed else None
        locked.lost_reason = lost_reason if stage.kind == StageKind.LOST else None
        locked.version = F("version") + 1
        locked.save()
        locked.refresh_from_db()
        hooks = WON_HOOKS if stage.kind == StageKind.WON else LOST_HOOKS if stage.kind == StageKind.LOST else ()
        for hook in hooks:
            hook(opportunity=locked, by=by)
    return locked


def opportunity_tick(*, opportunity, item, by, ticked=True):
    """Tick (or untick) a gate item for the deal. An item with a role is ticked by holders of that role."""
    if not visible(by, Opportunity.objects.filter(pk=opportunity.pk)).exists():
        raise Opportunity.DoesNotExist
    if item.stage.pipeline_id != opportunity.pipeline_id:
        raise ValidationError(_("The item belongs to another pipeline."))
    if item.role_id:
        if not (user_access(by).is_superuser or by.roles.filter(pk=item.role_id).exists()):
            raise PermissionDenied(_("Only a %(role)s may tick this.") % {"role": item.role.name})
    elif not can_edit(by, opportunity):
        raise PermissionDenied
    with audited(by, "opportunity_tick"):
        if ticked:
            GateTick.objects.get_or_create(opportunity=opportunity, item=item, defaults={"ticked_by": by})
        else:
            GateTick.objects.filter(opportunity=opportunity, item=item).delete()


def opportunity_set_probability(*, opportunity, by, probability, reason=""):
    """Override the stage's probability, with a reason; no reason returns to the stage's."""
    _require_edit(opportunity, by)
    reason = reason.strip()
    if reason and not 0 <= probability <= 100:
        raise ValidationError({"probability": _("A probability is between 0 and 100.")})
    with audited(by, "opportunity_probability"):
        opportunity.probability = probability if reason else opportunity.stage.probability
        opportunity.probability_reason = reason
        opportunity.version = F("version") + 1
        opportunity.save(update_fields=["probability", "probability_reason", "version", "updated_at"])
        opportunity.refresh_from_db()
    return opportunity


EDITABLE_FIELDS = ("name", "contact", "amount", "expected_close", "source", "campaign", "next_step")


def opportunity_update(*, opportunity, by, version=None, **fields):
    """Change the deal's own fields (not its stage: opportunity_move does that). Refused with a
    conflict when `version` is not the deal's current one (someone saved meanwhile)."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    _require_edit(opportunity, by)
    contact = fields.get("contact")
    if contact is not None and contact.customer_id != opportunity.customer_id:
        raise ValidationError({"contact": _("The contact belongs to another customer.")})
    with audited(by, "opportunity_update"):
        locked = locked_deal(opportunity, version)
        for name, value in fields.items():
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
        locked.version = F("version") + 1
        locked.save()
        locked.refresh_from_db()
    return locked
