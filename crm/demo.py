"""The demo company: teams, one user per persona, three customer pools and a few hundred customers
with contacts and a year of follow-ups. Demo passwords are for local trial only and are printed by
`make run`.

Everything is drawn from the word lists below with a seeded random generator, so two runs (and the
screenshots of the browser tests) show the same company; only the dates move with today. The same
word lists feed the volume generator (`crm.scale`)."""
import datetime
import random

import pgtrigger
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role, Share, Team, User
from accounts.services import audited

from .models import (
    Choice,
    Contact,
    Customer,
    CustomerKind,
    CustomerStatus,
    DealStatus,
    FollowUp,
    Pool,
    PoolEvent,
    Tier,
)
from .seed import seed_choices
from .services.customers import customers_refresh_search
from .services.pool import RETURN_REASONS
from .text import normalise_phone, pinyin_forms

DEMO_PASSWORD = "demo1234"

TEAMS = [  # name, parent name
    ("总部", None), ("华东区", "总部"), ("上海分公司", "华东区"), ("杭州分公司", "华东区"),
    ("华北区", "总部"), ("北京分公司", "华北区"),
]

# username, display name, mobile, team, manager, role, lead of team
PERSONAS = [
    ("admin", "系统管理员 王敏", "13800000001", "总部", None, "系统管理员", False),
    ("director", "销售总监 李强", "13800000002", "总部", None, "销售总监", True),
    ("manager_east", "华东区经理 陈静", "13800000003", "华东区", "director", "区域经理", True),
    ("manager_north", "华北区经理 赵磊", "13800000004", "华北区", "director", "区域经理", True),
    ("rep_sh", "上海销售 刘洋", "13800000005", "上海分公司", "manager_east", "销售代表", False),
    ("rep_sh2", "上海销售 孙悦", "13800000010", "上海分公司", "manager_east", "销售代表", False),
    ("rep_hz", "杭州销售 周婷", "13800000006", "杭州分公司", "manager_east", "销售代表", False),
    ("rep_bj", "北京销售 吴昊", "13800000007", "北京分公司", "manager_north", "销售代表", False),
    ("service", "客服 郑欣", "13800000008", "上海分公司", "manager_east", "客服专员", False),
    ("marketing", "市场 何方", "13800000009", "总部", "director", "市场专员", False),
    ("it", "数据管理员 马骏", "13800000011", "总部", "director", "数据管理员/IT", False),
]

# Customers the browser tests and the README refer to by name, with their owners.
CUSTOMERS = {
    "rep_sh": ["上海浦东华信科技有限公司", "上海申通物流有限公司", "上海明德教育咨询有限公司", "上海锦江餐饮管理有限公司"],
    "rep_sh2": ["上海东方医疗器械有限公司", "上海星辰建筑设计院"],
    "rep_hz": ["杭州西湖软件有限公司", "杭州钱塘电子商务有限公司", "杭州绿源茶业有限公司"],
    "rep_bj": ["北京华信信息技术有限公司", "北京中关村创新科技有限公司", "北京燕京建材有限公司", "北京首都医科设备有限公司"],
    "manager_east": ["江苏苏州工业园区制造有限公司"],
    "director": ["深圳南山智能硬件有限公司"],
}

# Words ------------------------------------------------------------------------------------------
# Company names are city + trade name (字号) + industry word + legal form, e.g. 北京华信信息技术有限公司.

# city: (province, area code, districts)
CITIES = {
    "上海": ("上海", "021", ["浦东新区", "徐汇区", "静安区", "闵行区", "杨浦区", "嘉定区"]),
    "北京": ("北京", "010", ["海淀区", "东城区", "西城区", "丰台区", "通州区", "大兴区"]),
    "天津": ("天津", "022", ["和平区", "河西区", "南开区", "滨海新区"]),
    "杭州": ("浙江", "0571", ["西湖区", "滨江区", "余杭区", "拱墅区", "上城区", "萧山区"]),
    "宁波": ("浙江", "0574", ["鄞州区", "海曙区", "江北区", "北仑区"]),
    "温州": ("浙江", "0577", ["鹿城区", "瓯海区", "龙湾区"]),
    "绍兴": ("浙江", "0575", ["越城区", "柯桥区", "上虞区"]),
    "南京": ("江苏", "025", ["鼓楼区", "玄武区", "秦淮区", "江宁区", "建邺区"]),
    "苏州": ("江苏", "0512", ["姑苏区", "吴中区", "相城区", "虎丘区"]),
    "无锡": ("江苏", "0510", ["梁溪区", "滨湖区", "新吴区", "锡山区"]),
    "常州": ("江苏", "0519", ["天宁区", "钟楼区", "新北区", "武进区"]),
    "合肥": ("安徽", "0551", ["蜀山区", "包河区", "庐阳区", "瑶海区"]),
    "济南": ("山东", "0531", ["历下区", "市中区", "槐荫区", "天桥区"]),
    "青岛": ("山东", "0532", ["市南区", "市北区", "黄岛区", "崂山区"]),
    "石家庄": ("河北", "0311", ["桥西区", "新华区", "裕华区"]),
    "郑州": ("河南", "0371", ["金水区", "二七区", "中原区", "郑东新区"]),
    "武汉": ("湖北", "027", ["江汉区", "武昌区", "洪山区", "江岸区"]),
    "成都": ("四川", "028", ["武侯区", "锦江区", "青羊区", "成华区", "高新区"]),
    "西安": ("陕西", "029", ["雁塔区", "碑林区", "未央区", "新城区"]),
    "广州": ("广东", "020", ["天河区", "越秀区", "海珠区", "番禺区", "白云区"]),
    "深圳": ("广东", "0755", ["南山区", "福田区", "罗湖区", "宝安区", "龙岗区"]),
    "福州": ("福建", "0591", ["鼓楼区", "台江区", "仓山区"]),
    "沈阳": ("辽宁", "024", ["和平区", "沈河区", "皇姑区", "浑南区"]),
    "大连": ("辽宁", "0411", ["中山区", "西岗区", "沙河口区", "甘井子区"]),
}

TRADE_NAMES = [
    "华信", "恒远", "鼎盛", "瑞丰", "金诚", "博雅", "天成", "新元", "宏达", "远航", "盛世", "中联", "银河",
    "东方", "华夏", "海纳", "恒通", "联创", "智达", "正泰", "永信", "明德", "嘉禾", "卓越", "万通", "利民",
    "康泰", "安达", "同创", "众诚", "德润", "润泽", "泰和", "鑫源", "鸿运", "锦程", "晨光", "星辰", "蓝天",
    "绿源", "金桥", "启航", "精工", "国泰", "顺达", "宝华", "信达", "天合", "凯盛", "华瑞", "诚信", "亿达",
    "九州", "百川", "千禾", "方圆", "立信", "益民", "宏图", "致远", "兴业", "中科", "汇通", "创元", "华泰",
    "嘉诚", "瑞祥", "金源", "天宇", "新峰", "腾飞", "森林", "海天", "思源", "育才", "安泰", "永安", "华辰",
    "宇航", "华康", "美达", "佳联", "合众", "联华", "飞鸿", "云帆", "昊天", "春晖", "青松", "锦华", "鼎新",
    "立达", "华研", "明远", "浩宇", "英泰", "科瑞", "润华", "拓普", "新锐", "盈科", "信诚", "天元", "金鹏",
]

