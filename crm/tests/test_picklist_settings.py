"""The customer settings in the product's settings area: picklists (industry, source, follow-up kinds,
tier labels) and customer pools. Admins (CONFIGURE_CUSTOMERS) only; reps get 403."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from crm.models import Choice, Pool
from crm.services import choice_delete, choice_move, choice_save, pool_delete, pool_save
from crm.tests.factories import CustomerFactory, FollowUpFactory

SETTINGS_URLS = [
    ("settings:customers:picklists", []), ("settings:customers:choice_create", ["industry"]),
    ("settings:customers:pools", []), ("settings:customers:pool_create", []),
]


def entry(picklists, kind, code):
    return picklists[kind][code]


# Picklist services -----------------------------------------------------------------------------

def test_it_adds_an_entry_to_a_picklist(admin, picklists):
    choice = choice_save(by=admin, kind="industry", code="agriculture", label="农业", label_en="Agriculture", order=5)

    assert Choice.objects.get(pk=choice.pk).label == "农业"


def test_it_refuses_a_duplicate_code(admin, picklists):
    with pytest.raises(ValidationError):
        choice_save(by=admin, kind="industry", code="finance", label="金融2")


def test_it_refuses_picklist_changes_to_a_rep(rep_east, picklists):
    with pytest.raises(PermissionDenied):
        choice_save(by=rep_east, kind="industry", code="agriculture", label="农业")


def test_it_retires_an_entry_in_use_and_the_record_keeps_it(admin, picklists, rep_east):
    finance = entry(picklists, "industry", "finance")
    customer = CustomerFactory(owner=rep_east, industry=finance)

    choice_save(by=admin, choice=finance, kind="industry", code="finance", label="金融", active=False)

    customer.refresh_from_db()
    assert customer.industry == finance and not Choice.objects.get(pk=finance.pk).active
    from crm.selectors import choices_of
    assert finance not in choices_of("industry") and finance in choices_of("industry", include=finance)


def test_it_refuses_to_delete_an_entry_in_use(admin, picklists, rep_east):
    call = entry(picklists, "followup_kind", "call")
    FollowUpFactory(customer=CustomerFactory(owner=rep_east), kind=call)

    with pytest.raises(ValidationError) as refused:
        choice_delete(by=admin, choice=call)

    assert "1" in refused.value.messages[0]
    assert Choice.objects.filter(pk=call.pk).exists()


def test_it_deletes_an_entry_nobody_uses(admin, picklists):
    unused = entry(picklists, "source", "partner")

    choice_delete(by=admin, choice=unused)

    assert not Choice.objects.filter(pk=unused.pk).exists()


def test_it_lets_tiers_be_renamed_but_not_added_retired_or_deleted(admin, picklists):
    tier_a = entry(picklists, "tier", "A")

    choice_save(by=admin, choice=tier_a, kind="tier", code="A", label="A 战略", label_en="A strategic", order=10)

    assert Choice.objects.get(pk=tier_a.pk).label == "A 战略"
    with pytest.raises(ValidationError):
        choice_save(by=admin, kind="tier", code="D", label="D")
    with pytest.raises(ValidationError):
        choice_save(by=admin, choice=tier_a, kind="tier", code="A", label="A", active=False)
    with pytest.raises(ValidationError):
        choice_delete(by=admin, choice=tier_a)
    with pytest.raises(ValidationError):
        choice_save(by=admin, choice=tier_a, kind="tier", code="Z", label="A")
    assert sorted(Choice.objects.filter(kind="tier").values_list("code", flat=True)) == ["A", "B", "C"]


def test_it_moves_an_entry_up_its_list(admin, picklists):
    codes = list(Choice.objects.filter(kind="source").order_by("order", "id").values_list("code", flat=True))

    choice_move(by=admin, choice=entry(picklists, "source", codes[2]), up=True)

    moved = list(Choice.objects.filter(kind="source").order_by("order", "id").values_list("code", flat=True))
    assert moved == [codes[0], codes[2], codes[1], *codes[3:]]


# Pool services ---------------------------------------------------------------------------------

def test_it_saves_a_pool_with_its_teams_and_moves_the_default(admin, teams):
    old_default = Pool.objects.create(name="旧公海", is_default=True)

    pool = pool_save(by=admin, name="华东公海", teams=[teams["east"]], is_default=True, idle_days_b=30,
                     daily_claim_limit=5)

    assert list(pool.teams.all()) == [teams["east"]]
    assert (pool.is_default, pool.idle_days_b, pool.daily_claim_limit) == (True, 30, 5)
    assert not Pool.objects.get(pk=old_default.pk).is_default


def test_it_keeps_a_team_in_one_pool_only(admin, teams):
    pool_save(by=admin, name="华东公海", teams=[teams["east"]])

    with pytest.raises(ValidationError):
        pool_save(by=admin, name="另一个公海", teams=[teams["east"], teams["north"]])

    assert not Pool.objects.filter(name="另一个公海").exists()


def test_it_refuses_to_delete_a_pool_that_holds_customers(admin, teams):
    pool = pool_save(by=admin, name="华东公海", teams=[teams["east"]])
    CustomerFactory(pool=pool)

    with pytest.raises(ValidationError):
        pool_delete(by=admin, pool=pool)

    assert Pool.objects.filter(pk=pool.pk).exists()


def test_it_refuses_pool_changes_to_a_rep(rep_east):
    with pytest.raises(PermissionDenied):
        pool_save(by=rep_east, name="我的公海")


# Pages -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("persona", ["rep_east", "rep_west", "manager_east", "director"])
@pytest.mark.parametrize("url_name, args", SETTINGS_URLS)
def test_it_refuses_the_settings_pages_to_people_without_the_capability(client_for, person, persona, url_name, args,
                                                                       picklists):
    assert client_for(person(persona)).get(reverse(url_name, args=args)).status_code == 403


def test_it_refuses_to_edit_entries_and_pools_to_a_rep(client_for, rep_east, picklists, teams):
    pool = Pool.objects.create(name="华东公海")
    finance = entry(picklists, "industry", "finance")
    client = client_for(rep_east)
    for url in (reverse("settings:customers:choice_edit", args=[finance.pk]),
                reverse("settings:customers:choice_delete", args=[finance.pk]),
                reverse("settings:customers:pool_edit", args=[pool.pk]),
                reverse("settings:customers:pool_delete", args=[pool.pk])):
        assert client.post(url, {"label": "x", "name": "x"}).status_code == 403
    assert client.post(reverse("settings:customers:choice_move", args=[finance.pk]), {"direction": "up"}).status_code == 403
    assert Pool.objects.filter(pk=pool.pk, name="华东公海").exists()
    assert Choice.objects.get(pk=finance.pk).label == "金融"


@pytest.mark.parametrize("url_name, args, most", [
    ("settings:customers:picklists", [], 8), ("settings:customers:pools", [], 9),
])
def test_it_shows_the_settings_lists_to_an_admin_with_a_fixed_number_of_queries(
        client_for, admin, picklists, teams, url_name, args, most, django_assert_max_num_queries):
    for i in range(3):
        pool_save(by=admin, name=f"公海{i}", teams=[list(teams.values())[i]])
    client = client_for(admin)
    with django_assert_max_num_queries(most) as few:
        response = client.get(reverse(url_name, args=args))
    assert response.status_code == 200
    for i in range(3, 6):
        pool_save(by=admin, name=f"公海{i}", teams=[list(teams.values())[i]])
        choice_save(by=admin, kind="industry", code=f"extra{i}", label=f"行业{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse(url_name, args=args)).status_code == 200


def test_it_shows_the_settings_menu_entries_to_an_admin(client_for, admin, picklists):
    page = client_for(admin).get(reverse("settings:customers:picklists")).content.decode()

    assert 'data-testid="settings-picklists"' in page and 'data-testid="settings-pools"' in page
    assert reverse("settings:accounts:users") in page


def test_it_adds_and_retires_an_entry_through_the_pages(client_for, admin, picklists):
    client = client_for(admin)

    response = client.post(reverse("settings:customers:choice_create", args=["source"]),
                           {"code": "wechat_ad", "label": "微信广告", "label_en": "WeChat ads", "order": 5,
                            "active": "on"})

    assert response.status_code == 302
    added = Choice.objects.get(kind="source", code="wechat_ad")
    response = client.post(reverse("settings:customers:choice_edit", args=[added.pk]),
                           {"code": "ignored", "label": "微信广告投放", "label_en": "WeChat ads", "order": 5})
    assert response.status_code == 302
    added.refresh_from_db()
    assert (added.code, added.label, added.active) == ("wechat_ad", "微信广告投放", False)


def test_it_has_no_page_to_add_a_tier(client_for, admin, picklists):
    assert client_for(admin).get(reverse("settings:customers:choice_create", args=["tier"])).status_code == 404


def test_it_explains_why_an_entry_in_use_cannot_be_deleted(client_for, admin, picklists, rep_east):
    finance = entry(picklists, "industry", "finance")
    CustomerFactory(owner=rep_east, industry=finance)

    response = client_for(admin).post(reverse("settings:customers:choice_delete", args=[finance.pk]))

    assert response.status_code == 422
    assert 'data-testid="delete-error"' in response.content.decode()
    assert Choice.objects.filter(pk=finance.pk).exists()


def test_it_reorders_over_htmx(client_for, admin, picklists):
    codes = list(Choice.objects.filter(kind="followup_kind").order_by("order", "id").values_list("code", flat=True))
    second = entry(picklists, "followup_kind", codes[1])

    response = client_for(admin).post(reverse("settings:customers:choice_move", args=[second.pk]), {"direction": "up"},
                                      HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page and 'id="entries-followup_kind"' in page
    assert page.index(f'data-code="{codes[1]}"') < page.index(f'data-code="{codes[0]}"')


def test_it_creates_and_edits_a_pool_through_the_pages(client_for, admin, teams):
    client = client_for(admin)
    data = {"name": "华东公海", "teams": [teams["east"].pk], "daily_claim_limit": 5, "idle_days_a": 30,
            "idle_days_b": 15, "reclaim_block_days": 7, "exempt_deal": "on", "exempt_locked": "on", "is_default": "on"}

    assert client.post(reverse("settings:customers:pool_create"), data).status_code == 302

    pool = Pool.objects.get(name="华东公海")
    assert (pool.daily_claim_limit, pool.idle_days_b, pool.reclaim_block_days, pool.is_default) == (5, 15, 7, True)
    assert list(pool.teams.all()) == [teams["east"]]
    page = client.get(reverse("settings:customers:pool_edit", args=[pool.pk])).content.decode()
    assert "days" in page or "天" in page  # the rules come with their explanations


def test_it_shows_on_the_form_that_a_team_is_already_in_another_pool(client_for, admin, teams):
    pool_save(by=admin, name="华东公海", teams=[teams["east"]])

    response = client_for(admin).post(reverse("settings:customers:pool_create"), {
        "name": "第二公海", "teams": [teams["east"].pk], "reclaim_block_days": 0})

    assert response.status_code == 200
    assert response.context["form"].errors["teams"]
    assert not Pool.objects.filter(name="第二公海").exists()


def test_it_refuses_to_delete_a_pool_with_customers_through_the_page(client_for, admin, teams):
    pool = pool_save(by=admin, name="华东公海", teams=[teams["east"]])
    CustomerFactory(pool=pool)

    response = client_for(admin).post(reverse("settings:customers:pool_delete", args=[pool.pk]))

    assert response.status_code == 422 and Pool.objects.filter(pk=pool.pk).exists()


def test_it_deletes_an_empty_pool_through_the_page(client_for, admin, teams):
    pool = pool_save(by=admin, name="华东公海", teams=[teams["east"]])

    response = client_for(admin).post(reverse("settings:customers:pool_delete", args=[pool.pk]))

    assert response.status_code == 302 and not Pool.objects.filter(pk=pool.pk).exists()
