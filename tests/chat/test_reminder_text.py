"""Reminder messages as a contact reads them: due lines, codes, buttons, and how they split."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.channels.telegram import TelegramSender
from bot.channels.zalo import ZaloSender
from chat.messages import Capabilities, to_plain
from chat.reminder_text import ReminderItem, reminder_messages

TELEGRAM = TelegramSender.capabilities
ZALO = ZaloSender.capabilities

TODAY = date(2026, 11, 23)
ITEM = ReminderItem(
    code="A7K",
    plan_label="Kế hoạch 315/KH-UBND",
    task_key="3",
    task_title="Rà soát cơ sở vật chất <trường học> & báo cáo",
    unit_name="Trường THCS Cẩm Giàng",
    due_date=date(2026, 11, 30),
    due_kind="dated",
)


def text(item: ReminderItem, channel: Capabilities = TELEGRAM) -> str:
    """The plain text of the one message for one item."""
    ((message, keys),) = reminder_messages(channel, [("row", item)], TODAY)
    assert keys == ["row"]
    return to_plain(message.text) if channel.html else message.text


def test_due_lines_count_days_left_today_and_overdue() -> None:
    assert "Hạn: 30/11/2026 (còn 7 ngày)" in text(ITEM)
    assert "Hạn: 23/11/2026 (hôm nay)" in text(replace(ITEM, due_date=TODAY))
    assert "Hạn: 20/11/2026 (quá hạn 3 ngày)" in text(replace(ITEM, due_date=date(2026, 11, 20)))
    ongoing = replace(ITEM, due_date=None, due_kind="ongoing")
    assert "Thường xuyên — báo cáo tiến độ tháng 11/2026" in text(ongoing)


def test_telegram_text_is_escaped_html_with_buttons_and_zalo_text_has_reply_codes() -> None:
    ((message, _),) = reminder_messages(TELEGRAM, [(1, ITEM)], TODAY)
    assert "&lt;trường học&gt; &amp; báo cáo" in message.text
    assert [b.data for b in message.buttons[0]] == ["s:A7K:1", "s:A7K:2", "s:A7K:3"]
    zalo = text(ITEM, channel=ZALO)
    assert "<trường học> & báo cáo" in zalo and "A7K 1 (xong)" in zalo


def test_a_heads_escalation_copy_asks_for_no_answer() -> None:
    ((message, _),) = reminder_messages(TELEGRAM, [(1, replace(ITEM, escalation=True))], TODAY)
    assert "Chưa hoàn thành — báo cáo lãnh đạo" in to_plain(message.text)
    assert "Chọn trạng thái" not in message.text and message.buttons == ()
    assert "Chọn trạng thái" in reminder_messages(TELEGRAM, [(1, ITEM)], TODAY)[0][0].text


def test_many_tasks_split_into_messages_each_with_its_own_rows() -> None:
    items = [(n, replace(ITEM, code=f"C{n:02d}", task_key=str(n))) for n in range(1, 11)]
    parts = reminder_messages(TELEGRAM, items, TODAY)
    assert [keys for _, keys in parts] == [list(range(1, 9)), [9, 10]]
    assert "Nhiệm vụ 8:" in parts[0][0].text and "Nhiệm vụ 9:" in parts[1][0].text
    zalo = reminder_messages(ZALO, items, TODAY)
    assert [len(keys) for _, keys in zalo] == [3, 3, 3, 1]
