"""The demo company: teams, one user per persona, and a few customers per branch.
Demo passwords are for local trial only and are printed by `make run`."""
from accounts import services as account_services
from accounts.models import Role, Team, User
from accounts.services import audited

from .models import Customer

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

CUSTOMERS = {
    "rep_sh": ["上海浦东华信科技有限公司", "上海申通物流有限公司", "上海明德教育咨询有限公司", "上海锦江餐饮管理有限公司"],
    "rep_sh2": ["上海东方医疗器械有限公司", "上海星辰建筑设计院"],
    "rep_hz": ["杭州西湖软件有限公司", "杭州钱塘电子商务有限公司", "杭州绿源茶业有限公司"],
    "rep_bj": ["北京华信信息技术有限公司", "北京中关村创新科技有限公司", "北京燕京建材有限公司", "北京首都医科设备有限公司"],
    "manager_east": ["江苏苏州工业园区制造有限公司"],
    "director": ["深圳南山智能硬件有限公司"],
}


def demo_is_loaded():
    return User.objects.filter(username="admin").exists()


def seed_demo():
    """Create the demo company if it is not there. Safe to run twice: nothing is duplicated."""
    if demo_is_loaded():
        return False
    with audited(None, "seed_demo"):
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
        Customer.objects.bulk_create([
            Customer(name=name, owner=users[owner], team=users[owner].team)
            for owner, names in CUSTOMERS.items() for name in names
        ])
    return True
