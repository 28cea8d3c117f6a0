"""What asks for an order only the account manager takes."""

from __future__ import annotations

import pytest

from actions import order_words


@pytest.mark.parametrize("text, order", [
    ("我想把专线带宽升级到200M", True), ("带宽能不能再加一点", True), ("我们想再开一条专线", True),
    ("我们公司搬家了，专线要移机", True), ("开票信息要改一下", True), ("想开张发票", True), ("合同快到期了，想续约", True),
    ("有没有什么优惠套餐", True), ("能不能把账单寄到新地址", True), ("can we upgrade our bandwidth to 1G", True), ("we need a second line to Shanghai", True),
    ("we're moving office, can the circuit be relocated", True), ("I need an invoice for November", True),
    ("can you send me a quote", True), ("账单能寄纸质的吗", True), ("can we get a paper bill", True),
    ("你们能不能给我们减免一点费用", True), ("能分期付吗", True), ("can we pay in instalments", True), ("我们想申请一个固定IP", True), ("we'd like a static IP", True),
    ("帮我改一下联系人电话", True), ("change our contact email", True), ("联系人是谁", False),
    ("你们公司在哪", False), ("天气怎么样", False), ("what's the weather like", False), ("tell me a joke", False),
])
def test_asking_for_what_only_the_manager_takes(text: str, order: bool) -> None:
    assert bool(order_words.ORDER.search(text)) is order
