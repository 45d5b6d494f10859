"""The demo company's service desk: six weeks of tickets on the demo customers, worked by the agent 郑欣
(上海) and waiting in the other teams' queues, in every status, with their replies, notes and status
changes, and the SLA deadlines the seeded policies give on the seeded calendar. Safe to run twice:
nothing is added once a ticket exists."""
import datetime
import random

from django.utils import timezone

from accounts.models import User
from crm.lib.audit import audited
from crm.models import Contact, Customer

from .models import (
    AfterSalesRule,
    CalendarDay,
    Complaint,
    ComplaintStep,
    EntryKind,
    SlaPolicy,
    Ticket,
    TicketEntry,
    TicketStatus,
    TicketType,
    WorkCalendar,
    WorkWindow,
)
from .seed import seed_default_calendar, seed_service_desk
from .selectors import active_sla_policies, working_calendar
from .services.tickets import apply_sla, next_due, record_work_durations

SEED = 20261207

# subject, type, priority, channel, what the customer said, the agent's first answer
SCENARIOS = [
    ("ERP 登录后提示“会话已过期”", "故障", "high", "phone", "财务部三台电脑登录 ERP 后马上提示会话已过期，无法做账。",
     "已远程查看，是浏览器时间与服务器相差 10 分钟，请按附件步骤同步时间后重试。"),
    ("仓库扫码枪连不上 WMS", "故障", "urgent", "phone", "一号仓的 6 把扫码枪今天早上起都连不上系统，发货停了。",
     "工程师已出发，预计 40 分钟到现场；先请用手工单据登记出库。"),
    ("月结报表与财务数据不一致", "故障", "normal", "email", "10 月的应收月结报表比财务系统少了 3 笔，合计 12.6 万。",
     "请提供这 3 笔单据号，我们核对过账日期。"),
    ("如何导出上季度库存报表", "咨询", "low", "wechat", "想把上季度各仓库存导出成 Excel 给老板看。",
     "在 报表 → 库存 → 选择季度 后点“导出”即可，已发操作截图。"),
    ("年度运维服务续费流程", "咨询", "normal", "email", "明年的运维服务合同快到期了，续费需要走什么流程？",
     "已请客户经理刘洋联系您，续费报价本周内发出。"),
    ("新增 5 个用户授权", "售后", "normal", "web", "销售部新来 5 位同事，需要开通账号和权限。",
     "授权已开通，账号密码已发到各自邮箱，首次登录需修改密码。"),
    ("服务器迁移到新机房", "售后", "high", "onsite", "下月初机房搬迁，需要协助迁移 ERP 服务器和数据库。",
     "已安排 11 月 28 日晚上迁移，迁移方案见附件，请确认停机窗口。"),
    ("上门服务人员迟到两小时", "投诉", "high", "phone", "约好上午 9 点上门，11 点多才到，耽误了我们盘点。",
     "非常抱歉，已核实是派单失误，我们会在回访时给出整改措施。"),
    ("希望增加微信审批提醒", "需求", "low", "wechat", "采购审批希望能在企业微信里收到提醒。",
     "需求已记录并转产品经理评估，排期确定后通知您。"),
    ("发票开具错误一直没人处理", "投诉", "normal", "email", "上月的服务费发票抬头开错了，打了三次电话都没人跟进。",
     "非常抱歉给您带来不便，财务已重新开具，今天快递寄出。"),
    ("打印的发货单缺少批次号", "故障", "normal", "email", "新模板打印出来的发货单没有批次号一栏。",
     "模板已更新，请在 打印设置 里重新选择“发货单（含批次）”。"),
]
# (share of the tickets, status) of the demo: most are done, some under way, a few waiting.
OUTCOMES = [(4, TicketStatus.CLOSED), (4, TicketStatus.RESOLVED), (3, TicketStatus.OPEN), (2, TicketStatus.WAITING),
            (2, TicketStatus.NEW)]
TICKETS = 48


