"""A name or code already taken reads as a sentence in the settings forms, in Chinese and in English,
not as Django's "具有 名称 的 角色 已存在。" built from the field's and the model's names."""
import pytest
from django.urls import reverse

from accounts.models import User
from crm.models import Pool

CASES = {
    # case: (url name, url args of the fixture, posted data, the Chinese message, the English message)
    "role name": ("settings:accounts:role_create", None, {
        "name": "销售代表", "customers_scope": 10, "sales_scope": 10, "service_scope": 0, "marketing_scope": 0,
        "landing_page": "customers", "priority": 50},
        "已有同名角色，请换一个名称。", "There is already a role with this name."),
    "username": ("settings:accounts:user_create", None, {
        "username": "rep_east", "preferred_language": "zh-hans", "time_zone": "Asia/Shanghai",
        "password1": "Temp-pass-4711", "password2": "Temp-pass-4711"},
        "该用户名已被使用。", "This username is taken."),
    "mobile of a new user": ("settings:accounts:user_create", None, {
        "username": "rep_new", "mobile": "13900000001", "preferred_language": "zh-hans", "time_zone": "Asia/Shanghai",
        "password1": "Temp-pass-4711", "password2": "Temp-pass-4711"},
        "该手机号已被其他用户使用。", "This mobile number is already used by another user."),
    "mobile of a user": ("settings:accounts:user_edit", "rep_west", {
        "display_name": "北京小赵", "mobile": "13900000001", "preferred_language": "zh-hans",
        "time_zone": "Asia/Shanghai", "is_active": "on"},
        "该手机号已被其他用户使用。", "This mobile number is already used by another user."),
    "team name": ("settings:accounts:team_create", None, {"name": "上海分公司", "parent": "east"},
                  "同一上级团队下已有同名团队。", "There is already a team of this name in the same place."),
    "pool name": ("settings:customers:pool_create", None, {"name": "华东公海", "reclaim_block_days": 0},
                  "已有同名公海。", "There is already a pool with this name."),
    "picklist code": ("settings:customers:choice_create", "industry", {"code": "finance", "label": "金融二", "order": 5,
                                                                  "active": "on"},
                      "该列表中已有这个代码。", "This list already has an entry with this code."),
}


@pytest.fixture
def taken(admin, rep_east, rep_west, teams, roles, picklists):
    """What the posted names collide with: the seed roles and picklists, rep_east's username and
    mobile, 上海分公司 under 华东区, and 华东公海."""
    User.objects.filter(pk=rep_east.pk).update(mobile="13900000001")
    Pool.objects.create(name="华东公海")
    return {"rep_west": rep_west.pk, "industry": "industry", "east": teams["east"].pk}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_it_says_a_taken_name_in_plain_words(client_for, admin, taken, case, language):
    name, arg, data, chinese, english = CASES[case]
    client = client_for(admin)
    client.cookies["django_language"] = language
    data = {key: taken.get(value, value) if isinstance(value, str) else value for key, value in data.items()}
    response = client.post(reverse(name, args=[taken[arg]] if arg else []), data)
    page = response.content.decode().replace("&#x27;", "'")
    assert response.status_code in (200, 422), response.status_code
    assert (chinese if language == "zh-hans" else english) in page
    assert "具有" not in page and "already exists." not in page
