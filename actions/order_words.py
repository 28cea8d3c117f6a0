"""What asks for an order only the account manager takes (一站式服务's 业务受理), and a price asked of one: however
the model read it, the customer is told whose it is and offered the call."""

from __future__ import annotations

import re

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.message_reading import latest_text, questions_named, responses_before_latest

# An order only the account manager takes (一站式服务's 业务受理): more bandwidth, a new line, a move, an invoice,
# a renewal or a price ("我们想把带宽升级到200M", "专线要移机", "can we get a quote for a second line").
ORDER = re.compile(
    r"升级|提速|扩容|(?:增|加|提|调|改|降)\S{0,2}带宽|带宽\S{0,8}(?:升|扩|加|提|调|改|降)|新装|加装|新开|再(?:开|加|装|拉)|"
    r"(?:开|加|装|拉|申请|新增)(?:一|两|几|个|\d)?(?:条|根|路)?(?:新的?)?(?:专线|线路|电路|宽带)|移机|迁移|搬迁|搬家|"
    r"(?:换|改|变更|更新)\S{0,3}(?:地址|抬头|名称|联系人|联系电话|邮箱)|寄(?:到|往|给|过来|一份)|寄送|邮寄|纸质|开\S{0,2}票|发票|报价|资费|"
    r"优惠|减免|打折|折扣|降价|便宜|少收|分期|缓缴|延期缴|套餐|开通|漫游|(?:固定|公网|静态)\s*IP|续约|续签|合同|过户|更名|"
    r"\bupgrad\w*|\bmore bandwidth\b|\b(?:increase|raise|double|boost)\w*\b.{0,20}\b(?:bandwidth|speed)\b|"
    r"\b(?:new|another|second|extra|additional)\s+(?:leased\s+)?(?:line|circuit|connection)s?\b|\binstall\w*|"
    r"\brelocat\w*|\bmov\w*\b.{0,25}\b(?:line|circuit|office|premises)s?\b|\binvoices?\b|\bquot(?:e|ation)s?\b|"
    r"\bpaper (?:bill|invoice|cop)\w*|\broaming\b|\b(?:static|fixed|public) IPs?\b|\bgroup plan\b|"
    r"\binstal+ments?\b|\bpayment plan\b|\b(?:change|update)\w*\b.{0,20}\b(?:contacts?|e-?mail|address)\b|"
    r"\bpric(?:e|es|ing)\b|\brenew\w*|\bcontract\b|\bdiscounts?\b",
    re.I | re.S)
# The replies that offer the manager's call for an order; a price asked right after one ("要多少钱", "how much
# would that be") is the order's, which only the manager quotes, not the bill's.
ORDER_OFFERS = frozenset({"utter_order_to_manager", "utter_bill_delivery_to_manager", "utter_order_price_to_manager"})
# ... unless it names the account's own money ("how much credit did we get", "上个月账单多少钱")
OF_THE_ACCOUNT = re.compile(r"账单|话费|欠费|\bbills?\b|\bowe\b", re.I)
PRICE_ASKED = re.compile(r"多少钱|什么价|价格|价钱|费用|收费|资费|报价|贵不贵|贵吗|怎么收|\bhow much\b|\bcosts?\b|\bpric\w*|"
                         r"\bfees?\b|\bcharge", re.I)


def told_order_price(tracker: Tracker, dispatcher: CollectingDispatcher) -> bool:
    """A price asked right after an order offer, outside a report, is told to be the manager's to quote, whatever the
    model read it as (the bill, out of scope, nothing). Whether it was."""
    text = latest_text(tracker)
    if tracker.active_loop_name is not None or not PRICE_ASKED.search(text) or \
            not ORDER_OFFERS & set(responses_before_latest(tracker)) or OF_THE_ACCOUNT.search(text) or \
            any(question != "ask_usage" for question in questions_named(text)):
        return False  # "how much credit did we get last month?", "上个月账单多少钱": the account's
    dispatcher.utter_message(response="utter_order_price_to_manager")
    return True
