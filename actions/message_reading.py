"""What a customer's message already says, read by the forms so that nothing is asked twice: a complaint's
category and description, a fault's symptom and when it began, urgency, a correction at confirmation, and an answer
that only sounds like a question about the account; and, for the answers, the month or ticket it points back at and
whether it says service is back. Patterns, not a model: each is shown back for confirmation."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Callable, Dict, List, Optional, Tuple

from rasa_sdk import Tracker

from carecore.courtesy import core
from carecore.model import TICKET_ID_PATTERN
from carecore.months import parse_month
from carecore.ticket_opening import category_of

SYMPTOM_WORDS = re.compile(r"断|不通|连不上|上不了网|掉线|慢|丢包|卡顿|停机|被停|停用|延迟|时延|抖动|时好时坏|不稳定|波动|误码|告警|"
                           r"不亮|红灯|不能用|用不了|没法用|无法使用|打不开|访问不了|无法访问|没网|瘫痪|"
                           r"没有?声音|无声|杂音|占线|打不[进出]|拨号音|单通|no dial tone|\bdead\b|\bstatic\b(?!\s*IPs?\b)|crackl\w*|"
                           r"(?:can'?t|cannot) (?:make|receive|get|take) (?:any )?(?:outgoing |incoming |outside )?calls|"
                           r"down|drop|broken|outage|slow|packet loss|latency|jitter|flaky|unstable|intermittent|"
                           r"flap|up and down|bit errors?|crc errors?|alarm|timing out|time-?outs?|"
                           r"no connection|not working|can'?t connect|cannot connect|\bcut\b|lights? (?:off|out)|"
                           r"suspended|disconnected", re.I)
# When a fault began, as customers say it: a day or part of it, a clock time, or how long ago ("从早上九点开始",
# "昨晚十点半起", "两个小时前", "since 9am", "for the last 2 hours"); one phrase, kept as said.
_DAY = r"今天|昨天|前天|今早|昨晚|今晚|刚才|刚刚|早上|上午|中午|下午|傍晚|晚上|凌晨|夜里|半夜"
_CLOCK = r"(?:[0-9一二三四五六七八九十两]{1,3}\s*点|[0-9]{1,2}\s*(?:时|:|：))\s*(?:半|一刻|[0-9]{1,2}|[一二三四五]?十[一二三四五六七八九]?)?分?"
_AGO = r"[0-9一二三四五六七八九十两几半]{1,4}\s*个?\s*(?:小时|钟头|分钟|天)(?:以前|之前|前|以来|了)(?:开始|起)?"
_FROM_ON = r"(?:开始|起|以来|以后|之后|左右)?"
_EN_SPAN = (r"(?:\d{1,4}|a few|a couple of|an?|one|two|three|four|five|six|few|several)"
            r"\s+(?:hours?|minutes?|mins?|days?)")
_EN_PART = r"(?:this (?:morning|afternoon|evening)|last night|yesterday(?: morning| afternoon| evening)?|noon|midnight)"
_EN_CLOCK = r"\d{1,2}(?::\d{2})?(?:\s*(?:am|pm|a\.m\.|p\.m\.|o'?clock))?(?![\d:])"
_EN_AT = rf"(?:at|around|about)\s+{_EN_CLOCK}"  # "this morning around 9": the hour as well as the part of the day
SINCE_WORDS = re.compile(
    rf"(?:从|自)?(?:(?:{_DAY})\s*){{1,2}}(?:{_CLOCK})?{_FROM_ON}|(?:从|自)?(?:{_CLOCK}){_FROM_ON}|{_AGO}"
    rf"|since\s+(?:about\s+|around\s+)?(?:(?:{_EN_CLOCK}\s+)?{_EN_PART}(?:\s+{_EN_AT})?|{_EN_CLOCK})"
    rf"|(?:about\s+)?{_EN_SPAN}\s+ago|for (?:the (?:last|past) )?{_EN_SPAN}"
    rf"|(?:{_EN_AT}\s+)?{_EN_PART}(?:\s+{_EN_AT})?", re.I)
# A time still to come ("明天早上", "next week"): no fault began then.
FUTURE_START = re.compile(r"明天|明早|明晚|后天|下周|下星期|下礼拜|下个?月|\btomorrow\b|\bnext (?:week|month)\b", re.I)
# That the answer is not known ("不清楚什么时候开始的", "不知道是哪条", "no idea when it started"): an answer to
# "since when?" or "which circuit?", though it reads as a "no".
NOT_KNOWN = re.compile(r"不知道|不清楚|不确定|记不清|不记得|说不好|没注意|"
                       r"\b(?:don'?t know|not sure|no idea|unknown|unsure|can'?t remember|can'?t say)\b", re.I)
# What says a time, however loosely ("周一", "好几天了", "this morning"), or that it is not known: an answer to "since
# when?" with none of it ("网络质量", the symptom again) is asked once more.
TIME_WORDS = re.compile(
    rf"{NOT_KNOWN.pattern}|{_DAY}|[0-9０-９]|[一二三四五六七八九十两几半]\s*(?:点|个?小时|个?钟头|分钟|天|周|个?星期|"
    r"个?礼拜|个?月|号|日)|[上这本]个?(?:周|星期|礼拜|月)|周[一二三四五六日天末]|星期|礼拜|最近|这几天|前几天|一直|好久|很久|"
    r"\b(?:just now|today|yesterday|tonight|morning|afternoon|evening|night|noon|midnight|hours?|minutes?|mins?|"
    r"days?|weeks?|months?|since|ago|earlier|recently|last|monday|tuesday|wednesday|thursday|friday|saturday|"
    r"sunday|weekend|always|a while)\b", re.I)
# Intents the forms' mappings leave out so that a question about the account is answered mid-form; and what makes a
# message a question or a request to look something up rather than an answer that merely sounds like one
# ("上个月多扣了两千块钱" reads as ask_usage). "什么网站都打不开" and "谁都联系不上" ask nothing.
MID_FORM_QUESTIONS = ("ask_account_summary", "ask_account_manager", "ask_usage", "ask_service_status", "ask_sla",
                      "ask_ticket_status", "ask_compensation")
# What joins two questions in one message ("上个月账单和专线状态", "our bill and our SLA").
JOINED = re.compile(r"和|跟|以及|还有|同时|、|[,，]|\b(?:and|also|plus)\b|&", re.I)


# What names each account question in a message that asks two ("上个月账单和客户经理电话"): the model gives a message
# one intent, so the other is found by its words.
_WORD = r"(?<![a-z])(?:{})(?![a-z])"  # whole English words, in Chinese text too ("账单和SLA", where \b fails)
QUESTION_WORDS = {
    "ask_usage": re.compile(r"账单|话费|费用|消费|用量|流量|" + _WORD.format(r"bills?|usage|charges|spend\w*"), re.I),
    "ask_account_manager": re.compile(r"客户经理|" + _WORD.format("manager"), re.I),
    "ask_service_status": re.compile(r"(?:专线|电路|线路|网络)\S{0,2}状态|通不通|" + _WORD.format(r"(?:circuit|line)s? status"),
                                     re.I),
    "ask_sla": re.compile(r"服务水平|保障等级|" + _WORD.format("SLA"), re.I),
    "ask_ticket_status": re.compile(r"工单|进度|" + _WORD.format(r"tickets?|progress"), re.I),
    "ask_compensation": re.compile(r"补偿|赔偿|" + _WORD.format(r"compensation|credits?"), re.I),
    # the card tier, not an SLA's or a fault's grade ("保障等级", "故障级别")
    "ask_account_summary": re.compile(r"(?<!保障)(?<!服务)(?<!故障)(?<!紧急)等级|(?:客户|会员|什么)级别|星级|什么卡|"
                                      + _WORD.format(r"tiers?"), re.I),
}


def questions_named(text: str) -> List[str]:
    """The account questions whose words a message holds, in the order it names them."""
    named = ((found.start(), question) for question, words in QUESTION_WORDS.items() if (found := words.search(text)))
    return [question for _, question in sorted(named)]


def also_asked(text: str, answered: str) -> List[str]:
    """The other account questions a message asking ``answered`` names and joins to it, in the order it names them
    ("上个月账单和客户经理电话", read as the manager's contact: the bill)."""
    if answered not in MID_FORM_QUESTIONS or not JOINED.search(text):
        return []
    return [question for question in questions_named(text) if question != answered]


def two_questions(tracker: Tracker) -> Optional[Tuple[str, str]]:
    """The two account questions a message the model could not settle on asks at once, as its ranking and a word
    joining them say ("查一下上个月账单和专线状态": ask_usage, ask_service_status); None for any other miss."""
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    asked = [r["name"] for r in ranking if r.get("name") in MID_FORM_QUESTIONS and r.get("confidence", 0) >= 0.2]
    return (asked[0], asked[1]) if len(asked) >= 2 and JOINED.search(latest_text(tracker)) else None


# "那我换个号码", "号码输错了", "wrong number": asked for the code, the customer means another mobile.
# Asked which category, "none of those" ("都不是", "不知道", "something else"): the list's last, "other".
NONE_OF_THESE = re.compile(r"都不[是对]|其[他它]|别的|不知道|不清楚|说不[清好上]|\bnone of\b|\bsomething else\b|\bother\b|"
                           r"\bnot sure\b|\bdon'?t know\b", re.I)
# At confirmation, more to be added to what was said ("加上：影响全公司", "补充一下，备用线也断了", "add: the
# backup line is down too"); and a change asked for without saying what ("改一下", "I want to change something").
ADDING = re.compile(r"\s*(?:再?加上|补充(?:一下|一点)?|还有|另外|此外|而且|顺便说(?:一下|一句)?|"
                    r"\b(?:add|also|and also|plus|besides|on top of that)\b)\s*[:：,，]?\s*", re.I)
# ... which a question is not ("还有，我们的账单呢", "also, what's our SLA?"): it is answered, and the confirmation waits
ADDED_QUESTION = re.compile(r"[?？吗呢]\s*$|^(?:how|what|when|where|who|why|which|can|could|will|would|is|are|do|does)\b",
                            re.I)
CHANGE_ASKED = re.compile(r"\s*(?:我想|我要|帮我|请|要)?(?:改|修改|更改|改动)(?:一下|下)?[吧呢]?\s*[。.!！]?\s*|"
                          r"\s*(?:i want to |i'd like to |can i |let me )?(?:change|edit|modify|correct) "
                          r"(?:it|something|that|the report|the complaint)\s*[?.!]?\s*", re.I)


def added_to(text: str) -> str:
    """What a message at confirmation adds to what was said ("also he was rude on the phone": the rest); empty for
    anything else."""
    found = ADDING.match(text)
    rest = text[found.end():].strip() if found else ""
    return "" if ADDED_QUESTION.search(rest) else rest


# Several circuits at once ("1和2", "三条都断了", "both of them"), read where none alone was named.
SEVERAL_CIRCUITS = re.compile(r"都|全部|所有|每[一条]|(?<!第)[两俩三四五六七八九十几]条|\d\s*(?:[和、,，/&及与跟]|and)\s*\d|"
                              r"(?<!that's )(?<!that is )\b(?:all|both|every|each)\b(?! (?:good|right|fine|set|done))", re.I)
# Digits given as a number ("0571-88888888", "138 0000 005"), whatever number it is.
NUMBER_GIVEN = re.compile(r"\d[\d\s()+\-]{4,}\d")
OTHER_NUMBER = re.compile(r"换(?:一?个|成)?(?:手机)?号|号码?(?:输|填|写|打)?错|不是(?:这个|我的)号|(?:wrong|different|another|other)"
                          r" (?:mobile |phone )?number|(?:use|try) (?:a |another |my other )?(?:mobile|phone|number)",
                          re.I)


# "没收到验证码", "resend the code": asked for the code, the customer wants another sent to the same number.
CODE_AGAIN = re.compile(r"没有?收到|收不到|还没(?:有)?[到来收]|重新?发|再发|重发|\bresend|send (?:it|the code|a code|another)|"
                        r"(?:didn'?t|did not|never|haven'?t|not) (?:get|got|receive|arrived?|come|came)", re.I)


# A statement turned into a yes-no question by its end ("已经好了吗", "恢复了没有", "it's back?"): the model, whose
# tokenizer drops the question mark, can read it as the statement.
ASKED_WHETHER = re.compile(r"(?:[?？]|[吗么]|了没有?)\s*[?？]?\s*$")
ASKING = re.compile(r"[?？]|吗|呢|多少|多久|多长时间|(?:什么|哪|谁)(?![^，。,.!！\s]{0,4}[都也])|怎么|怎样|是否|能否|有没有|查一?下|查询|查查|"
                    r"看一?下|告诉我|"
                    r"\b(?:how|what|when|where|who|why|which|can|could|is|are|do|does|show|check|tell me|look up)\b",
                    re.I)
# How a correction starts ("不对，是三个小时前", "no, it's about staff attitude").
CORRECTING = re.compile(r"\s*(?:不对|不是|错了|应该是|其实是|是|改成|改为|换成|换为|no\b|nope|not\b|actually|wrong|it'?s\b|it is)", re.I)
# "账单什么时候出", "when is our bill issued": asked with no month, about the bill still to come
BILL_DATE_QUESTION = re.compile(r"什么时候|几号|哪天|哪一天|何时|\bwhen\b|what date|which day", re.I)
# "金卡有什么权益", "钻石卡和金卡有什么区别", "怎么升到钻石卡": what a card tier gives, not the account's summary.
TIER_QUESTION = re.compile(r"权益|特权|待遇|好处|福利|优待|特别服务|专属服务|享受|区别|不同|差别|差在|好在|升级|升到|升为|"
                           r"提升|降级|(?:怎么|怎样|如何)(?:才能)?升|等级\S{0,4}(?:怎么|如何)(?:定|评)|"
                           r"benefit|privilege|perk|entitle|differen|upgrade|in it for|(?:tier|card)s? (?:include|mean)|"
                           r"explain\b.{0,20}\btiers|tier\b.{0,10}\bdecided|tiers differ|compar|special service|"
                           r"(?:diamond|gold|silver|vip)\b[\w ]{0,12}\bget\b|\bget as (?:a )?(?:diamond|gold|silver|vip)|"
                           r"what do(?:es)? (?:a |the |our )?\w+ (?:tier|card) (?:get|give|mean|include)|"
                           r"what does (?:it|that|this) (?:tier |card )?(?:give|get) (?:me|us)", re.I)
# ... of moving up a tier ("how do we get upgraded to diamond?", "怎么才能升钻石卡")
UPGRADE_ASKED = re.compile(r"升级|升到|升为|提升|(?:怎么|怎样|如何)(?:才能)?升|\bupgrad\w*|\bmove up\b", re.I)
# "…和金卡有什么区别", "how do I upgrade": the answer sets each tier beside the customer's own.
TIER_COMPARISON = re.compile(r"区别|不同|差别|差在|好在|比较|对比|升级|升到|升为|提升|降级|(?:怎么|怎样|如何)(?:才能)?升|各个?等级|"
                             r"每个等级|differ|compar|upgrade|versus|\bvs\b|(?:all|each|the|card) tiers", re.I)
# What says service is back ("恢复了", "通了", "it's working again", "the outage has ended"): a message read as
# `report_restored` with none of it was misread ("现在几点了") and is noted on no ticket.
RESTORED_WORDS = re.compile(r"恢复|好了|好啦|通了|正常|修好|没事了|没问题了|能用|可以用|能上网|可以上网|不掉|不断|没有了|没了|解决|"
                            r"排除|稳定|连上|\bback\b|restor|recover|working|\bworks\b|fixed|resolved|stopped|\bgone\b|"
                            r"\bover\b|\bended\b|\bup\b|online|stable|clear|normal|\bfine\b|\bok(?:ay)?\b|no more|no longer|"
                            r"went away|sorted|solved|connected|again", re.I)
# Service said to be out, again or still, in words that also say it is back ("the problem is back", "又不通了",
# "not working again"), or wanted back ("网络必须恢复", "need it back up asap"): a fault, never a restore to note.
NOT_RESTORED = re.compile(r"又(?:断|出现|来了|掉|坏|不通|不行|不能|出问题|有问题|卡|慢)|问题又|故障又|不通了|没恢复|未恢复|没修好|"
                          r"(?:必须|一定要|要|尽快|赶紧|马上|立刻|快点?|早点|需要|希望|得|务必|请|帮忙|能不能|能否|什么时候|何时)"
                          r"\S{0,3}(?:恢复|修好|修复|通)|(?<!no )\b(?:must|need|needs|has to|have to|asap|when will)\b.{0,25}"
                          r"\b(?:back|restored|fixed|working|up)\b|"
                          r"没解决|不能用了|不能上网了|\b(?:problem|issue|fault|outage|trouble|error)s?\s+(?:is |are |has |"
                          r"have |'s )?(?:come )?back\b|\b(?:down|dropping|broken|failing|out|slow)\s+again\b|"
                          r"\bnot (?:back|working|fixed|resolved|restored)\b|\b(?:isn'?t|aren'?t) working\b|\bstill down\b", re.I)


def says_restored(text: str) -> bool:
    """Whether a message says service is back ("网络恢复了", "it's working again"), and not that it is out."""
    return bool(RESTORED_WORDS.search(text)) and not NOT_RESTORED.search(text)


# "还没修好", "still not fixed": a repair said to be awaited, or not to have held
NOT_REPAIRED = re.compile(r"修好|修复|\b(?:fixed|repaired)\b", re.I)


def fault_said(text: str) -> bool:
    """Whether a chase says the line itself is out or unrepaired ("还是断的", "还没修好"), so that it is of a fault;
    "太慢了" alone may be of the handling."""
    return bool(NOT_REPAIRED.search(text)) or \
        any(found.group().lower() not in ("慢", "slow") for found in SYMPTOM_WORDS.finditer(text))


# "还是不行", "修完了还是断", "the line is still down": a fix that did not hold
NOT_FIXED = re.compile(r"还是|仍然|依然|依旧|又(?:断|坏|不|慢|掉|出)|没修好|没好|\bstill\b|\bagain\b|not fixed", re.I)
# "恢复了但还是很慢", "it's back but still slow": service said to be back, with something still wrong
RESERVATION = re.compile(r"但|可是|不过|还是|仍|依然|\bbut\b|\bstill\b|however", re.I)
# "10月和8月对比一下", "compare it with July": two months of use set side by side.
COMPARE_QUESTION = re.compile(r"比较|对比|相比|比一下|比一比|比起|(?:和|跟|与|同)\S{0,10}比|比\S{0,12}(?:贵|便宜|多|少|高|低)|"
                              r"\bcompar|\bversus\b|\bvs\b|\b(?:higher|lower|more|less|cheaper|bigger)\b.{0,20}\bthan\b|"
                              r"\bbetween\b.{1,30}\band\b", re.I)
# "上个月为什么这么贵", "why is our bill so high": the answer compares each item of use with the month before
WHY_QUESTION = re.compile(r"为什么|为啥|怎么(?:这么|那么|会|突然)|咋这么|原因|\bwhy\b|how come|what made"
                          r"|太(?:贵|高|多)|比平时|too (?:high|much)|seems? high|more than usual", re.I)  # or "it's too high"
# "why so high": said of an amount that may in fact have fallen
HIGHER_QUESTION = re.compile(r"高|贵|多|涨|\bhigh|higher|more|so much|expensive|increase|went up|gone up", re.I)
LOWER_QUESTION = re.compile(r"低|少|便宜|降|lower|less|cheaper|went down|gone down|dropped", re.I)
# "我们欠费了吗", "do we owe anything", "最晚什么时候交": asked with no month, about every bill not fully paid
OWING_QUESTION = re.compile(r"欠|还没[交缴付]|[交缴付]了没|[交缴]清|最晚|截止|(?:什么时候|哪天|几号)(?:之前|以前|前)?要?[交缴付]"
                            r"|\bowe|\bowing\b|outstanding|unpaid|arrears|\bdue\b|deadline|pay (?:it )?by"
                            r"|\b(?:is|are|was|were|been|fully|all)\b[\w\s']{0,30}\bpaid\b", re.I)
# "10月份多收了我们钱", "we were charged twice in October": the bill said to be wrong, not asked about
BILL_DISPUTED = re.compile(r"多收|多扣|乱收|乱扣|扣错|收错|重复(?:扣|收)|(?:扣|收)了两次|不该收|"
                           r"charged (?:us )?twice|double[- ]?charged|overcharg|wrongly charged|charged by mistake", re.I)
# "账单也不用发了", "发票以后寄到新地址", "stop sending us paper bills": how bills reach the account to change, which is
# the manager's, like any order; no question about a bill.
BILL_DELIVERY = re.compile(r"(?:不用|不要|别|停止?|取消)再?\S{0,4}(?:发|寄|送)\S{0,3}(?:账单|发票)|"
                           r"(?:账单|发票)\S{0,4}(?:不用|不要|别|停止?|取消)再?\S{0,2}(?:发|寄|送)|(?:寄|发|送)[到往]\S{0,3}新\S{0,2}地址|"
                           r"(?:电子|纸质)版?的?(?:账单|发票)|\bstop (?:sending|mailing|posting)\b.{0,20}\b(?:bills?|invoices?)\b|"
                           r"\bpaper(?:less)? (?:bills?|invoices?)\b|\bnew address\b", re.I)
# "上个月的账单发我邮箱", "email me the bill": a bill to be sent by email, which the assistant cannot do
EMAIL_REQUEST = re.compile(r"邮箱|邮件|电邮|e-?mail|inbox", re.I)
URGENT_WORDS = re.compile(r"紧急|非常急|十万火急|马上处理|立刻|立即|urgent|asap|emergency|immediately", re.I)
# "换个人联系我": someone other than the dedicated manager; their supervisor answers, as for a complaint about them
OTHER_PERSON = re.compile(r"(?:换(?:一?个|个别的)?|别的|其他)人(?!工)|其他同事|[以之]外的人|不要(?:再)?(?:让|找)?(?:他|她|这个经理|这位经理)|"
                          r"不想(?:再)?(?:跟|和|让|找)?(?:他|她)|\b(?:someone|somebody|anyone) (?:else|other than)\b|"
                          r"\b(?:another|a different) (?:person|manager|contact)\b|\bnot (?:him|her)\b", re.I)
# "客户经理电话一直打不通", "I can't reach our account manager": the manager is not answering, so someone above does
MANAGER_UNREACHABLE = re.compile(
    r"(?:经理|他|她)\S{0,6}(?:打不通|没人接|不接|不回|联系不上|找不到|关机|失联)|(?:联系|找)不(?:上|到)\S{0,6}经理|"
    r"\b(?:can'?t|cannot|couldn'?t|unable to) (?:reach|get hold of|get through to|contact) (?:our |my |the )?"
    r"(?:account )?manager|\bmanager\b.{0,30}\b(?:isn'?t|is not|never|doesn'?t|does not|won'?t)"
    r" (?:answer|pick|reply|respond|call)\w*(?: up| back)?\b|\b(?:he|she)(?:'s| is)? (?:not|never) (?:answer|pick)\w*|"
    r"\b(?:his|her) (?:phone|mobile)\b.{0,20}\b(?:off|dead|unreachable|engaged|busy)\b", re.I)
# "我们要退网", "合同到期不续了", "we're switching provider": the account may be lost, so the manager hears it now
LEAVING = re.compile(
    r"^(?!.*(?:短信|通知|\bsms\b|\btexts?\b|\bnotifications?\b)).*?(?:"  # cancelling texts is an opt-out, not leaving
    r"退网|销户|拆机|拆(?:掉|除)\S{0,4}(?:专线|线路|电路)|不(?:再)?续(?:约|签|费|了)|到期不续|"
    r"(?:换|转)(?:到|成|去)?(?:个|一家|别的|其他|其它)?(?:运营商|移动|联通|广电)(?!的|办公|端|版|设备)|"
    r"\b(?:switch|move|go|changing|change)\w*\b.{0,30}\b(?:provider|carrier|operator)s?\b|"
    r"\bcancel\w*\b.{0,30}\b(?:service|contract|account|lines?|circuits?)\b|"
    r"\b(?:not|won'?t|don'?t)\b.{0,15}\brenew\b|\bterminat\w*\b.{0,30}\b(?:contract|service|lines?|circuits?)\b)",
    re.I | re.S)
# A customer saying the bill they were told is owed was paid ("我已经交过了", "we paid it last week").
PAID = re.compile(
    r"(?:已经|早就|早已|上周|上个月|昨天|前天|刚才?|刚刚)\S{0,3}(?:交|缴|付|打)(?:过|了|款|费|钱)|(?:交|缴|付)过(?:了|费|钱|款)|"
    r"\balready (?:paid|settled)\b|\b(?:paid|settled) (?:it|that|this|the bill|them)\b|\bwe(?:'ve| have)? paid\b",
    re.I)
# What asks for a complaint rather than describing one, set aside from the opening message.
COMPLAINT_WORDS = re.compile(
    r"[我们]*(?:要|想|需要)?(?:提交|登记|帮我登记)?(?:一个|一下)?(?:投诉|投訴|提意见|反映问题)(?:一下)?"
    r"|i(?:'d| would)? (?:want|like|need) to (?:file |make |raise |lodge |register )?(?:a |an )?(?:formal )?"
    r"complain(?:t)?(?: about)?|(?:file|lodge|register|make|raise) a complaint(?: about)?|complain(?:t)?(?: about)?",
    re.I)


def opening_complaint(text: str) -> Dict[str, Any]:
    """What the message that opened the complaint form already says: its category when it names one, and itself as
    the description when, besides the request, it says what went wrong (8 characters or 5 words), so the customer
    is not asked again; a description that names no category leaves only that to ask. Anything taken is still
    shown for confirmation."""
    found: Dict[str, Any] = {} if category_of(text) == "other" else {"complaint_category": text}
    rest = COMPLAINT_WORDS.sub(" ", text)
    hanzi, words = len(re.findall(r"[\u4e00-\u9fff]", rest)), len(re.findall(r"[A-Za-z]+", rest))
    if hanzi >= 8 or words >= 5:
        found["complaint_description"] = text.strip()
    return found


def opening_message(tracker: Tracker, intent: str) -> str:
    """The text of the message that opened the form with ``intent``, while nothing has been asked yet, less the
    courtesy and self-introduction around it (``carecore.courtesy``): what it already says is read once, and the answers
    to the form's questions come through the domain's slot mappings."""
    if tracker.get_slot("requested_slot") is not None or latest_intent(tracker) != intent:
        return ""
    return last_said(tracker, intent)


def last_asked(tracker: Tracker, *intents: str) -> Dict[str, Any]:
    """The latest user event classified as one of ``intents``; empty for none."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and \
                ((event.get("parse_data") or {}).get("intent") or {}).get("name") in intents:
            return event
    return {}


def spoken(event: Dict[str, Any]) -> str:
    """A user event's text less its courtesy (all of it when it is nothing else)."""
    text = str(event.get("text") or "").strip()
    return core(text).strip() or text


def last_said(tracker: Tracker, *intents: str) -> str:
    """The latest message classified as one of ``intents``, less its courtesy: the one that opened a form, or asked
    what is answered once verification has told who the customer is (the latest message is then the code)."""
    return spoken(last_asked(tracker, *intents))


def answer_not_question(tracker: Tracker, slot: str) -> Optional[str]:
    """The latest message as the answer to ``slot``, asked for now, when it was classified as a question about the
    account but asks nothing: the domain's mappings leave those intents out so that real questions are answered."""
    return answer_read_as(tracker, slot, MID_FORM_QUESTIONS, lambda text: bool(text) and not ASKING.search(text))


def answer_read_as(tracker: Tracker, slot: str, intents: Tuple[str, ...], answers: Callable[[str], Any]) -> Optional[str]:
    """The latest message as the answer to ``slot``, asked for now, when the model read it as one of ``intents``,
    which the domain's mappings leave out, but it answers (``answers``): "the engineer never showed up" names the
    complaint's category, and "老是断，下个月就退网" is the symptom (the form's validation tells the manager of the
    leaving). Without this the answer was lost: the question was asked again, or a ticket chased instead."""
    if tracker.get_slot("requested_slot") != slot or latest_intent(tracker) not in intents:
        return None
    text = latest_text(tracker).strip()
    return text if answers(text) else None


# What a cancel says ("算了", "不报修了", "never mind", "drop it"): without it, "不清楚" read as one answers the
# question asked, and "接下来会怎么处理" read as one, right after a report, asks about its ticket.
CANCEL_WORDS = re.compile(
    r"取消|算了|撤[销回了掉单]|作废|放弃|退出|中止|终止|停止|停下|^\s*停\s*\W?\s*$|到此为止|别管了|等会再说|返回|结束\S{0,3}流程|"
    r"不(?:想|要|用|再)?(?:继续|报修|投诉|报|修|做|搞|填|提|申请|整|弄|办)了|不继续|不[用要]了|不需要|"
    r"\b(?:cancel\w*|never ?mind|forget|stop|quit|abort|withdraw|exit|terminate|drop|skip|call it off)\b|"
    r"\b(?:don'?t|do not|let'?s not|rather not)\b.{0,20}\b(?:bother|continue|do this|proceed)\b|\bno longer needed\b|"
    r"\bnot continue\b", re.I)


def not_known(text: str) -> bool:
    """Whether a message says the answer is not known, and not that the report is to be dropped ("不知道，算了")."""
    return bool(NOT_KNOWN.search(text)) and not CANCEL_WORDS.search(text)


def not_known_answer(tracker: Tracker, slot: str) -> Optional[str]:
    """The latest message as the answer to ``slot`` when it says the answer is not known ("不清楚", "不知道什么情况")
    and the model read it as a cancel, a no or a question: the report had been dropped, or the question asked again
    with no word why."""
    return answer_read_as(tracker, slot, ("cancel", "deny", *MID_FORM_QUESTIONS), not_known)


# What an answer naming what went wrong may be read as: leaving or out of scope, a chase ("the engineer never showed
# up"), a request for a person ("客户经理从来不回我微信") or thanks ("谢谢，账单多扣了钱"; "谢谢" alone answers nothing).
MISREAD_COMPLAINT = ("out_of_scope", "urge_ticket", "request_human", "thank")
# Asking to be contacted ("找客户经理", "帮我联系一下客户经理", "can someone call me"): a request for a person, whatever it names.
CONTACT_ASKED = re.compile(r"找|联系我|帮我联系|联系一下|给我(?:打|回)|回电|打给我|转|人工|换个人|别人|"
                           r"\b(?:call|phone|contact|talk|speak|human|agent|person|someone|somebody)\b", re.I)


def names_what_went_wrong(text: str) -> bool:
    return category_of(text) != "other" and not CONTACT_ASKED.search(text)


def hotline_complained_of(text: str) -> bool:
    """Read as the hotline question, an answer names what went wrong only when it asks nothing: "热线一直打不通" is a
    complaint, "客服热线多少" a question."""
    return names_what_went_wrong(text) and not ASKING.search(text)


def leaving_with_symptom(text: str) -> bool:
    return bool(LEAVING.search(text) and SYMPTOM_WORDS.search(text))


def asked_urgently(tracker: Tracker) -> bool:
    """Whether the message that opened the complaint form said it is urgent ("我要投诉，很紧急"), which no question
    of the form reads: the complaints asked for since the form before this one ended (this one's own end, after
    the last message, is passed over). Read at submission: rasa_sdk keeps only the form's required slots from an
    extraction, so the opening message cannot set ``complaint_urgent`` itself."""
    said = False
    for event in reversed(tracker.events):
        said = said or event.get("event") == "user"
        if event.get("event") == "active_loop" and not event.get("name") and said:
            return False
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if event.get("event") == "user" and intent == "file_complaint" and URGENT_WORDS.search(event.get("text") or ""):
            return True
    return False


def since_in(text: str) -> Optional[str]:
    """The longest phrase of ``text`` that says when something began, or None."""
    phrases = [m.group().strip() for m in SINCE_WORDS.finditer(text)]
    return max(phrases, key=len) if any(phrases) else None


def only_a_time(text: str) -> Optional[str]:
    """The time a message says when that is all it says ("从早上九点开始", "昨天晚上开始"): when, not what."""
    since = since_in(text)
    return since if since is not None and since == text.strip(" ，,。.!！") else None


def symptom_after_since(text: str) -> Optional[str]:
    """What an answer to "when did it begin" says of the fault besides the time ("从今天早上八点开始完全不通"), so
    the time reads back as a time and the symptom keeps the rest; None when the rest tells no symptom ("左右")."""
    since = since_in(text)
    rest = text.replace(since, " ", 1).strip(" ，,。.;；!！的了") if since else ""
    return rest if rest and SYMPTOM_WORDS.search(rest) else None


def says_a_time(text: str) -> bool:
    """A bare number ("1", the circuit's place in a list, perhaps) says no time."""
    return not re.fullmatch(r"\s*[0-9０-９]+\s*", text) and bool(since_in(text) or TIME_WORDS.search(text))


def replies_before_latest(tracker: Tracker) -> List[Dict[str, Any]]:
    """The assistant's messages (bot events) between the customer's previous message and the latest one, in order."""
    found: List[Dict[str, Any]] = []
    seen_latest_user = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if seen_latest_user:
                break
            seen_latest_user = True
        elif kind == "bot" and seen_latest_user:
            found.append(event)
    return found[::-1]


def responses_before_latest(tracker: Tracker) -> List[str]:
    """The names of the responses in ``replies_before_latest``."""
    return [str((event.get("metadata") or {}).get("utter_action") or "") for event in replies_before_latest(tracker)]


def responses_since_latest(tracker: Tracker) -> List[str]:
    """The names of the responses already given to the latest message."""
    found: List[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            found.append(str((event.get("metadata") or {}).get("utter_action") or ""))
    return found[::-1]


# The replies that open a ticket, and say its number.
CREATED = ("utter_fault_created", "utter_complaint_created", "utter_manager_complaint_created")


def reply_just_before(tracker: Tracker, *responses: str) -> str:
    """The text of the latest of ``responses`` among the replies just before the latest message; "" for none."""
    said = [e for e in replies_before_latest(tracker) if (e.get("metadata") or {}).get("utter_action") in responses]
    return str(said[-1].get("text") or "") if said else ""


def just_created(tracker: Tracker) -> Optional[str]:
    """The ticket the assistant's replies to the previous message opened ("取消" right after a report means it)."""
    opened = re.search(TICKET_ID_PATTERN.strip("^$"), reply_just_before(tracker, *CREATED))
    return opened.group() if opened else None


def month_named(tracker: Tracker, today: date) -> Optional[str]:
    """The month the customer named ('YYYY-MM'), read from the whole message that named it: its ``month`` entity
    ("10月") leaves out a year said around it ("去年10月", "October 2025")."""
    slot = tracker.get_slot("month")
    if not slot:
        return None
    for event in reversed(tracker.events):
        entities = ((event.get("parse_data") or {}).get("entities") or []) if event.get("event") == "user" else []
        if any(e.get("entity") == "month" for e in entities):
            return parse_month(str(event.get("text") or ""), today) or parse_month(slot, today)
    return parse_month(slot, today)


# "上个月呢", "那十月份的呢", "and last month?", "what about October": a month alone, asking the last question again
MONTH_ALONE = re.compile(r"(?:那|那么)?[^，,。？?\s]{1,8}?的?呢?[?？。]?|(?:(?:and|what about|how about)\s+)?(?:(?:for|in)\s+)?"
                         r"[a-z0-9']+(?:\s+[a-z0-9']+){0,2}\s*[?？]?", re.I)
ABOUT_USAGE = re.compile(r"账单|话费|费用|消费|流量|通话|短信|缴|交费|bill|usage|spend|data|minutes|sms|paid|pay", re.I)


def month_alone(text: str, today: date) -> bool:
    """Whether the message names a month and nothing else to ask: a follow-up to the answer just given, whatever
    it was about; one that names the bill or usage asks about them."""
    said = text.strip()
    return bool(MONTH_ALONE.fullmatch(said)) and not ABOUT_USAGE.search(said) and parse_month(said, today) is not None


def answered_month(tracker: Tracker, today: date, just_before: bool = False) -> Optional[str]:
    """The month the latest usage answer of the conversation (``just_before``: among the replies to the previous
    message) was about, read from the answer's own words ("Usage for August 2026"): what "compare it with July"
    compares, and what "the month before?" steps from."""
    replies = replies_before_latest(tracker) if just_before else [e for e in tracker.events if e.get("event") == "bot"]
    for event in reversed(replies):
        if (event.get("metadata") or {}).get("utter_action") == "utter_usage_report":
            # the month is named before the colon; the rest says "vs the previous month" ("较上月")
            return parse_month(re.split(r"[:：]", str(event.get("text") or ""), maxsplit=1)[0], today)
    return None


def latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def latest_intent(tracker: Tracker) -> str:
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")