# industry word: picklist code of the industry it belongs to
INDUSTRY_WORDS = {
    "信息技术": "it", "软件": "it", "网络科技": "it", "电子科技": "it", "数据科技": "it", "智能科技": "it",
    "通信技术": "it", "机械制造": "manufacturing", "精密机械": "manufacturing", "汽车零部件": "manufacturing",
    "电气设备": "manufacturing", "新材料": "manufacturing", "塑胶制品": "manufacturing",
    "包装材料": "manufacturing", "五金制品": "manufacturing", "投资管理": "finance", "融资租赁": "finance",
    "资产管理": "finance", "保险代理": "finance", "教育咨询": "education", "教育科技": "education",
    "职业培训": "education", "医疗器械": "healthcare", "生物医药": "healthcare", "医药": "healthcare",
    "健康管理": "healthcare", "商贸": "retail", "贸易": "retail", "食品": "retail", "服饰": "retail",
    "家居用品": "retail", "电子商务": "retail", "物流": "logistics", "供应链管理": "logistics",
    "国际货运": "logistics", "仓储服务": "logistics", "新能源": "energy", "电力工程": "energy",
    "环保科技": "energy", "节能技术": "energy", "建筑工程": "other", "装饰工程": "other", "建材": "other",
    "文化传媒": "other", "广告": "other", "人力资源": "other", "物业管理": "other", "餐饮管理": "other",
    "酒店管理": "other", "检测技术": "other", "咨询服务": "other",
}

# legal form: weight (out of 100)
LEGAL_FORMS = {"有限公司": 62, "有限责任公司": 12, "股份有限公司": 10, "集团有限公司": 6, "中心": 10}

# Mobile prefixes that phonenumbers accepts as Chinese mobiles.
MOBILE_PREFIXES = [f"13{d}" for d in range(10)] + ["150", "151", "152", "153", "155", "156", "157", "158", "159"] + [
    f"18{d}" for d in range(10)]
# First digits of local landline numbers valid in every city above.
LANDLINE_FIRST_DIGITS = "2356"

BUREAUS = ["教育局", "卫生健康委员会", "科学技术局", "人力资源和社会保障局", "市场监督管理局", "交通运输局",
           "财政局", "住房和城乡建设局", "生态环境局", "文化和旅游局", "商务局", "大数据管理局"]

SURNAMES = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林",
    "罗", "高", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "彭", "田", "董", "潘", "袁", "蔡", "蒋",
    "余", "杜", "叶", "程", "魏", "苏", "吕", "丁", "任", "卢", "姚", "沈", "钟", "姜", "崔", "谭", "陆",
    "范", "汪", "廖", "石", "金", "贾", "夏", "方", "邹", "熊", "白", "孟", "秦", "侯", "江", "薛", "雷", "顾",
]

GIVEN_NAMES = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
    "华", "平", "刚", "桂英", "建华", "文", "晨", "欣怡", "子涵", "浩然", "宇轩", "梓萱", "思远", "晓东", "海燕",
    "志强", "建国", "玉兰", "春梅", "立新", "雪", "鹏", "婷", "宁", "斌", "凯", "琳", "佳怡", "俊杰", "雨桐",
    "文博", "晓燕", "国庆", "红梅", "建平", "丹", "颖", "振华", "慧", "亮", "倩", "嘉怡",
]

TITLES = ["总经理", "副总经理", "采购经理", "采购专员", "技术总监", "IT 经理", "财务主管", "行政经理", "项目经理",
          "董事长", "运营总监", "办公室主任"]

TAGS = ["VIP", "价格敏感", "展会线索", "招投标", "渠道合作", "续约", "老客户", "转介绍", "重点项目"]

ROADS = ["人民路", "解放路", "中山路", "建设路", "科技路", "文化路", "新华路", "创业路", "光明路", "长江路",
         "滨河路", "学院路", "工业大道", "世纪大道", "东风路"]

