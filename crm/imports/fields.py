"""The fields an import can fill, with the column headings that map to each automatically.

`kind` names the cleaner in crm/imports/clean.py (`clean_value(kind, raw, context)`); `target` says
whether the value goes to the customer or to its primary contact. Synonyms are compared after
`heading_key` (width-, case-, space- and punctuation-blind), so "手机号码", "手机 号码" and
"手机号码：" are one heading.
"""
import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

CUSTOMER = "customer"
CONTACT = "contact"


@dataclass(frozen=True)
class ImportField:
    key: str
    label: object  # a lazy translation
    kind: str
    target: str = CUSTOMER
    synonyms: tuple = ()
    required: bool = False


FIELDS = (
    ImportField("name", _("Customer name"), "name", required=True, synonyms=(
        "客户名称", "客户名", "客户", "公司名称", "公司名", "公司", "企业名称", "企业", "单位名称", "单位", "学校名称",
        "学校", "机构名称", "机构", "医院名称", "名称", "客户全称", "公司全称", "customer", "customername", "company",
        "companyname", "account", "accountname", "organization", "organisation", "organizationname", "name")),
    ImportField("kind", _("Customer type"), "kind", synonyms=(
        "客户类型", "客户性质", "类型", "性质", "customertype")),
    ImportField("industry", _("Industry"), "industry", synonyms=("行业", "所属行业", "行业分类", "industry", "sector")),
    ImportField("tier", _("Tier"), "tier", synonyms=(
        "客户等级", "等级", "级别", "客户级别", "重要程度", "客户分类", "分类", "tier", "rating", "level", "grade",
        "priority")),
    ImportField("source", _("Source"), "source", synonyms=(
        "客户来源", "来源", "渠道", "获客渠道", "source", "leadsource", "channel")),
    ImportField("status", _("Status"), "status", synonyms=(
        "客户状态", "状态", "跟进状态", "status", "stage", "accountstatus")),
    ImportField("tags", _("Tags"), "tags", synonyms=("标签", "客户标签", "tags", "tag", "labels")),
    ImportField("phone", _("Phone"), "phone", synonyms=(
        "电话", "固话", "座机", "联系电话", "公司电话", "办公电话", "电话号码", "总机", "phone", "telephone", "tel",
        "officephone", "phonenumber", "businessphone")),
    ImportField("mobile", _("Mobile"), "phone", synonyms=(
        "手机", "手机号", "手机号码", "移动电话", "客户手机", "mobile", "mobilephone", "cellphone", "cell")),
    ImportField("email", _("Email"), "email", synonyms=(
        "邮箱", "电子邮箱", "电子邮件", "邮件", "email", "e-mail", "emailaddress", "mail")),
    ImportField("website", _("Website"), "url", synonyms=("网站", "网址", "官网", "公司网站", "website", "web", "url")),
    ImportField("province", _("Province"), "text", synonyms=("省份", "省", "所在省份", "省/直辖市", "province", "state")),
    ImportField("city", _("City"), "text", synonyms=("城市", "市", "所在城市", "地市", "city")),
    ImportField("district", _("District"), "text", synonyms=("区县", "区/县", "区", "县", "district", "county")),
    ImportField("address", _("Address"), "text", synonyms=(
        "地址", "详细地址", "公司地址", "通讯地址", "联系地址", "办公地址", "address", "street", "billingstreet")),
    ImportField("notes", _("Notes"), "text", synonyms=("备注", "说明", "描述", "客户描述", "notes", "note",
                                                        "description", "remarks", "comments")),
    ImportField("owner", _("Owner"), "owner", synonyms=(
        "负责人", "客户负责人", "归属人", "销售", "业务员", "销售代表", "客户经理", "跟进人", "所属销售", "owner",
        "accountowner", "salesrep", "assignedto")),
    ImportField("created_at", _("Created on"), "date", synonyms=(
        "创建日期", "创建时间", "建档日期", "建档时间", "录入日期", "录入时间", "登记日期", "createdate", "created",
        "createdon", "createdat", "datecreated")),
    ImportField("last_followup_at", _("Last follow-up"), "date", synonyms=(
        "最近跟进", "最近跟进时间", "最后跟进", "最后跟进时间", "上次跟进", "最近联系时间", "最后联系", "lastfollowup",
        "lastcontacted", "lastactivity", "lastactivitydate")),
    ImportField("next_followup_at", _("Next follow-up"), "date", synonyms=(
        "下次跟进", "下次跟进时间", "下次联系", "下次联系时间", "计划跟进", "nextfollowup", "nextcontact", "nextstep date",
        "nextactivity")),
    ImportField("deal_date", _("Deal date"), "date", synonyms=("成交日期", "成交时间", "签约日期", "dealdate",
                                                                "closedate", "wondate")),
    ImportField("deal_amount", _("Deal amount"), "amount", synonyms=(
        "成交金额", "合同金额", "签约金额", "金额", "销售额", "dealamount", "amount", "dealvalue", "revenue")),
    ImportField("contact_name", _("Contact name"), "text", target=CONTACT, synonyms=(
        "联系人", "联系人姓名", "姓名", "客户联系人", "主要联系人", "对接人", "contact", "contactname", "fullname",
        "primarycontact")),
    ImportField("contact_title", _("Contact title"), "text", target=CONTACT, synonyms=(
        "职务", "职位", "联系人职务", "联系人职位", "title", "jobtitle", "position", "contacttitle")),
    ImportField("contact_mobile", _("Contact mobile"), "phone", target=CONTACT, synonyms=(
        "联系人手机", "联系人电话", "联系人手机号", "contactmobile", "contactphone")),
    ImportField("contact_email", _("Contact email"), "email", target=CONTACT, synonyms=(
        "联系人邮箱", "联系人email", "contactemail")),
    ImportField("contact_wechat", _("Contact WeChat"), "text", target=CONTACT, synonyms=(
        "微信", "微信号", "联系人微信", "wechat", "weixin", "wechatid")),
)

BY_KEY = {f.key: f for f in FIELDS}

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def heading_key(text):
    """A column heading as the synonym lists hold it: NFKC, lower case, without spaces or punctuation."""
    if text is None:
        return ""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", str(text)).lower())


SYNONYMS = {}
for _field in FIELDS:
    for _word in _field.synonyms:
        SYNONYMS.setdefault(heading_key(_word), _field.key)
