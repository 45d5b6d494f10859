"""Durations in one natural unit, in Chinese and English: "已超期 9 天", "上次跟进于 2 个月前"."""
import datetime

import pytest
from django.utils import translation

from crm.lib.durations import duration_words

NOW = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(("span", "chinese", "english"), [
    (datetime.timedelta(seconds=20), "不到 1 分钟", "less than a minute"),
    (datetime.timedelta(minutes=1), "1 分钟", "1 minute"),
    (datetime.timedelta(minutes=59, seconds=59), "59 分钟", "59 minutes"),
    (datetime.timedelta(hours=5, minutes=59), "5 小时", "5 hours"),
    (datetime.timedelta(days=1), "1 天", "1 day"),
    (datetime.timedelta(days=9, hours=23), "9 天", "9 days"),  # not "1 周，2 日"
    (datetime.timedelta(days=29), "29 天", "29 days"),
    (datetime.timedelta(days=75), "2 个月", "2 months"),  # not "2 月，2 周", which reads as February
    (datetime.timedelta(days=364), "12 个月", "12 months"),
    (datetime.timedelta(days=800), "2 年", "2 years"),
    (-datetime.timedelta(days=3), "不到 1 分钟", "less than a minute"),
])
def test_it_says_a_span_in_one_unit(span, chinese, english):
    with translation.override("zh-hans"):
        assert duration_words(NOW - span, NOW) == chinese
    with translation.override("en"):
        assert duration_words(NOW - span, NOW) == english


def test_it_reads_naturally_in_the_sentences_of_the_pages(settings):
    from django.template import Context, Template

    page = Template('{% load i18n durations %}{% blocktranslate with since=then|duration:now %}'
                    'overdue by {{ since }}{% endblocktranslate %}|{% blocktranslate with since=long|duration:now %}'
                    'last follow-up {{ since }} ago{% endblocktranslate %}')
    context = Context({"then": NOW - datetime.timedelta(days=9, hours=2), "long": NOW - datetime.timedelta(days=65),
                       "now": NOW})
    with translation.override("zh-hans"):
        assert page.render(context) == "已超期 9 天|上次跟进于 2 个月前"
    with translation.override("en"):
        assert page.render(context) == "overdue by 9 days|last follow-up 2 months ago"
