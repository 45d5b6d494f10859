"""The knowledge base (知识库): articles agents write, publish and archive in the browser, the readers'
"helpful?" votes, and articles linked to tickets. Anyone who works in the service module may write;
each write is audited."""
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import user_access
from accounts.capabilities import Module
from crm.lib.audit import audited
from crm.lib.text import cjk_bigrams, fold_text, pinyin_forms

from ..models import Article, ArticleStatus, ArticleVote, TicketArticle
from .tickets import _require_edit

MAX_TERMS = 400
_LATIN_WORD = re.compile(r"[a-z0-9][a-z0-9._-]{1,38}")


def _require_service(by):
    if not user_access(by).can_open(Module.SERVICE):
        raise PermissionDenied


def text_terms(text):
    """The words a text is compared by: its two-character Chinese words and its Latin words (lower case),
    each once, in order of first appearance."""
    folded = fold_text(text).lower()
    return list(dict.fromkeys([*cjk_bigrams(folded), *_LATIN_WORD.findall(folded)]))


def _search_text(title, body):
    title, body = fold_text(title).lower(), fold_text(body).lower()
    full, initials = pinyin_forms(title)
    return f" {title} {full} {initials} {body} "


def article_save(*, by, article=None, title, body, category=None, status=ArticleStatus.DRAFT):
    """Create or change an article; its search text and terms follow its title and text. Publishing sets
    the published time (once). Returns it."""
    _require_service(by)
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise ValidationError({"title" if not title else "body": _("An article needs a title and a text.")})
    with audited(by, "article_save"):
        article = article or Article(author=by)
        article.title, article.body, article.category, article.status = title[:200], body, category, status
        if status == ArticleStatus.PUBLISHED and article.published_at is None:
            article.published_at = timezone.now()
        article.search_text = _search_text(title, body)
        article.terms = [term[:40] for term in text_terms(f"{title} {body}")][:MAX_TERMS]
        if article.pk:
            article.version = F("version") + 1
        article.save()
        article.refresh_from_db()
    return article


def article_viewed(*, article):
    """Count one reading (one UPDATE; the page calls it as it shows the article)."""
    Article.objects.filter(pk=article.pk).update(views=F("views") + 1)


def article_vote(*, article, by, helpful):
    """Record whether the article helped `by` (their earlier vote is replaced)."""
    _require_service(by)
    if article.status != ArticleStatus.PUBLISHED:
        raise ValidationError(_("Only a published article can be rated."))
    ArticleVote.objects.update_or_create(article=article, user=by, defaults={"helpful": helpful,
                                                                            "at": timezone.now()})


def ticket_article_link(*, ticket, article, by):
    """Link a published article to a ticket `by` may change (once)."""
    _require_edit(ticket, by)
    if article.status != ArticleStatus.PUBLISHED:
        raise ValidationError(_("Only a published article can be linked."))
    with audited(by, "ticket_article_link"):
        TicketArticle.objects.get_or_create(ticket=ticket, article=article, defaults={"linked_by": by})
