"""Console wording in Chinese (default) and English; ``?lang=en`` switches, a cookie remembers."""

from __future__ import annotations

from typing import Callable, Dict

TEXTS: Dict[str, Dict[str, str]] = {
    "title": {"zh": "大客户关怀 · 客户经理工作台", "en": "Key-account care · Manager console"},
    "login": {"zh": "登录", "en": "Log in"},
    "logout": {"zh": "退出", "en": "Log out"},
    "manager_id": {"zh": "工号", "en": "Manager ID"},
    "password": {"zh": "密码", "en": "Password"},
    "login_failed": {"zh": "工号或密码错误。", "en": "Wrong manager ID or password."},
    "login_blocked": {"zh": "登录失败次数过多，请15分钟后再试。", "en": "Too many failed logins; try again in 15 minutes."},
    "inbox": {"zh": "待办", "en": "Inbox"},
    "campaigns": {"zh": "关怀活动", "en": "Campaigns"},
    "escalations": {"zh": "升级转人工", "en": "Escalations"},
    "tickets": {"zh": "工单", "en": "Tickets"},
    "nothing": {"zh": "暂无", "en": "None"},
    "customer": {"zh": "客户", "en": "Customer"},
    "contact": {"zh": "联系人", "en": "Contact"},
    "reason": {"zh": "原因", "en": "Reason"},
    "summary": {"zh": "摘要", "en": "Summary"},
    "call_back_by": {"zh": "回电时限", "en": "Call back by"},
    "status": {"zh": "状态", "en": "Status"},
    "kind": {"zh": "类型", "en": "Kind"},
    "priority": {"zh": "优先级", "en": "Priority"},
    "deadline": {"zh": "SLA时限", "en": "SLA deadline"},
    "overdue": {"zh": "已超时", "en": "overdue"},
    "circuit": {"zh": "电路", "en": "Circuit"},
    "history": {"zh": "处理记录", "en": "History"},
    "acknowledge": {"zh": "受理", "en": "Acknowledge"},
    "add_note": {"zh": "添加备注", "en": "Add note"},
    "resolve": {"zh": "解决", "en": "Resolve"},
    "hand_back": {"zh": "交还机器人", "en": "Hand back to the bot"},
    "profile": {"zh": "客户概况", "en": "Profile"},
    "contacts": {"zh": "联系人", "en": "Contacts"},
    "circuits": {"zh": "电路", "en": "Circuits"},
    "usage": {"zh": "近12个月消费", "en": "Usage, last 12 months"},
    "sms_history": {"zh": "短信记录", "en": "SMS history"},
    "consent": {"zh": "短信订阅", "en": "SMS consent"},
    "opted_out": {"zh": "已退订", "en": "opted out"},
    "subscribed": {"zh": "接收中", "en": "subscribed"},
    "preview": {"zh": "预览", "en": "Preview"},
    "run": {"zh": "执行", "en": "Run"},
    "report": {"zh": "发送统计", "en": "Report"},
    "date": {"zh": "日期", "en": "Date"},
    "dry_run": {"zh": "演练（不发送）", "en": "Dry run (send nothing)"},
    "manager": {"zh": "客户经理", "en": "Account manager"},
    "tier": {"zh": "等级", "en": "Tier"},
    "class": {"zh": "客户类别", "en": "Class"},
    "region": {"zh": "区域", "en": "Region"},
    "bill_day": {"zh": "账单日", "en": "Bill day"},
    "month": {"zh": "月份", "en": "Month"},
    "amount": {"zh": "金额（元）", "en": "Amount (yuan)"},
    "done": {"zh": "已完成。", "en": "Done."},
    "notice_sent": {"zh": "已通知客户。", "en": "The customer has been notified."},
    "handed_back": {"zh": "对话已交还机器人。", "en": "The conversation is back with the bot."},
    "rasa_unreachable": {"zh": "未能恢复机器人对话（Rasa不可达），请稍后重试。",
                         "en": "Could not resume the bot conversation (Rasa unreachable); try again later."},
    "open_items": {"zh": "未结", "en": "open"},
    "recipients": {"zh": "收件人", "en": "Recipients"},
    "segments": {"zh": "条数（计费）", "en": "Segments"},
    "cost": {"zh": "预估费用", "en": "Estimated cost"},
    "suppressed": {"zh": "已抑制", "en": "Suppressed"},
    "language": {"zh": "English", "en": "中文"},
}


def translator(lang: str) -> Callable[[str], str]:
    def t(key: str) -> str:
        entry = TEXTS.get(key)
        return entry.get(lang, entry["zh"]) if entry else key
    return t
