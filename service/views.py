"""The service desk's pages: the work queues, a ticket's page with its timeline, opening a ticket from a
customer, replying, notes, status and assignment. Every ticket is read through service.selectors (the
access layer): another team's ticket is a 404, one that may be seen but not changed a 403."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.access import user_access, visible
from accounts.capabilities import Capability, Module
from accounts.permissions import capability_required
from accounts.views import show_service_error
from crm import selectors as crm_selectors
from crm.lib.paging import Ordering, keyset_page, older_page
from crm.lib.timezones import user_zone
from crm.lib.xlsx import xlsx_response
from crm.models import Customer

from . import selectors, services
from .export import complaint_row, complaints_xlsx
from .forms import (
    ArticleForm,
    ArticleSearchForm,
    AssignForm,
    BulkAssignForm,
    ComplaintCallbackForm,
    ComplaintFilterForm,
    ComplaintHandleForm,
    ReplyForm,
    StatusForm,
    TicketForm,
)
from .models import (
    Article,
    ArticleVote,
    Complaint,
    ComplaintStep,
    Survey,
    Ticket,
    TicketAttachment,
    TicketStatus,
    TicketTask,
)
from .services import complaints, knowledge
from .services.surveys import survey_followed_up, survey_issue, survey_url
from .services.tickets import next_statuses

QUEUE_PAGE = 50
QUEUE_ORDER = Ordering("due_at")


@capability_required(module=Module.SERVICE)
def index(request):
    return queue(request)


@capability_required(module=Module.SERVICE)
def queue(request):
    """One work queue (?queue=mine|team|unassigned|breaching|waiting|all), the next due first."""
    keys = dict(selectors.QUEUES)
    key = request.GET.get("queue") if request.GET.get("queue") in keys else "mine"
    page = keyset_page(selectors.queue_of(request.user, key), QUEUE_ORDER, after=request.GET.get("after"),
                       before=request.GET.get("before"), size=QUEUE_PAGE)
    customers = {t.customer_id for t in page.rows}
    shown = set(visible(request.user, Customer.objects.filter(pk__in=customers)).values_list("pk", flat=True))
    for ticket in page.rows:
        ticket.customer_visible = ticket.customer_id in shown
        ticket.sla = selectors.sla_state(ticket)
    return render(request, "service/queue.html", {
        "queues": selectors.QUEUES, "key": key, "title": keys[key], "page": page,
        "bulk_form": BulkAssignForm(user=request.user)})


@require_POST
@capability_required(module=Module.SERVICE)
def tickets_assign(request):
    form = BulkAssignForm(request.POST, user=request.user)
    back = request.POST.get("next_queue", "mine")
    if form.is_valid():
        count = services.tickets_assign(by=request.user, ids=form.cleaned_data["ids"],
                                        assignee=form.cleaned_data["assignee"])
        messages.success(request, ngettext("%(count)d ticket assigned to %(name)s.",
                                           "%(count)d tickets assigned to %(name)s.", count) % {
            "count": count, "name": form.cleaned_data["assignee"].name})
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(reverse("service:queue") + "?queue=" + (back if back in dict(selectors.QUEUES) else "mine"))


@capability_required(module=Module.SERVICE)
def ticket_create(request):
    """Open a ticket for a customer the user may see (?customer=<id>): subject, type and priority are
    enough; the ticket is the user's own."""
    customer = crm_selectors.customer_for(request.user, request.GET.get("customer") or request.POST.get("customer"))
    form = TicketForm(request.POST or None, request.FILES or None, customer=customer, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.ticket_create(
                by=request.user, customer=customer, subject=data["subject"], type=data["type"],
                priority=data["priority"], channel=data["channel"], contact=data["contact"],
                description=data["description"], opportunity=data["opportunity"], contract=data["contract"], product=data["product"],
                files=data["files"])
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("Ticket %(reference)s opened.") % {"reference": ticket.reference})
            return redirect(ticket)
    return render(request, "service/ticket_form.html", {"form": form, "customer": customer},
                  status=422 if form.errors else 200)


@capability_required(module=Module.SERVICE)
def ticket_detail(request, pk):
    context = selectors.ticket_page(request.user, pk)
    ticket = context["ticket"]
    version = {"version": ticket.version}
    survey = context["survey"]
    return render(request, "service/ticket_detail.html", {
        **context,
        "survey_url": survey_url(survey) if survey and context["can_edit"] else "",
        "complaint_steps": ComplaintStep.choices,
        "handle_form": ComplaintHandleForm(), "callback_form": ComplaintCallbackForm(),
        "reply_form": ReplyForm(initial=version, next_statuses=context["next_statuses"]),
        "assign_form": AssignForm(initial={**version, "assignee": ticket.assignee_id}, user=request.user)
        if context["can_edit"] else None,
    })