# follow-up kind code: summaries
SUMMARIES = {
    "call": ["电话沟通采购需求，客户计划下季度启动招标", "电话回访产品使用情况，客户反馈良好",
             "电话确认报价细节，客户希望再优惠 5%", "致电预约上门拜访时间", "电话跟进合同审批进度",
             "电话了解预算情况，今年预算已批复", "客户来电咨询售后服务条款"],
    "visit": ["上门拜访采购经理，演示新版本功能", "拜访技术负责人，了解现有系统的问题",
              "陪同工程师现场勘察，确认实施范围", "拜访总经理，沟通年度合作框架", "到访客户工厂，参观生产线"],
    "wechat": ["微信发送产品资料和成功案例", "微信沟通开票信息", "微信确认会议时间和参会人员",
               "微信回复客户关于交付周期的问题"],
    "email": ["邮件发送正式报价单", "邮件回复技术问题清单", "发送合同草案供客户法务审阅", "邮件发送项目实施计划"],
    "meeting": ["线上会议讲解解决方案", "参加客户年度供应商大会", "与客户项目组召开启动会",
                "方案评审会，客户提出三点修改意见"],
    "other": ["寄送样品和产品手册", "在展会上与客户当面交流", "邀请客户参加产品发布会"],
}
FOLLOWUP_KIND_WEIGHTS = {"call": 40, "visit": 18, "wechat": 20, "email": 10, "meeting": 8, "other": 4}

OUTCOMES = ["客户有意向，等待内部评估", "需要提供更详细的方案", "价格是主要顾虑", "已确认需求，准备报价",
            "暂无需求，半年后再联系", "客户满意，考虑扩大采购", "决策人出差，下周再约", "已提交审批", ""]
NEXT_STEPS = ["发送报价单", "安排技术交流", "预约下次拜访", "跟进合同审批", "提供试用账号", "邀请参加产品发布会",
              "准备投标文件", ""]
NOTES = ["年底有集中采购计划", "对接人更换过，注意确认决策链", "付款周期较长，合同需约定预付款",
         "与竞争对手有合作，需突出服务优势", "总部在外地，本地为分支机构"]

# Which cities each demo owner (and pool) works in.
OWNER_CITIES = {
    "rep_sh": ["上海"] * 9 + ["苏州"], "rep_sh2": ["上海"] * 4 + ["无锡"],
    "rep_hz": ["杭州"] * 6 + ["宁波", "绍兴", "温州"], "rep_bj": ["北京"] * 5 + ["天津"],
    "manager_east": ["南京", "苏州", "无锡", "常州", "合肥"], "manager_north": ["天津", "石家庄", "济南", "青岛"],
    "director": ["深圳", "广州", "成都", "武汉"],
}
# owner: (customers in all, of which today / overdue / later next follow-ups)
OWNER_BOOK = {
    "rep_sh": (72, 8, 6, 24), "rep_sh2": (40, 3, 3, 12), "rep_hz": (54, 4, 4, 16), "rep_bj": (58, 4, 5, 18),
    "manager_east": (18, 1, 1, 6), "manager_north": (12, 1, 1, 4), "director": (16, 0, 1, 5),
}
# pool: (member team, is default, customers, cities)
POOLS = {
    "华东公海": ("华东区", False, 15, ["上海", "杭州", "南京", "苏州"]),
    "华北公海": ("华北区", False, 8, ["北京", "天津", "济南"]),
    "公海": (None, True, 7, ["广州", "深圳", "成都", "西安"]),
}
POOL_RULES = {
    "idle_days_a": 15, "idle_days_b": 30, "idle_days_c": 60, "daily_claim_limit": 5, "reclaim_block_days": 7,
    "owner_cap": 200,
}
# Times of day (hour, minute) of today's follow-ups, so My day looks like a working day.
TODAY_SLOTS = [(9, 30), (10, 0), (10, 30), (11, 0), (14, 0), (15, 0), (15, 30), (16, 30), (17, 0)]
SEED = 20260301


def demo_is_loaded():
    return User.objects.filter(username="admin").exists()


def seed_demo():
    """Create the demo company if it is not there. Safe to run twice: nothing is duplicated.
    Returns True when anything was added."""
    added = False
    seed_choices(Choice)
    with audited(None, "seed_demo"):
        if not demo_is_loaded():
            _seed_people()
            added = True
        if not Pool.objects.filter(name__in=POOLS).exists():
            _seed_company()
            added = True
    return added


