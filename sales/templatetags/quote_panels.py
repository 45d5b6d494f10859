"""Panels the deal page shows for its product lines and its quotes. Each reads through a selector with
the signed-in user of the page, one query per panel; whether the user may change the deal comes from
the page's own context (`can_edit`), so it is not asked again."""
from decimal import Decimal

from django import template

from .. import selectors

register = template.Library()


def _user_and_edit(context):
    return context["request"].user, bool(context.get("can_edit"))


@register.inclusion_tag("sales/partials/lines_panel.html", takes_context=True)
def deal_lines_panel(context, opportunity):
    _user, editable = _user_and_edit(context)
    lines = selectors.deal_lines(opportunity)
    return {"opportunity": opportunity, "lines": lines, "can_edit": editable,
            "lines_total": sum((line.total for line in lines), 0),
            "list_total": sum((line.list_total for line in lines), 0)}


@register.inclusion_tag("sales/partials/quote_panel.html", takes_context=True)
def deal_quotes_panel(context, opportunity):
    user, editable = _user_and_edit(context)
    return {"opportunity": opportunity, "quotes": selectors.deal_quotes(user, opportunity), "can_edit": editable}


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
_SECTIONS = ("", "万", "亿", "万亿")


def _four_digits(number):
    """0 < number < 10000 in capital numerals, zeros inside read once (1001: 壹仟零壹)."""
    text, zero = "", False
    for place in range(3, -1, -1):
        digit = number // 10 ** place % 10
        if digit == 0:
            zero = bool(text)
        else:
            text += ("零" if zero else "") + _DIGITS[digit] + _PLACES[place]
            zero = False
    return text


def _yuan(number):
    groups = []
    while number:
        number, group = divmod(number, 10000)
        groups.append(group)
    text, zero = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero = bool(text)
            continue
        text += ("零" if text and (zero or group < 1000) else "") + _four_digits(group) + _SECTIONS[index]
        zero = False
    return text


@register.filter
def rmb_upper(value):
    """An amount in capital Chinese numerals as written on quotes and invoices (人民币大写), e.g.
    120500.30 → 壹拾贰万零伍佰元叁角."""
    amount = Decimal(value or 0).quantize(Decimal("0.01"))
    if amount < 0:
        return "负" + rmb_upper(-amount)
    yuan = int(amount)
    jiao, fen = divmod(int((amount - yuan) * 100), 10)
    text = _yuan(yuan) + "元" if yuan else ""
    if not jiao and not fen:
        return (text or "零元") + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    return text + (_DIGITS[fen] + "分" if fen else "")
