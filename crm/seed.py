"""The picklists every installation starts with. Admins edit them in the settings area; the codes
stay fixed so imports and code can refer to them."""

# kind: [(code, 中文, English)]
DEFAULT_CHOICES = {
    "tier": [("A", "A 重点", "A key"), ("B", "B 普通", "B regular"), ("C", "C 非优先", "C low priority")],
    "followup_kind": [
        ("call", "电话", "Call"), ("visit", "拜访", "Visit"), ("wechat", "微信", "WeChat"),
        ("email", "邮件", "Email"), ("meeting", "会议", "Meeting"), ("other", "其他", "Other"),
    ],
    "industry": [
        ("it", "信息技术", "Information technology"), ("manufacturing", "制造业", "Manufacturing"),
        ("finance", "金融", "Finance"), ("education", "教育", "Education"), ("healthcare", "医疗", "Healthcare"),
        ("retail", "零售", "Retail"), ("logistics", "物流", "Logistics"), ("government", "政府", "Government"),
        ("energy", "能源", "Energy"), ("other", "其他", "Other"),
    ],
    "source": [
        ("referral", "客户介绍", "Referral"), ("website", "官网", "Website"), ("exhibition", "展会", "Trade fair"),
        ("cold_call", "电话开发", "Cold call"), ("campaign", "市场活动", "Campaign"),
        ("partner", "合作伙伴", "Partner"), ("import", "导入", "Import"), ("other", "其他", "Other"),
    ],
    "lost_reason": [
        ("price", "价格", "Price"), ("competitor", "输给竞争对手", "Lost to a competitor"),
        ("no_budget", "无预算", "No budget"), ("no_decision", "客户未决策", "No decision"),
        ("requirements", "需求不符", "Requirements not met"), ("other", "其他", "Other"),
    ],
}


def seed_choices(Choice):
    """Create the default entries that are missing; never changes entries admins edited."""
    for kind, entries in DEFAULT_CHOICES.items():
        for order, (code, label, label_en) in enumerate(entries, start=1):
            Choice.objects.get_or_create(kind=kind, code=code, defaults={
                "label": label, "label_en": label_en, "order": order * 10})