def _seed_people():
    teams = {}
    for name, parent in TEAMS:
        teams[name] = account_services.team_create(name=name, parent=teams.get(parent))
    roles = {r.name: r for r in Role.objects.all()}
    users = {}
    for username, display, mobile, team, manager, role, lead in PERSONAS:
        users[username] = account_services.user_create(
            username=username, display_name=display, mobile=mobile, team=teams[team],
            manager=users.get(manager), email=f"{username}@demo.invalid",
            password=DEMO_PASSWORD, roles=[roles[role]],
        )
        if lead:
            Team.objects.filter(pk=teams[team].pk).update(lead=users[username])


def _seed_company():
    users = {u.username: u for u in User.objects.select_related("team").filter(username__in=[p[0] for p in PERSONAS])}
    teams = {u.team.name: u.team for u in users.values() if u.team}
    choices = {(c.kind, c.code): c for c in Choice.objects.all()}
    pools = _seed_pools(teams)
    # A company loaded by an earlier version of this command already has the named customers.
    existing = set(Customer.objects.filter(name__in=[n for names in CUSTOMERS.values() for n in names])
                   .values_list("name", flat=True))
    company = DemoCompany(random.Random(SEED), users, choices, existing)
    for owner, (count, *_plan) in OWNER_BOOK.items():
        company.add_book(owner, count)
    for pool_name, (team, _default, count, cities) in POOLS.items():
        company.add_pool_customers(pools[pool_name], teams.get(team), count, cities)
    company.save()
    _seed_shares(users)


def _seed_pools(teams):
    pools = {}
    for name, (team, is_default, _count, _cities) in POOLS.items():
        pool = Pool.objects.create(name=name, is_default=is_default, **POOL_RULES)
        if team:
            pool.teams.set([teams[team]])
        pools[name] = pool
    return pools


# customer name, shared with, can edit, days until it ends (None: no end), shared by
SHARES = [
    ("杭州西湖软件有限公司", "rep_sh", False, None, "rep_hz"),
    ("上海申通物流有限公司", "rep_hz", True, 30, "rep_sh"),
    ("深圳南山智能硬件有限公司", "manager_north", False, None, "director"),
]


def _seed_shares(users):
    """A few records shared by hand inside 华东区 and with the north, as people do."""
    by_name = {c.name: c for c in Customer.objects.filter(name__in=[s[0] for s in SHARES])}
    ct = ContentType.objects.get_for_model(Customer)
    now = timezone.now()
    Share.objects.bulk_create([
        Share(content_type=ct, object_id=by_name[name].pk, user=users[to], can_edit=can_edit, created_by=users[by],
              expires_at=now + datetime.timedelta(days=days) if days else None)
        for name, to, can_edit, days, by in SHARES if name in by_name
    ])


def _local_today():
    return timezone.localdate()


