"""The knowledge base: agents write and publish articles in the browser; search finds Chinese fragments,
the title's pinyin and initials; drafts stay out of the default list; a ticket is offered the five
published articles most like its text and links one; views and "helpful?" votes are counted."""
import pytest
from django.urls import reverse

from crm.tests.factories import CustomerFactory
from service import services
from service.models import Article, ArticleVote, TicketArticle
from service.selectors import articles_matching, articles_suggested
from service.services.knowledge import article_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles(agent_sh):
    def write(title, body, status="published"):
        return article_save(by=agent_sh, title=title, body=body, status=status)

    return {
        "scanner": write("扫码枪无法连接 WMS", "检查扫码枪的 Wi-Fi 设置，重新配对蓝牙底座，然后在 WMS 里重新登记设备。"),
        "invoice": write("如何重开发票", "在财务模块里作废原发票，再按正确抬头开具。"),
        "login": write("ERP 登录提示会话过期", "把电脑时间与服务器同步；浏览器清除缓存后重新登录。"),
        "draft": write("扫码枪固件升级", "草稿：升级步骤待补充。", status="draft"),
    }


def titles(qs):
    return {a.title for a in qs}


def test_search_finds_fragments_pinyin_and_initials(articles):
    assert titles(articles_matching("扫码")) == {"扫码枪无法连接 WMS"}  # two characters; the draft stays out
    assert titles(articles_matching("saomaqiang")) == {"扫码枪无法连接 WMS"}
    assert titles(articles_matching("smq")) == {"扫码枪无法连接 WMS"}
    assert titles(articles_matching("抬头")) == {"如何重开发票"}  # in the text
    assert titles(articles_matching("erp")) == {"ERP 登录提示会话过期"}
    assert titles(articles_matching("扫码", status="")) == {"扫码枪无法连接 WMS", "扫码枪固件升级"}


def test_a_ticket_is_offered_the_articles_most_like_it_and_links_one(client_for, agent_sh, rep_east, service_desk,
                                                                     articles):
    ticket = services.ticket_create(by=agent_sh, customer=CustomerFactory(owner=rep_east), type=service_desk["故障"],
                                    subject="仓库扫码枪连不上 WMS", description="扫码枪今天早上起都连不上系统")
    suggested = articles_suggested(ticket)
    assert suggested[0] == articles["scanner"] and articles["draft"] not in suggested
    page = client_for(agent_sh).get(ticket.get_absolute_url()).content.decode()
    assert 'data-testid="suggested-article"' in page and "扫码枪无法连接 WMS" in page
    client_for(agent_sh).post(reverse("service:ticket_article_link", args=[ticket.pk, articles["scanner"].pk]))
    assert TicketArticle.objects.get().article == articles["scanner"]
    assert articles["scanner"] not in articles_suggested(ticket)
    client_for(agent_sh).post(reverse("service:ticket_article_link", args=[ticket.pk, articles["draft"].pk]))
    assert TicketArticle.objects.count() == 1  # a draft is not linked


def test_views_and_votes_are_counted(client_for, agent_sh, agent_sh2, articles):
    article = articles["invoice"]
    for _ in range(2):
        client_for(agent_sh).get(article.get_absolute_url())
    client_for(agent_sh).post(reverse("service:article_vote", args=[article.pk]), {"helpful": "1"})
    client_for(agent_sh).post(reverse("service:article_vote", args=[article.pk]), {"helpful": "0"})  # changed mind
    client_for(agent_sh2).post(reverse("service:article_vote", args=[article.pk]), {"helpful": "1"})
    article.refresh_from_db()
    assert article.views == 2
    assert sorted(ArticleVote.objects.values_list("helpful", flat=True)) == [False, True]


def test_an_agent_writes_and_publishes_in_the_browser_forms(client_for, agent_sh):
    client = client_for(agent_sh)
    response = client.post(reverse("service:article_create"), {"title": "打印机卡纸", "status": "draft",
                                                                "body": "打开后盖取出纸张。"})
    article = Article.objects.get()
    assert response.status_code == 302 and article.published_at is None
    client.post(reverse("service:article_edit", args=[article.pk]), {
        "title": "打印机卡纸怎么办", "status": "published", "body": "打开后盖，顺着走纸方向取出纸张。", "version": article.version})
    article.refresh_from_db()
    assert (article.title, article.status) == ("打印机卡纸怎么办", "published") and article.published_at
    assert client.post(reverse("service:article_create"), {"title": "", "status": "draft", "body": ""}).status_code == 422


@pytest.mark.parametrize("url_name", ["service:articles", "service:article_create"])
def test_the_knowledge_base_is_for_the_service_desk(client_for, rep_east, url_name):
    assert client_for(rep_east).get(reverse(url_name)).status_code == 403


def test_an_article_page_is_for_the_service_desk(client_for, rep_east, articles):
    assert client_for(rep_east).get(articles["invoice"].get_absolute_url()).status_code == 403


def test_the_list_and_an_article_take_a_fixed_number_of_queries(client_for, agent_sh, articles,
                                                                  django_assert_max_num_queries):
    client = client_for(agent_sh)
    with django_assert_max_num_queries(9) as few:
        client.get(reverse("service:articles"), {"status": ""})
    for i in range(10):
        article_save(by=agent_sh, title=f"更多文章{i}", body="正文", status="published")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("service:articles"), {"status": ""})
    with django_assert_max_num_queries(11):
        client.get(articles["invoice"].get_absolute_url())