@capability_required(module=Module.SERVICE)
def ticket_edit(request, pk):
    ticket = selectors.ticket_for(request.user, pk, write=True)
    form = TicketForm(request.POST or None, instance=ticket, customer=ticket.customer, user=request.user,
                      initial={"version": ticket.version})
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.tickets.EDITABLE_FIELDS}
        ticket.refresh_from_db()  # the form wrote its values on the instance; the service compares
        try:
            services.ticket_update(ticket=ticket, by=request.user, version=form.cleaned_data["version"], **data)
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("Ticket saved."))
            return redirect(ticket)
    return render(request, "service/ticket_form.html", {"form": form, "customer": ticket.customer,
                                                        "ticket": ticket}, status=422 if form.errors else 200)


def _act(request, ticket, action):
    """Run a service on the ticket from a button of its page; a refusal is a message on the page."""
    try:
        action()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except Ticket.DoesNotExist:
        raise Http404 from None
    return redirect(ticket)


@require_POST
@capability_required(module=Module.SERVICE)
def ticket_reply(request, pk):
    ticket = selectors.ticket_for(request.user, pk, write=True)
    form = ReplyForm(request.POST, request.FILES, next_statuses=[TicketStatus(s) for s in next_statuses(ticket)])
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(ticket)
    data = form.cleaned_data

    def reply():
        services.ticket_reply(ticket=ticket, by=request.user, body=data["body"], internal=data["internal"],
                              status=data["status"] or None, version=data["version"], files=data["files"])
        messages.success(request, _("Note saved.") if data["internal"] else _("Reply saved."))
    return _act(request, ticket, reply)


@require_POST
@capability_required(module=Module.SERVICE)
def ticket_status(request, pk):
    ticket = selectors.ticket_for(request.user, pk, write=True)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status."))
        return redirect(ticket)
    return _act(request, ticket, lambda: services.ticket_set_status(
        ticket=ticket, by=request.user, status=form.cleaned_data["status"], version=form.cleaned_data["version"]))


@require_POST
@capability_required(module=Module.SERVICE)
def ticket_assign(request, pk):
    ticket = selectors.ticket_for(request.user, pk, write=True)
    form = AssignForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(ticket)
    return _act(request, ticket, lambda: services.ticket_assign(
        ticket=ticket, by=request.user, assignee=form.cleaned_data["assignee"], version=form.cleaned_data["version"]))


