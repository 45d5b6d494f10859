"""Forms of the ticket pages (the settings pages have theirs in settings_forms.py)."""
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.access import visible
from accounts.models import User
from crm.lib import inputs
from crm.models import Contact

from .models import Article, ArticleCategory, ArticleStatus, ComplaintStep, RootCause, Ticket, TicketStatus, TicketType
from .services import agents_for


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); what they may be is the service's rule."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def files_field():
    return MultipleFileField(label=_("attachments"), required=False,
                             help_text=_("Pictures, PDF, text, Office documents or ZIP files."))


def _agent_label(user):
    return f"{user.name} · {user.team.name}" if user.team_id else user.name


def _types(current=None):
    condition = Q(is_active=True) | Q(pk=current) if current else Q(is_active=True)
    return TicketType.objects.filter(condition)


class TicketForm(forms.ModelForm):
    """A new ticket, or a ticket's own fields: the contacts, deals and contracts offered are the
    customer's that the user may open."""

    version = inputs.IntegerField(widget=forms.HiddenInput, required=False)
    files = files_field()

    class Meta:
        model = Ticket
        fields = ["subject", "type", "priority", "channel", "contact", "description", "opportunity", "contract", "product"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, customer, user, **kwargs):
        from django.db.models import Q

        from sales.models import Contract, Opportunity, Product

        super().__init__(*args, **kwargs)
        self.fields["type"].queryset = _types(self.instance.type_id if self.instance.pk else None)
        self.fields["type"].empty_label = None
        self.fields["contact"].queryset = visible(user, Contact).filter(customer=customer)
        self.fields["opportunity"].queryset = visible(user, Opportunity).filter(customer=customer).order_by("-id")
        self.fields["contract"].queryset = (visible(user, Contract).filter(opportunity__customer=customer)
                                            .order_by("-id"))
        # The catalogue's active products, and the ticket's own even if it has been retired since.
        current = self.instance.product_id if self.instance.pk else None
        self.fields["product"].queryset = Product.objects.filter(Q(is_active=True) | Q(pk=current)).order_by("name")
        if not self.instance.pk:
            del self.fields["version"]
        else:  # files come with replies and notes once the ticket exists
            del self.fields["files"]


class ReplyForm(forms.Form):
    """A reply to the customer or an internal note, and the status the ticket goes to with it."""

    body = forms.CharField(label=_("message"), widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000)
    internal = forms.BooleanField(label=_("internal note (the customer never sees it)"), required=False)
    status = forms.ChoiceField(label=_("then set the status to"), required=False)
    files = files_field()
    version = inputs.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, next_statuses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("(keep as it is)"))] + [(s.value, s.label) for s in next_statuses]


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("status"), choices=TicketStatus.choices)
    version = inputs.IntegerField(widget=forms.HiddenInput, required=False)


class AssignForm(forms.Form):
    """Hand a ticket to one of the agents the user reaches."""

    assignee = forms.ModelChoiceField(queryset=User.objects.none(), label=_("assignee"), required=False,
                                      empty_label=_("(nobody: the team's queue)"))
    version = inputs.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agents_for(user).select_related("team")
        self.fields["assignee"].label_from_instance = _agent_label


class BulkAssignForm(forms.Form):
    """Hand the tickets ticked in a queue to one agent. The ids are checked by the service."""

    ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), label=_("tickets"),
                                         error_messages={"required": _("Tick at least one ticket.")})
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), label=_("assign to"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agents_for(user).select_related("team")
        self.fields["assignee"].label_from_instance = _agent_label
        # Any integers: whether each is the user's to change is the service's question.
        self.fields["ids"].valid_value = lambda value: inputs.parse_id(str(value)) is not None


class ComplaintHandleForm(forms.Form):
    """处理: the root cause and what is changed so that it does not happen again (溯源整改)."""

    root_cause_kind = forms.ChoiceField(label=_("root cause"), choices=[("", "—"), *RootCause.choices])
    root_cause = forms.CharField(label=_("what caused it"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    corrective_action = forms.CharField(label=_("what we change so it does not happen again"),
                                        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ComplaintCallbackForm(forms.Form):
    """回访: does the customer accept the outcome?"""

    accepts = forms.TypedChoiceField(label=_("the customer accepts the outcome"), widget=forms.RadioSelect,
                                     coerce=lambda value: value == "yes",
                                     choices=[("yes", _("Yes")), ("no", _("No: handle it again"))])
    note = forms.CharField(label=_("call-back notes"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
                           required=False)


class ComplaintFilterForm(forms.Form):
    """The complaint register's period (registered from … to …) and step."""

    start = inputs.DateField(label=_("registered from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = inputs.DateField(label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    step = forms.ChoiceField(label=_("step"), required=False, choices=[("", _("all")), *ComplaintStep.choices])


class ArticleForm(forms.ModelForm):
    version = inputs.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Article
        fields = ["title", "category", "status", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 12})}


class ArticleSearchForm(forms.Form):
    q = forms.CharField(label=_("search"), required=False, max_length=100)
    category = forms.ModelChoiceField(label=_("category"), queryset=ArticleCategory.objects.all(), required=False,
                                      empty_label=_("all"))
    status = forms.ChoiceField(label=_("status"), required=False,
                               choices=[("published", ArticleStatus.PUBLISHED.label), ("draft", ArticleStatus.DRAFT.label),
                                        ("archived", ArticleStatus.ARCHIVED.label), ("", _("all"))])
