"""Splitting long texts under a channel's limit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from plans.messages import split_text, to_plain


@given(st.text(max_size=12_000), st.sampled_from([2000, 4096]))
def test_pieces_fit_and_keep_the_text(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(len(p) <= limit for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_splits_at_line_breaks() -> None:
    text = "\n".join(f"dòng {i:04d}" for i in range(1000))  # 9,999 characters
    pieces = split_text(text, 4096)
    assert len(pieces) == 3
    assert all(p.startswith("dòng ") for p in pieces)
    assert "\n".join(pieces) == text


def test_plain_text_keeps_user_text_and_drops_markup() -> None:
    assert to_plain("<b>Hạn</b>: &lt;script&gt; <code>A7K</code>") == "Hạn: <script> A7K"
