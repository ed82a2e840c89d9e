"""Splitting long texts under a channel's limit, only between characters a reader sees."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from chat.messages import split_html, split_text, to_plain

# What Telegram's HTML parse mode accepts: these tags, the four named entities and numeric ones.
TELEGRAM_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "tg-emoji", "code", "pre", "blockquote",
}  # fmt: skip
TELEGRAM_HTML = re.compile(
    r"<(?P<close>/?)(?P<tag>[a-z-]+)(?:\s[^<>]*)?>|&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);|[^<&]"
)
OPENING = ["<b>", "<i>", "<u>", "<code>", "<pre>", '<a href="https://t.me/dondoc_bot?start=A7K">']


def telegram_html_problem(piece: str) -> str | None:
    """Why Telegram would refuse `piece` in HTML parse mode, or None."""
    open_tags: list[str] = []
    position = 0
    for match in TELEGRAM_HTML.finditer(piece):
        if match.start() != position:
            return f"cut tag or entity at {position}: {piece[position : position + 12]!r}"
        position = match.end()
        tag = match["tag"]
        if tag is None:
            continue
        if tag not in TELEGRAM_TAGS:
            return f"tag <{tag}>"
        if not match["close"]:
            open_tags.append(tag)
        elif not open_tags or open_tags.pop() != tag:
            return f"unbalanced </{tag}>"
    if position != len(piece):
        return f"cut tag or entity at {position}: {piece[position:]!r}"
    return f"unclosed {open_tags}" if open_tags else None


def visible(text: str) -> str:
    """What a reader sees of Telegram HTML, line breaks aside (a cut may drop one)."""
    return html.unescape(re.sub(r"<[^<>]*>", "", text)).replace("\n", "")


# User text as the templates escape it (&amp; &lt; &gt; &quot; &#x27;), with the numeric
# entities of the reported fault, Vietnamese written with combining accents and joined emoji.
USER_TEXT = st.lists(
    st.characters(codec="utf-8") | st.sampled_from(["&", "<", '"', "\n", " ", "e\u0301", "👍🏽"]),
    max_size=80,
).map(lambda chars: html.escape("".join(chars))) | st.sampled_from(["&#34;", "&#x1F44D;"])


def element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """One of the tags our templates write, around some children."""
    return st.builds(
        lambda opening, inner: f"{opening}{''.join(inner)}</{opening[1:].split()[0].strip('>')}>",
        st.sampled_from(OPENING),
        st.lists(children, max_size=6),
    )


NESTED = USER_TEXT
for _ in range(3):  # tags nest three deep at most, like the templates
    NESTED = NESTED | element(NESTED)
TELEGRAM_TEXT = st.lists(NESTED, max_size=40).map("".join)


@given(TELEGRAM_TEXT, st.integers(min_value=150, max_value=600))
def test_every_html_piece_is_valid_fits_and_the_text_reads_the_same(text: str, limit: int) -> None:
    pieces = split_html(text, limit)
    for piece in pieces:
        assert len(piece) <= limit
        assert telegram_html_problem(piece) is None, piece
    assert "".join(visible(p) for p in pieces) == visible(text)


def test_an_entity_is_never_cut() -> None:
    # The reported confirmation: 4,096 characters fell between "&#" and "34;".
    text = "Xác nhận " + "x" * 4085 + "&#34;KH-315&#34; đã hoàn thành"
    first, second = split_html(text, 4096)
    assert first.endswith("x") and second.startswith("&#34;KH-315&#34;")
    assert telegram_html_problem(first) is None and telegram_html_problem(second) is None


def test_a_tag_open_at_the_cut_is_closed_and_reopened() -> None:
    text = '<a href="https://t.me/x">' + "<b>" + "rất dài " * 600 + "</b></a>"
    pieces = split_html(text, 4096)
    assert len(pieces) == 2
    assert all(p.startswith('<a href="https://t.me/x"><b>') for p in pieces)
    assert all(p.endswith("</b></a>") for p in pieces)
    assert pieces[0].endswith(" </b></a>")  # cut after a word, not inside one


@given(st.text(max_size=12_000), st.sampled_from([2000, 4096]))
def test_pieces_fit_and_keep_the_text(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(len(p) <= limit for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_plain_text_is_not_cut_inside_a_letter_or_an_emoji() -> None:
    text = "Tiến độ: " + "e\u0301" * 1500 + "👍🏽" * 1000  # accents written apart, a skin tone
    pieces = split_text(text, 2000)
    assert "".join(pieces) == text
    assert all(not p.startswith(("\u0301", "\U0001f3fd")) for p in pieces)


def test_splits_at_line_breaks() -> None:
    text = "\n".join(f"dòng {i:04d}" for i in range(1000))  # 9,999 characters
    pieces = split_text(text, 4096)
    assert len(pieces) == 3
    assert all(p.startswith("dòng ") for p in pieces)
    assert "\n".join(pieces) == text


def test_plain_text_keeps_user_text_and_drops_markup() -> None:
    assert to_plain("<b>Hạn</b>: &lt;script&gt; <code>A7K</code>") == "Hạn: <script> A7K"
