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
    # Headings that come close to the field without quite naming it ("首次合作日期" for the deal date,
    # "所在地" for the city): mapped automatically, but never with high confidence.
    near: tuple = ()


FIELDS = (
    ImportField("name", _("Customer name"), "name", required=True, synonyms=(
        "客户名称", "客户名", "客户", "公司名称", "公司名", "公司", "企业名称", "企业", "单位名称", "单位", "学校名称",
        "学校", "机构名称", "机构", "医院名称", "名称", "客户全称", "公司全称", "customer", "customername", "company",
        "companyname", "account", "accountname", "organization", "organisation", "organizationname", "name", "单位全称", "企业全称", "客户单位", "合作单位", "客户全名", "公司名字")),
    ImportField("kind", _("Customer type"), "kind", synonyms=(
        "客户类型", "客户性质", "类型", "性质", "customertype", "客户属性", "accounttype")),
    ImportField("industry", _("Industry"), "industry", synonyms=("行业", "所属行业", "行业分类", "industry", "sector", "行业类型", "行业类别", "所属领域")),
    ImportField("tier", _("Tier"), "tier", synonyms=(
        "客户等级", "等级", "级别", "客户级别", "重要程度", "客户分类", "分类", "tier", "rating", "level", "grade",
        "priority")),
    ImportField("source", _("Source"), "source", synonyms=(
        "客户来源", "来源", "渠道", "获客渠道", "source", "leadsource", "channel", "信息来源", "来源渠道", "线索来源")),
    ImportField("status", _("Status"), "status", synonyms=(
        "客户状态", "状态", "跟进状态", "status", "stage", "accountstatus", "合作状态", "客户阶段")),
    ImportField("tags", _("Tags"), "tags", synonyms=("标签", "客户标签", "tags", "tag", "labels")),
    ImportField("phone", _("Phone"), "phone", synonyms=(
        "电话", "固话", "座机", "联系电话", "公司电话", "办公电话", "电话号码", "总机", "phone", "telephone", "tel",
        "officephone", "phonenumber", "businessphone", "联系方式", "固定电话", "座机号码", "单位电话", "企业电话", "电话手机", "contactnumber")),
    ImportField("mobile", _("Mobile"), "phone", synonyms=(
        "手机", "手机号", "手机号码", "移动电话", "客户手机", "mobile", "mobilephone", "cellphone", "cell", "联系手机", "手机电话", "移动电话号码", "mobilenumber")),
    ImportField("email", _("Email"), "email", synonyms=(
        "邮箱", "电子邮箱", "电子邮件", "邮件", "email", "e-mail", "emailaddress", "mail", "企业邮箱", "公司邮箱", "邮箱地址", "电邮", "联系邮箱")),
    ImportField("website", _("Website"), "url", synonyms=("网站", "网址", "官网", "公司网站", "website", "web", "url", "官方网站", "公司官网", "企业官网", "主页", "网站地址", "homepage")),
    ImportField("province", _("Province"), "text", synonyms=("省份", "省", "所在省份", "省/直辖市", "province", "state", "所在省", "所属省份", "省区", "省份直辖市")),
    ImportField("city", _("City"), "text", synonyms=(
        "城市", "市", "所在城市", "地市", "city", "所在市", "所属城市", "城市名称", "地级市"),
        near=("所在地", "地区", "所属地区", "所在地区", "location")),
    ImportField("district", _("District"), "text", synonyms=("区县", "区/县", "区", "县", "district", "county", "所在区县", "所属区县")),
    ImportField("address", _("Address"), "text", synonyms=(
        "地址", "详细地址", "公司地址", "通讯地址", "联系地址", "办公地址", "address", "street", "billingstreet", "注册地址", "经营地址", "单位地址", "邮寄地址", "街道地址", "streetaddress")),
    ImportField("notes", _("Notes"), "text", synonyms=("备注", "说明", "描述", "客户描述", "notes", "note",
                                                        "description", "remarks", "comments", "备注信息", "补充说明", "客户备注", "其他信息")),
    ImportField("owner", _("Owner"), "owner", synonyms=(
        "负责人", "客户负责人", "归属人", "销售", "业务员", "销售代表", "客户经理", "跟进人", "所属销售", "owner",
        "accountowner", "salesrep", "assignedto", "所属人", "销售负责人", "业务负责人", "客户归属", "归属销售",
        "对接销售", "销售人员", "销售员", "业务经理", "跟进销售", "负责销售", "salesperson")),
    ImportField("created_at", _("Created on"), "date", synonyms=(
        "创建日期", "创建时间", "建档日期", "建档时间", "录入日期", "录入时间", "登记日期", "createdate", "created",
        "createdon", "createdat", "datecreated", "添加时间", "添加日期", "建立日期")),
    ImportField("last_followup_at", _("Last follow-up"), "date", synonyms=(
        "最近跟进", "最近跟进时间", "最后跟进", "最后跟进时间", "上次跟进", "最近联系时间", "最后联系", "lastfollowup",
        "lastcontacted", "lastactivity", "lastactivitydate", "最近跟进日期", "最后跟进日期", "最近拜访", "最近拜访时间", "最后拜访日期", "上次拜访时间")),
    ImportField("next_followup_at", _("Next follow-up"), "date", synonyms=(
        "下次跟进", "下次跟进时间", "下次联系", "下次联系时间", "计划跟进", "nextfollowup", "nextcontact", "nextstep date",
        "nextactivity", "下次跟进日期", "下次拜访", "下次拜访时间", "下次联系日期")),
    ImportField("deal_date", _("Deal date"), "date", synonyms=(
        "成交日期", "成交时间", "签约日期", "签约时间", "dealdate", "closedate", "wondate"),
        # The customer has no "customer since" date: the date it was won is the closest, and what a
        # legacy list means by its first cooperation (the import marks such a customer won).
        near=("首次合作日期", "首次合作时间", "合作时间", "合作日期", "开始合作时间", "开始合作日期", "首次成交日期",
              "customersince", "firstdealdate")),
    ImportField("deal_amount", _("Deal amount"), "amount", synonyms=(
        "成交金额", "合同金额", "签约金额", "金额", "销售额", "dealamount", "amount", "dealvalue", "revenue", "成交额",
        "合同额", "签约额", "订单金额", "销售金额"),
        near=("销售收入", "收入", "营收", "销售业绩", "业绩", "sales", "salesamount")),
    ImportField("contact_name", _("Contact name"), "text", target=CONTACT, synonyms=(
        "联系人", "联系人姓名", "姓名", "客户联系人", "主要联系人", "对接人", "contact", "contactname", "fullname",
        "primarycontact", "联系人名称", "对接人姓名", "联系人名字")),
    ImportField("contact_title", _("Contact title"), "text", target=CONTACT, synonyms=(
        "职务", "职位", "联系人职务", "联系人职位", "title", "jobtitle", "position", "contacttitle", "联系人岗位", "岗位", "职称")),
    ImportField("contact_mobile", _("Contact mobile"), "phone", target=CONTACT, synonyms=(
        "联系人手机", "联系人电话", "联系人手机号", "contactmobile", "contactphone", "联系人手机号码", "联系人移动电话", "联系人联系方式")),
    ImportField("contact_email", _("Contact email"), "email", target=CONTACT, synonyms=(
        "联系人邮箱", "联系人email", "contactemail", "联系人电子邮箱")),
    ImportField("contact_wechat", _("Contact WeChat"), "text", target=CONTACT, synonyms=(
        "微信", "微信号", "联系人微信", "wechat", "weixin", "wechatid", "微信号码")),
)

BY_KEY = {f.key: f for f in FIELDS}

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def heading_key(text):
    """A column heading as the synonym lists hold it: NFKC, lower case, without spaces or punctuation."""
    if text is None:
        return ""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", str(text)).lower())


SYNONYMS = {}  # heading key -> field key
NEAR = set()  # the heading keys of SYNONYMS that only come close to their field
for _field in FIELDS:
    for _word in _field.synonyms:
        SYNONYMS.setdefault(heading_key(_word), _field.key)
for _field in FIELDS:
    for _word in _field.near:
        if heading_key(_word) not in SYNONYMS:
            SYNONYMS[heading_key(_word)] = _field.key
            NEAR.add(heading_key(_word))
