"""The downloadable import template: the headings the import maps by itself, a dropdown of the
allowed values for each picklist column, and one example row."""
import datetime
import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..models import Choice

# (heading, example value): each heading is one of the field's synonyms, so the mapping is automatic.
COLUMNS = (
    ("客户名称", "上海示例科技有限公司"), ("客户类型", "企业"), ("客户等级", "A 重点"), ("所属行业", None),
    ("客户来源", None), ("客户状态", "跟进中"), ("标签", "华东, 重点"), ("手机号码", "13800138000"),
    ("联系电话", "021-62345678"), ("邮箱", "info@example.com"), ("网站", "www.example.com"), ("省份", "上海"),
    ("城市", "上海市"), ("区县", "浦东新区"), ("详细地址", "张江路 100 号"), ("负责人", ""),
    ("建档日期", datetime.date(2024, 3, 5)), ("下次跟进", None), ("成交金额", "12000"), ("联系人", "王芳"),
    ("职务", "采购经理"), ("联系人手机", "13900139000"), ("联系人邮箱", "wang@example.com"), ("微信", "wangfang"),
    ("备注", ""),
)


def _choice_labels(kind):
    return [c.label for c in Choice.objects.filter(kind=kind, active=True)]


def template_workbook():
    """The template as a file-like .xlsx, in memory."""
    book = Workbook()
    sheet = book.active
    sheet.title = "客户"
    lists = book.create_sheet("选项")
    tiers = [f"{code} {label}" for code, label in (("A", "重点"), ("B", "普通"), ("C", "非优先"))]
    picklists = {
        "客户类型": ["企业", "个人", "政府机构"],
        "客户等级": tiers,
        "所属行业": _choice_labels(Choice.Kind.INDUSTRY),
        "客户来源": _choice_labels(Choice.Kind.SOURCE),
        "客户状态": ["潜在", "跟进中", "已成交", "流失"],
    }
    examples = {"所属行业": (picklists["所属行业"] or [""])[0], "客户来源": (picklists["客户来源"] or [""])[0],
                "下次跟进": datetime.date.today() + datetime.timedelta(days=7)}
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for index, (heading, example) in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=heading)
        cell.font, cell.fill = bold, fill
        value = examples.get(heading, example)
        example_cell = sheet.cell(row=2, column=index, value=value)
        if isinstance(value, datetime.date):
            example_cell.number_format = "yyyy-mm-dd"
        elif isinstance(value, str) and value.isdigit():
            example_cell.number_format = "@"
        sheet.column_dimensions[letter].width = max(12, len(heading) * 2 + 4)
        if heading in picklists:
            column = list(picklists).index(heading) + 1
            values = picklists[heading]
            lists.cell(row=1, column=column, value=heading).font = bold
            for row, label in enumerate(values, start=2):
                lists.cell(row=row, column=column, value=label)
            source_letter = get_column_letter(column)
            rule = DataValidation(type="list", formula1=f"=选项!${source_letter}$2:${source_letter}${len(values) + 1}",
                                  allow_blank=True, showErrorMessage=True,
                                  errorTitle=_("Not in the list"), error=_("Choose a value from the list."))
            sheet.add_data_validation(rule)
            rule.add(f"{letter}2:{letter}10000")
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer
