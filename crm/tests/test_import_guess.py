"""Guessing a column's field from its heading and its first values, with a confidence. No database:
the users are plain lists, as the upload reads them."""
import datetime

import pytest

from crm.imports import guess
from crm.imports.clean import context_from_lists

USERS = [(1, "zhangsan", "13900000001", "张三"), (2, "lisi", "13900000002", "李四"), (3, "wangwu", None, "王五")]


@pytest.fixture
def context():
    return context_from_lists(industries=[], sources=[], users=USERS, today=datetime.date(2026, 12, 7))


def guessed(headings, rows, context):
    return guess.guess_mapping(headings, rows, context)


def test_a_revenue_column_of_amounts_is_the_deal_amount_and_never_the_owner(context):
    rows = [["甲公司", "¥12,000", "张三"], ["乙公司", "1.2万", "李四"], ["丙公司", "8000", "张三"], ["丁公司", "-", "王五"]]
    assert guessed(["客户名称", "销售收入", "销售"], rows, context) == {
        0: ("name", "high"), 1: ("deal_amount", "medium"), 2: ("owner", "high")}


def test_a_revenue_column_whose_values_are_not_amounts_is_not_imported(context):
    rows = [["甲公司", "很好"], ["乙公司", "一般"], ["丙公司", "较差"]]
    assert guessed(["客户名称", "销售收入"], rows, context) == {0: ("name", "high")}


def test_an_owner_column_maps_only_when_its_values_name_users(context):
    by_name = [["甲公司", "张三"], ["乙公司", "lisi"], ["丙公司", "13900000001"], ["丁公司", "已离职的人"]]
    assert guessed(["客户名称", "负责人"], by_name, context)[1] == ("owner", "medium")  # 3 of 4 are users
    strangers = [["甲公司", "赵六"], ["乙公司", "孙七"], ["丙公司", "赵六"]]
    assert 1 not in guessed(["客户名称", "负责人"], strangers, context)
    amounts = [["甲公司", 12000], ["乙公司", 8000]]
    assert 1 not in guessed(["客户名称", "销售"], amounts, context)


def test_a_field_refused_by_one_column_stays_free_for_the_next(context):
    rows = [["甲公司", 12000, "张三"], ["乙公司", 8000, "李四"]]
    assert guessed(["客户名称", "负责人", "跟进人"], rows, context) == {0: ("name", "high"), 2: ("owner", "high")}


def test_date_and_amount_columns_need_most_values_to_parse(context):
    rows = [["甲公司", "2021-03-05", "很多"], ["乙公司", "2021年3月6日", "不少"], ["丙公司", "去年", "一些"],
            ["丁公司", 44260, "12000"]]
    mapping = guessed(["客户名称", "首次合作日期", "成交金额"], rows, context)
    assert mapping[1] == ("deal_date", "low")  # a near heading, 3 of 4 dates
    assert 2 not in mapping  # 1 of 4 amounts
    # One bad date among few values is the check's to report, not a reason to drop the column.
    assert guessed(["客户名称", "建档日期"], [["甲公司", "2021-02-30"]], context)[1] == ("created_at", "low")


def test_a_column_with_no_values_keeps_its_heading_guess_with_less_confidence(context):
    assert guessed(["客户名称", "邮箱"], [["甲公司", None], ["乙公司", ""]], context) == {
        0: ("name", "high"), 1: ("email", "medium")}


def test_a_phone_column_of_mobiles_is_the_mobile_unless_another_column_is(context):
    rows = [["甲公司", "13812345678"], ["乙公司", "139 0000 1111"], ["丙公司", 13700001234]]
    assert guessed(["客户名称", "联系方式"], rows, context)[1] == ("mobile", "high")
    landlines = [["甲公司", "021-55551234"], ["乙公司", "0571-88886666"]]
    assert guessed(["客户名称", "联系方式"], landlines, context)[1] == ("phone", "high")
    both = [["甲公司", "13812345678", "13812345678"]]
    assert guessed(["客户名称", "联系方式", "手机"], both, context) == {
        0: ("name", "high"), 1: ("phone", "high"), 2: ("mobile", "high")}


def test_the_samples_skip_hint_rows_and_sections():
    rows = [["客户名称", "负责人"], ["必填", "选填"], ["上海市（2家）"], ["甲公司", "张三"], ["乙公司", "李四"]]
    assert guess.sample_rows(rows, 0) == [["甲公司", "张三"], ["乙公司", "李四"]]
    assert guess.column_values(rows[3:] + [["丙公司", "张三"], ["丁公司", " "]], 1) == ["张三", "李四"]


def test_a_phone_column_with_cells_of_several_numbers_is_still_guessed(context):
    """A cell holding two numbers cleans to a list of them: the guess reads its first (it raised)."""
    samples = [["甲公司", "13812345678/021-62345678"], ["乙公司", "13912345678"], ["丙公司", "13712345678"]]
    assert guess.guess_mapping(["客户名称", "电话"], samples, context)[1][0] == "mobile"