@require_POST
@capability_required(module=Module.SERVICE)
def ticket_follow_up(request, pk):
    ticket = selectors.ticket_for(request.user, pk, write=True)
    try:
        new = services.ticket_follow_up(ticket=ticket, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(ticket)
    messages.success(request, _("Ticket %(reference)s opened.") % {"reference": new.reference})
    return redirect(new)


@require_POST
@capability_required(module=Module.SERVICE)
def ticket_check(request, pk, item_pk):
    ticket = selectors.ticket_for(request.user, pk, write=True)
    item = get_object_or_404(TicketTask, pk=item_pk, ticket=ticket)
    done = request.POST.get("done") == "1"
    return _act(request, ticket, lambda: services.ticket_check(ticket=ticket, by=request.user, item=item, done=done))


@capability_required(module=Module.SERVICE)
def ticket_attachment(request, pk, attachment_pk):
    """A ticket's file, to whoever may see the ticket (404 otherwise), always as a download."""
    ticket = selectors.ticket_for(request.user, pk)
    attachment = get_object_or_404(TicketAttachment, pk=attachment_pk, ticket=ticket)
    try:
        file = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(file, as_attachment=True, filename=attachment.name, content_type=attachment.content_type)


@require_POST
@capability_required(module=Module.SERVICE)
def ticket_survey(request, pk):
    """Issue the ticket's survey now, for the agent to copy its link into WeChat or an SMS."""
    ticket = selectors.ticket_for(request.user, pk, write=True)
    return _act(request, ticket, lambda: survey_issue(ticket=ticket, by=request.user))


@require_POST
@capability_required(module=Module.SERVICE)
def ticket_survey_followed_up(request, pk):
    ticket = selectors.ticket_for(request.user, pk, write=True)
    survey = get_object_or_404(Survey, ticket=ticket)
    return _act(request, ticket, lambda: survey_followed_up(survey=survey, by=request.user))


COMPLAINT_STEPS = {"accept": None, "handle": ComplaintHandleForm, "callback": ComplaintCallbackForm, "close": None}


@require_POST
@capability_required(module=Module.SERVICE)
def complaint_step(request, pk, step):
    """One complaint step from the ticket page: accept, handle (root cause and correction), call back, close."""
    ticket = selectors.ticket_for(request.user, pk, write=True)
    if step not in COMPLAINT_STEPS:
        raise Http404
    form_class = COMPLAINT_STEPS[step]
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(ticket)
    data = form.cleaned_data if form is not None else {}
    actions = {
        "accept": lambda: complaints.complaint_accept(ticket=ticket, by=request.user),
        "handle": lambda: complaints.complaint_handle(ticket=ticket, by=request.user, **data),
        "callback": lambda: complaints.complaint_callback(ticket=ticket, by=request.user, **data),
        "close": lambda: complaints.complaint_close(ticket=ticket, by=request.user),
    }
    return _act(request, ticket, actions[step])


REGISTER_PAGE = 50


@capability_required(module=Module.SERVICE)
def complaint_register(request):
    """The complaint register (投诉明细表): the user's complaints with their times, by period and step."""
    form = ComplaintFilterForm(request.GET)
    rows = selectors.complaints_of(request.user, **form.cleaned_data) if form.is_valid() else Complaint.objects.none()
    page = older_page(rows, request.GET, size=REGISTER_PAGE)
    zone = user_zone(request.user)
    return render(request, "service/complaints.html", {
        "form": form, **page, "rows": [(c, complaint_row(c, zone)) for c in page["rows"]],
        "can_export": user_access(request.user).has(Capability.EXPORT_DATA)},
        status=400 if form.errors else 200)


@capability_required(Capability.EXPORT_DATA, module=Module.SERVICE)
def complaint_export(request):
    form = ComplaintFilterForm(request.GET)
    if not form.is_valid():
        messages.error(request, _("These filters are not valid; correct them on the list, then export."))
        return redirect(reverse("service:complaints") + "?" + request.GET.urlencode())
    file, filename = complaints_xlsx(request.user, selectors.complaints_of(request.user, **form.cleaned_data))
    return xlsx_response(file, filename, ascii_name="complaints")



# Knowledge base -----------------------------------------------------------------------------------

@capability_required(module=Module.SERVICE)
def article_list(request):
    """The knowledge base: search by fragment or pinyin, by category and status (published by default)."""
    form = ArticleSearchForm(request.GET or {"status": "published"})
    data = form.cleaned_data if form.is_valid() else {"q": "", "category": None, "status": "published"}
    page = older_page(selectors.articles_matching(data["q"], category=data["category"], status=data["status"]),
                      request.GET, size=REGISTER_PAGE)
    return render(request, "service/articles.html", {"form": form, **page})


@capability_required(module=Module.SERVICE)
def article_detail(request, pk):
    article = get_object_or_404(selectors.articles_matching(status=""), pk=pk)
    knowledge.article_viewed(article=article)
    vote = ArticleVote.objects.filter(article=article, user=request.user).values_list("helpful", flat=True).first()
    return render(request, "service/article_detail.html", {"article": article, "vote": vote})


@capability_required(module=Module.SERVICE)
def article_create(request):
    return _article_form(request, None)


@capability_required(module=Module.SERVICE)
def article_edit(request, pk):
    return _article_form(request, get_object_or_404(Article, pk=pk))


def _article_form(request, article):
    form = ArticleForm(request.POST or None, instance=article, initial={"version": getattr(article, "version", None)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if article is not None:
            article.refresh_from_db()
            if data.get("version") and data["version"] != article.version:
                form.add_error(None, _("Someone else changed this article meanwhile; reload it and try again."))
        if not form.errors:
            try:
                saved = knowledge.article_save(by=request.user, article=article, title=data["title"], body=data["body"],
                                               category=data["category"], status=data["status"])
            except ValidationError as error:
                show_service_error(form, error)
            else:
                messages.success(request, _("Article saved."))
                return redirect(saved)
    return render(request, "service/article_form.html", {"form": form, "article": article},
                  status=422 if form.errors else 200)


@require_POST
@capability_required(module=Module.SERVICE)
def article_vote(request, pk):
    article = get_object_or_404(Article, pk=pk)
    try:
        knowledge.article_vote(article=article, by=request.user, helpful=request.POST.get("helpful") == "1")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Thank you for the feedback."))
    return redirect(article)


@require_POST
@capability_required(module=Module.SERVICE)
def ticket_article_link(request, pk, article_pk):
    ticket = selectors.ticket_for(request.user, pk, write=True)
    article = get_object_or_404(Article, pk=article_pk)
    return _act(request, ticket, lambda: knowledge.ticket_article_link(ticket=ticket, article=article, by=request.user))