def seed_service_demo():
    """Tickets on the demo customers, once. Returns True when any were added."""
    agent = User.objects.filter(username="service").first()
    if agent is None or Ticket.objects.exists():
        return False
    seed_default_calendar(WorkCalendar, WorkWindow, CalendarDay)
    seed_service_desk(TicketType, SlaPolicy)
    rng = random.Random(SEED)
    types = {t.name: t for t in TicketType.objects.all()}
    customers = list(Customer.objects.filter(owner__username__in=["rep_sh", "rep_sh2", "rep_hz", "rep_bj"],
                                             archived_at=None).select_related("team").order_by("pk")[:60])
    contacts = {}
    for contact in Contact.objects.filter(customer__in=customers).order_by("-is_primary", "pk"):
        contacts.setdefault(contact.customer_id, contact)
    outcomes = [status for share, status in OUTCOMES for _ in range(share)]
    policies, clock, now = active_sla_policies(), working_calendar(), timezone.now()
    lead = User.objects.filter(username="manager_east").first()  # the 华东区 lead calls complainants back
    with audited(None, "seed_demo"):
        _after_sales_rule(types)
        _articles(agent)
        for n in range(TICKETS):
            customer = rng.choice(customers)
            status = rng.choice(outcomes) if n >= 6 else TicketStatus.NEW if n < 2 else TicketStatus.OPEN
            # Newer tickets are still being worked on; the done ones are spread over six weeks.
            age = datetime.timedelta(days=rng.uniform(0.1, 3) if status in (TicketStatus.NEW, TicketStatus.OPEN)
                                     else rng.uniform(2, 42))
            _ticket(rng, SCENARIOS[n % len(SCENARIOS)], customer, contacts.get(customer.pk), agent, types, status,
                    _office_hours(rng, now - age, now), now, policies, clock, lead)
        _surveys(random.Random(SEED + 1), now)
    return True


def _surveys(rng, now):
    """The satisfaction surveys of the done tickets, issued as beat issues them once each was resolved, most
    answered within hours: mostly satisfied, a few low scores; NPS asked of each customer's first (see
    services.surveys). What the service report's CSAT and NPS show."""
    from django.conf import settings

    from .models import Survey
    from .services.surveys import survey_token, token_hash

    asked, surveys = set(), []
    done = Ticket.objects.filter(status__in=[TicketStatus.RESOLVED, TicketStatus.CLOSED]).order_by("resolved_at", "pk")
    for ticket in done:
        issued = min(ticket.resolved_at + datetime.timedelta(hours=settings.SERVICE_SURVEY_AFTER_HOURS), now)
        answered = rng.random() < 0.8 and issued < now
        asks = ticket.customer_id not in asked
        asked.add(ticket.customer_id)
        surveys.append(Survey(
            ticket=ticket, customer_id=ticket.customer_id, token_hash=token_hash(survey_token(ticket.pk)),
            asks_nps=asks, created_at=issued,
            expires_at=issued + datetime.timedelta(days=settings.SERVICE_SURVEY_DAYS),
            csat=rng.choices((5, 4, 3, 2, 1), weights=(50, 30, 10, 6, 4))[0] if answered else None,
            nps=rng.choices(range(11), weights=(1, 1, 1, 1, 1, 2, 3, 6, 10, 14, 12))[0] if answered and asks else None,
            answered_at=min(issued + datetime.timedelta(hours=rng.randint(1, 20)), now) if answered else None))
    Survey.objects.bulk_create(surveys)


def _office_hours(rng, moment, now):
    """`moment` moved to a time of the office day (09:00–17:00, Shanghai) on a weekday, not after `now`."""
    local = timezone.localtime(moment).replace(hour=rng.randint(9, 16), minute=rng.randint(0, 59))
    while local.weekday() >= 5 or local >= now:
        local -= datetime.timedelta(days=1)
    return local


def _ticket(rng, scenario, customer, contact, agent, types, status, opened, now, policies, clock, lead):
    subject, type_name, priority, channel, said, answer = scenario
    ours = customer.team_id == agent.team_id  # the agent works their own team's; the others wait in theirs
    ticket = Ticket(customer=customer, contact=contact, subject=subject, description=said, type=types[type_name],
                    priority=priority, channel=channel, assignee=agent if ours else None, team=customer.team,
                    sla_started_at=opened, created_at=opened, created_by=agent if channel == "phone" and ours else None)
    apply_sla(ticket, now=opened, policies=policies, clock=clock)
    author = agent if ours else None
    entries = [TicketEntry(kind=EntryKind.CREATED, body=said, author=ticket.created_by,
                           author_name="" if ticket.created_by else (contact.name if contact else customer.name),
                           created_at=opened)]
    moment = opened
    if status != TicketStatus.NEW:
        moment = min(opened + datetime.timedelta(minutes=rng.randint(20, 300)), now)
        ticket.first_responded_at = moment
        entries += [TicketEntry(kind=EntryKind.REPLY, body=answer, author=author, created_at=moment),
                    TicketEntry(kind=EntryKind.STATUS, field="status", old_value="new", new_value="open", author=author,
                                created_at=moment)]
        ticket.status = TicketStatus.OPEN
    if status == TicketStatus.WAITING:
        ticket.status, ticket.waiting_since = status, moment
        entries.append(TicketEntry(kind=EntryKind.STATUS, field="status", old_value="open", new_value="waiting",
                                   author=author, created_at=moment))
    if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        moment = min(moment + datetime.timedelta(hours=rng.randint(2, 60)), now)
        entries += [TicketEntry(kind=EntryKind.NOTE, body="已与客户电话确认问题解决。", author=author, created_at=moment),
                    TicketEntry(kind=EntryKind.STATUS, field="status", old_value="open", new_value="resolved",
                                author=author, created_at=moment)]
        ticket.status, ticket.resolved_at, ticket.waiting_since = TicketStatus.RESOLVED, moment, moment
    if status == TicketStatus.CLOSED:
        moment = min(moment + datetime.timedelta(days=3), now)
        entries.append(TicketEntry(kind=EntryKind.STATUS, field="status", old_value="resolved", new_value="closed",
                                   author=None, created_at=moment))
        ticket.status, ticket.closed_at = status, moment
    ticket.due_at = next_due(ticket)
    record_work_durations(ticket, clock=clock)  # what the service report's response and resolution times read
    ticket.save()
    for entry in entries:
        entry.ticket = ticket
    TicketEntry.objects.bulk_create(entries)
    if ticket.type.is_complaint:
        _complaint(ticket, author, lead)