def _at(day, hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


class DemoCompany:
    """Draws customers, contacts and follow-ups, then writes them with a handful of bulk inserts."""

    def __init__(self, rng, users, choices, existing=()):
        self.rng, self.users, self.choices, self.existing = rng, users, choices, set(existing)
        self.today = _local_today()
        self.now = timezone.now()
        self.customers, self.named = [], []
        self.names = {name for names in CUSTOMERS.values() for name in names}
        self.mobiles = set()
        kinds = list(FOLLOWUP_KIND_WEIGHTS)
        self.kind_pool = [k for k in kinds for _ in range(FOLLOWUP_KIND_WEIGHTS[k])]

    # Drawing --------------------------------------------------------------------------------------

    def pick(self, items):
        return self.rng.choice(items)

    def mobile(self):
        while True:
            number = f"{self.pick(MOBILE_PREFIXES)}{self.rng.randrange(10 ** 8):08d}"
            if number not in self.mobiles:
                self.mobiles.add(number)
                return normalise_phone(number)

    def landline(self, city):
        area = CITIES[city][1]
        return normalise_phone(f"{area}-{self.pick(LANDLINE_FIRST_DIGITS)}{self.rng.randrange(10 ** 7):07d}")

    def person_name(self):
        return self.pick(SURNAMES) + self.pick(GIVEN_NAMES)

    def company_name(self, city, kind):
        """(name, industry code, trade name) of a new customer in `city`, unique in the company."""
        while True:
            if kind == CustomerKind.PERSON:
                name = trade = self.person_name()
                industry = None
            elif kind == CustomerKind.GOVERNMENT:
                trade = self.pick(CITIES[city][2])
                name = f"{city}市{trade}{self.pick(BUREAUS)}"
                industry = "government"
            else:
                word, trade = self.pick(list(INDUSTRY_WORDS)), self.pick(TRADE_NAMES)
                form = self.rng.choices(list(LEGAL_FORMS), weights=LEGAL_FORMS.values())[0]
                name = f"{city}{trade}{word}{form}"
                industry = INDUSTRY_WORDS[word]
            if name not in self.names:
                self.names.add(name)
                return name, industry, trade

    def draw_kind(self):
        roll = self.rng.random()
        return CustomerKind.PERSON if roll < 0.03 else CustomerKind.GOVERNMENT if roll < 0.06 else CustomerKind.COMPANY

    def new_customer(self, name, city, kind, industry, trade):
        rng = self.rng
        province, _area, districts = CITIES[city]
        slug = f"{trade}{rng.randrange(100, 999)}"
        customer = Customer(
            kind=kind, name=name, tier=rng.choices([Tier.A, Tier.B, Tier.C], weights=[15, 50, 35])[0],
            industry=self.choices.get(("industry", industry)) if industry else None,
            source=self.choices[("source", self.pick(["referral", "website", "exhibition", "cold_call", "campaign",
                                                       "partner", "referral", "website"]))],
            province=province, city=city, district=self.pick(districts),
            address=f"{self.pick(ROADS)}{rng.randrange(1, 999)}号",
            phone=self.landline(city) if kind != CustomerKind.PERSON and rng.random() < 0.85 else "",
            mobile=self.mobile() if kind == CustomerKind.PERSON or rng.random() < 0.4 else "",
            email=self._email(kind, slug), website=f"www.{_ascii(slug)}.com" if kind == CustomerKind.COMPANY else "",
            tags=sorted(set(rng.sample(TAGS, k=rng.choice([0, 0, 0, 1, 1, 2])))),
            notes=self.pick(NOTES) if rng.random() < 0.15 else "",
        )
        customer._slug = _ascii(slug)
        return customer

    def _email(self, kind, slug):
        if kind == CustomerKind.PERSON:
            return f"{self.rng.randrange(10 ** 5, 10 ** 9)}@qq.com"
        if kind == CustomerKind.GOVERNMENT:
            return ""
        return f"{self.pick(['info', 'sales', 'contact', 'office', 'service'])}@{_ascii(slug)}.com"

    # Books ----------------------------------------------------------------------------------------

    def add_book(self, username, count):
        """`count` customers owned by `username` (the named ones first), with their follow-up plan:
        some due today, some overdue, some later, the rest without a next follow-up."""
        owner = self.users[username]
        _count, today, overdue, later = OWNER_BOOK[username]
        plan = ["today"] * today + ["overdue"] * overdue + ["later"] * later
        plan += [None] * (count - len(plan))
        self.rng.shuffle(plan)
        named = CUSTOMERS.get(username, [])
        drawn = []
        for i, due in enumerate(plan):
            city = self.pick(OWNER_CITIES[username])
            kind = CustomerKind.COMPANY if i < len(named) else self.draw_kind()
            if i < len(named):
                name, industry = named[i], _industry_of(named[i])
                city = next((c for c in CITIES if c in name[:4]), city)
                trade = name[name.index(city) + len(city):][:2]
            else:
                name, industry, trade = self.company_name(city, kind)
            customer = self.new_customer(name, city, kind, industry, trade)
            customer.owner, customer.team, customer.created_by = owner, owner.team, owner
            self._history(customer, owner, due, slot=len(drawn) % len(TODAY_SLOTS), rich=i < len(named))
            drawn.append((i < len(named), customer))
        self.customers += [c for is_named, c in drawn if not is_named]
        self.named += [c for is_named, c in drawn if is_named and c.name not in self.existing]

    def add_pool_customers(self, pool, team, count, cities):
        """Customers waiting in `pool`: released by, or returned by rule from, a former owner."""
        owners = [u for u in self.users.values() if u.username.startswith("rep_")
                  and (team is None or u.team.path.startswith(team.path))] or [self.users["director"]]
        for _i in range(count):
            city = self.pick(cities)
            kind = self.draw_kind()
            name, industry, trade = self.company_name(city, kind)
            customer = self.new_customer(name, city, kind, industry, trade)
            former = self.pick(owners)
            customer.pool, customer.team, customer.created_by = pool, former.team if team else None, former
            self._history(customer, former, None, slot=0, idle=True)
            customer._event = (pool, former, self.rng.randrange(20, 90))
            self.customers.append(customer)

    def _history(self, customer, owner, due, slot, idle=False, rich=False):
        """Contacts, a year of follow-ups (newest last), status and the next follow-up; `rich`
        customers (the named ones people open first) have at least five follow-ups."""
        rng = self.rng
        contacts = [Contact(
            name=self.person_name(), title=self.pick(TITLES), mobile=self.mobile(),
            phone=self.landline(customer.city) if rng.random() < 0.3 else "",
            wechat=f"wx_{rng.randrange(10 ** 6, 10 ** 8)}" if rng.random() < 0.5 else "",
            is_primary=(n == 0),
        ) for n in range(rng.choice([1, 1, 2, 2, 2, 3]))]
        for contact in contacts:
            if customer.kind == CustomerKind.COMPANY and rng.random() < 0.7:
                contact.email = f"{pinyin_forms(contact.name)[0]}@{customer._slug}.com"
        customer._contacts = contacts
        if due == "today":
            hour, minute = TODAY_SLOTS[slot]
            customer.next_followup_at = _at(self.today, hour, minute)
        elif due == "overdue":
            customer.next_followup_at = _at(self.today - datetime.timedelta(days=rng.randrange(1, 12)), 10)
        elif due == "later":
            customer.next_followup_at = _at(self.today + datetime.timedelta(days=rng.randrange(1, 30)),
                                            rng.choice([9, 10, 14, 15, 16]))
        # The newest follow-up lies before the next one and, for customers waiting in a pool, long ago.
        if customer.next_followup_at:
            latest = min(customer.next_followup_at - datetime.timedelta(days=rng.randrange(3, 21), hours=rng.randrange(5)),
                         self.now - datetime.timedelta(days=rng.randrange(1, 5), hours=rng.randrange(8)))
        else:
            latest = self.now - datetime.timedelta(days=rng.randrange(70, 200) if idle else rng.randrange(1, 90),
                                                   hours=rng.randrange(8))
        count = rng.randrange(5, 12) if rich else 0 if rng.random() < 0.08 else rng.randrange(1, 12)
        gap = datetime.timedelta(days=rng.randrange(12, 35))
        times = [latest - gap * i - datetime.timedelta(hours=rng.randrange(6)) for i in range(count)][::-1]
        followups = []
        for n, at in enumerate(times):
            kind = self.pick(self.kind_pool)
            nxt = times[n + 1] if n + 1 < len(times) else customer.next_followup_at
            followups.append(FollowUp(
                kind=self.choices[("followup_kind", kind)], at=at, summary=self.pick(SUMMARIES[kind]),
                outcome=self.pick(OUTCOMES), next_step=self.pick(NEXT_STEPS) if nxt else "",
                next_followup_at=nxt, created_by=owner, contact=self.pick(contacts),
            ))
        customer._followups = followups
        customer.last_followup_at = times[-1] if times else None
        first = times[0] if times else latest
        customer._created_at = first - datetime.timedelta(days=rng.randrange(1, 40))
        customer.claimed_at = None if idle else customer._created_at
        self._status(customer, bool(times), idle)

    def _status(self, customer, followed, idle):
        """Prospects have no follow-up yet; about one in eight became a deal, and lost customers have
        nothing planned (so every planned follow-up stays on My day)."""
        roll = self.rng.random()
        if not followed:
            customer.status = CustomerStatus.PROSPECT
        elif roll < 0.13 and not idle:
            customer.status, customer.deal_status = CustomerStatus.WON, DealStatus.WON
            customer.deal_date = timezone.localdate(customer.last_followup_at)
            customer.locked = self.rng.random() < 0.25
        elif roll < 0.2 and customer.next_followup_at is None:
            customer.status = CustomerStatus.LOST
        else:
            customer.status = CustomerStatus.FOLLOWING
        if customer.tier == Tier.A and not idle and self.rng.random() < 0.15:
            customer.locked = True

    # Writing --------------------------------------------------------------------------------------

    def save(self):
        # The named customers last, so they are the newest in every list (the browser tests open them).
        self.customers += self.named
        self.named = []
        Customer.objects.bulk_create(self.customers)
        for customer in self.customers:
            for contact in customer._contacts:
                contact.customer = customer
            for followup in customer._followups:
                followup.customer = customer
        Contact.objects.bulk_create([c for customer in self.customers for c in customer._contacts])
        FollowUp.objects.bulk_create([f for customer in self.customers for f in customer._followups])
        PoolEvent.objects.bulk_create([
            PoolEvent(customer=c, pool=c._event[0], owner=c._event[1], by=c._event[1] if i % 2 else None,
                      kind=PoolEvent.Kind.RELEASE if i % 2 else PoolEvent.Kind.RETURN,
                      reason="" if i % 2 else RETURN_REASONS["idle"])
            for i, c in enumerate(c for c in self.customers if c.pool_id)])
        ids = [c.pk for c in self.customers]
        customers_refresh_search(ids)
        self._backdate(ids)

    def _backdate(self, ids):
        """Creation times in the past (auto_now_add set them to now), without history entries for it."""
        created = [c._created_at for c in self.customers]
        released = [self.now - datetime.timedelta(days=c._event[2]) if c.pool_id else None for c in self.customers]
        with pgtrigger.ignore("crm.Customer:update_update"), connection.cursor() as cursor:
            cursor.execute(
                f"""UPDATE {Customer._meta.db_table} c SET created_at = v.created_at
                    FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, created_at) WHERE c.id = v.id""",
                [ids, created])
            cursor.execute(f"UPDATE {FollowUp._meta.db_table} SET created_at = at WHERE customer_id = ANY(%s)", [ids])
            cursor.execute(
                f"""UPDATE {PoolEvent._meta.db_table} e SET at = v.at
                    FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at) WHERE e.customer_id = v.id""",
                [ids, released])
            # The "created" entry of each customer's history dates from its creation too.
            cursor.execute(
                """UPDATE crm_customerevent e SET pgh_created_at = c.created_at
                   FROM crm_customer c WHERE e.pgh_obj_id = c.id AND e.pgh_label = 'insert' AND c.id = ANY(%s)""",
                [ids])


def _ascii(text):
    """A stable ASCII slug for a trade name (for e-mail domains and websites): its pinyin."""
    return pinyin_forms(text)[0]


def _industry_of(name):
    return next((code for word, code in INDUSTRY_WORDS.items() if word in name), None)