def _complaint(ticket, handler, lead):
    """The complaint steps a demo complaint has reached: accepted with the first answer, handled and called
    back (by the team lead) once resolved, closed with the ticket."""
    done = ticket.resolved_at is not None
    Complaint.objects.create(
        ticket=ticket, step=(ComplaintStep.CLOSED if ticket.closed_at else ComplaintStep.CALLED_BACK if done
                             else ComplaintStep.ACCEPTED if ticket.first_responded_at else ComplaintStep.REGISTERED),
        accepted_at=ticket.first_responded_at, accepted_by=handler if ticket.first_responded_at else None,
        handled_at=ticket.resolved_at, handled_by=handler if done else None,
        root_cause_kind="process" if done else "", root_cause="派单时未核对工程师当日行程，导致上门迟到。" if done else "",
        corrective_action="派单后短信提醒工程师并电话与客户确认到场时间；纳入月度考核。" if done else "",
        called_back_at=ticket.resolved_at + datetime.timedelta(hours=20) if done else None,
        called_back_by=lead if done else None,
        customer_accepts=True if done else None, callback_note="客户认可整改措施。" if done else "",
        closed_at=ticket.closed_at)


def _after_sales_rule(types):
    """The project pipeline's won deals open an after-sales ticket (implementation, training, sign-off)."""
    from sales.models import Pipeline

    pipeline = Pipeline.objects.order_by("order", "id").first()
    if pipeline is not None:
        AfterSalesRule.objects.get_or_create(pipeline=pipeline, defaults={
            "type": types["售后"], "priority": "high", "checklist": "安装部署\n数据迁移\n用户培训\n上线验收签字"})


ARTICLES = [
    ("常见故障", "扫码枪无法连接 WMS", "1. 确认扫码枪已连上仓库 Wi-Fi（设置 → 网络）。\n2. 把扫码枪放回蓝牙底座重新配对。\n"
     "3. 在 WMS 的“设备管理”里删除旧设备后重新登记。\n仍不能连接时，记录设备序列号并转二线。"),
    ("常见故障", "ERP 登录后提示“会话已过期”", "多数是电脑时间与服务器相差超过 5 分钟：在 Windows 的“日期和时间”里打开"
     "“自动设置时间”，然后清除浏览器缓存重新登录。"),
    ("操作指南", "如何导出季度库存报表", "报表 → 库存 → 选择季度和仓库 → 点击“导出 Excel”。导出的文件按仓库分工作表。"),
    ("售后服务", "新增用户授权的流程", "客户提供姓名、手机号和部门；在“系统设置 → 用户”中新建账号并分配角色，"
     "首次登录须修改密码。授权数量超出合同时先联系客户经理。"),
    ("售后服务", "服务器迁移前的检查清单", "确认停机窗口；完整备份数据库和附件目录；记录现有 IP 与端口；"
     "迁移后核对最近一周的单据数量。"),
]


def _articles(agent):
    """A few published articles the demo tickets find among their suggestions."""
    from .models import Article, ArticleCategory
    from .services.knowledge import article_save

    if Article.objects.exists():
        return
    for category_name, title, body in ARTICLES:
        category, _created = ArticleCategory.objects.get_or_create(name=category_name)
        article_save(by=agent, title=title, body=body, category=category, status="published")
