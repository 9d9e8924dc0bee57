"""Generated PDF documents (agreements, yearly reports, letters): one small builder on fpdf2.

Every document uses the fonts bundled with Zhouxin (zhouxin/core/fonts/: DroidSansFallbackFull.ttf,
Apache 2.0, for Chinese; DejaVuSans.ttf for digits and Latin letters, which the first one lacks),
embedded and subset by fpdf2 with a ToUnicode map, so the text prints the same on any
machine and can be searched and copied out; no system font is ever looked up.  Chinese has no
spaces between words, so every text is wrapped character by character (WrapMode.CHAR).

The creation date is a parameter and fpdf2 derives the file identifier from the content and that
date, so the same data gives byte-for-byte the same file: a document's SHA-256 identifies its
content, and a re-generated document can be compared with the one that was issued.

    doc = Document(title="共建协议", creation_date=issued_at)
    doc.heading("一、共建内容")
    doc.paragraph("……")
    doc.key_values([("协议编号", number), ("预算", "8,000.00 元")])
    doc.table(["日期", "内容"], rows)
    data = doc.output()
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import Align, TableBordersLayout, WrapMode, XPos, YPos
from fpdf.fonts import FontFace

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
FONT_PATH = FONTS_DIR / "DroidSansFallbackFull.ttf"
# DroidSansFallback has the CJK glyphs but no Latin letters, digits or curly quotes: those come
# from DejaVu Sans (Bitstream Vera licence), fpdf2's fallback font for what the first one lacks.
LATIN_FONT_PATH = FONTS_DIR / "DejaVuSans.ttf"
FONT = "zhouxin-cjk"
LATIN_FONT = "zhouxin-latin"
AUTHOR = "轴心"
MARGIN_MM = 20  # left and right; top 22, bottom 20 (footer inside it)
BODY_PT = 11
LINE_MM = 6.5
HEADING_PT = {1: 14, 2: 12}
TITLE_PT = 20
MUTED = (90, 90, 90)
RULE = (180, 180, 180)
HEAD_FILL = (235, 238, 242)


class _Pdf(FPDF):
    """FPDF with the page footer “第 N 页 / 共 M 页”."""

    footer_note = ""

    def footer(self) -> None:
        self.set_y(-14)
        self.set_text_color(*MUTED)
        align = Align.C
        if self.footer_note:  # e.g. the document's number, left; the page count then goes right
            self.set_font(FONT, size=9)
            self.cell(self.epw * 0.6, 5, self.footer_note, align=Align.L)
            self.set_x(self.l_margin)
            align = Align.R
        # The page count is filled in at the end in the line's own font: a font with digits.
        self.set_font(LATIN_FONT, size=9)
        self.cell(0, 5, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align=align)
        self.set_text_color(0, 0, 0)


def _text(value) -> str:
    """Printable text: None is a dash, and characters the PDF text model cannot take are dropped."""
    if value is None or value == "":
        return "—"
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "".join(ch for ch in text if ch == "\n" or ch.isprintable())


class Document:
    """An A4 portrait document with a title, headings, paragraphs, key–value blocks, tables and
    signature blocks.  `creation_date` must be an aware datetime; it is written into the metadata
    (and, with the content, fixes the file identifier), so pass the moment the document is issued
    for, not now(), when the same data must give the same bytes."""

    def __init__(self, *, title: str, creation_date: dt.datetime, subject: str = "",
                 keywords: Sequence[str] = (), author: str = AUTHOR, subtitle: str = "", footer_note: str = ""):
        if creation_date.tzinfo is None:
            raise ValueError("creation_date must be timezone-aware")
        pdf = _Pdf(orientation="P", unit="mm", format="A4")
        pdf.footer_note = footer_note
        pdf.set_margins(MARGIN_MM, 22, MARGIN_MM)
        pdf.set_auto_page_break(True, margin=20)
        pdf.add_font(FONT, style="", fname=str(FONT_PATH))
        pdf.add_font(LATIN_FONT, style="", fname=str(LATIN_FONT_PATH))
        pdf.set_fallback_fonts([LATIN_FONT, FONT])
        pdf.set_font(FONT, size=BODY_PT)
        pdf.set_title(title)
        pdf.set_author(author)
        pdf.set_creator("Zhouxin 轴心")
        pdf.set_producer("Zhouxin 轴心")
        if subject:
            pdf.set_subject(subject)
        if keywords:
            pdf.set_keywords(" ".join(keywords))
        pdf.set_lang("zh-CN")
        pdf.set_creation_date(creation_date)
        pdf.alias_nb_pages()
        pdf.add_page()
        self.pdf = pdf
        self.title = title
        self._title_block(title, subtitle)

    # --- Blocks --------------------------------------------------------------------------

    def _title_block(self, title: str, subtitle: str) -> None:
        pdf = self.pdf
        pdf.set_font(FONT, size=TITLE_PT)
        pdf.multi_cell(0, 11, _text(title), align=Align.C, wrapmode=WrapMode.CHAR,
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if subtitle:
            pdf.set_font(FONT, size=BODY_PT)
            pdf.set_text_color(*MUTED)
            pdf.multi_cell(0, LINE_MM, _text(subtitle), align=Align.C, wrapmode=WrapMode.CHAR,
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_text_color(0, 0, 0)
        pdf.ln(4)
        pdf.set_font(FONT, size=BODY_PT)

    def heading(self, text: str, *, level: int = 1) -> None:
        """A section heading; it moves to the next page rather than stand alone at a page's foot."""
        pdf = self.pdf
        size = HEADING_PT.get(level, BODY_PT)
        if pdf.get_y() > pdf.h - pdf.b_margin - 25:
            pdf.add_page()
        pdf.ln(3 if level == 1 else 1.5)
        pdf.set_font(FONT, size=size)
        pdf.multi_cell(0, size * 0.55, _text(text), align=Align.L, wrapmode=WrapMode.CHAR,
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.5)
        pdf.set_font(FONT, size=BODY_PT)

    def paragraph(self, text: str, *, indent: bool = True, size: float = BODY_PT, muted: bool = False,
                  align: str = "L") -> None:
        """A paragraph wrapped character by character; each line of `text` is its own paragraph,
        indented by two characters (the Chinese convention) unless `indent` is False.  `align`
        "R" sets it flush right (a letter's signature and date), without the indent."""
        pdf = self.pdf
        pdf.set_font(FONT, size=size)
        if muted:
            pdf.set_text_color(*MUTED)
        lead = "\u3000\u3000" if indent and align == "L" else ""
        for line in _text(text).split("\n"):
            line = line.strip()
            if not line:
                continue
            pdf.multi_cell(0, LINE_MM, lead + line, align=Align.coerce(align), wrapmode=WrapMode.CHAR,
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.5)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(FONT, size=BODY_PT)

    def items(self, lines: Iterable[str]) -> None:
        """Numbered or bulleted lines as given (the caller writes “1.” or “（一）”), with a hanging indent."""
        pdf = self.pdf
        for line in lines:
            pdf.set_x(pdf.l_margin + 4)
            pdf.multi_cell(pdf.epw - 4, LINE_MM, _text(line), align=Align.L, wrapmode=WrapMode.CHAR,
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.5)

    def key_values(self, pairs: Iterable[tuple[str, object]], *, label_width: float = 38) -> None:
        """Label: value lines (a document's particulars); long values wrap under themselves."""
        pdf = self.pdf
        for label, value in pairs:
            if pdf.get_y() > pdf.h - pdf.b_margin - LINE_MM:
                pdf.add_page()
            y = pdf.get_y()
            pdf.set_text_color(*MUTED)
            pdf.multi_cell(label_width, LINE_MM, _text(label) + "：", align=Align.L, wrapmode=WrapMode.CHAR,
                           new_x=XPos.RIGHT, new_y=YPos.TOP)
            pdf.set_text_color(0, 0, 0)
            pdf.set_xy(pdf.l_margin + label_width, y)
            pdf.multi_cell(pdf.epw - label_width, LINE_MM, _text(value), align=Align.L, wrapmode=WrapMode.CHAR,
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)

    def table(self, headings: Sequence[str], rows: Iterable[Sequence[object]], *,
              col_widths: Sequence[float] | None = None, align: Sequence[str] | None = None,
              size: float = 9.5) -> None:
        """A bordered table with a shaded heading row repeated on every page.  `col_widths` are
        relative widths; `align` per column ("L", "C", "R"), left by default."""
        pdf = self.pdf
        pdf.set_font(FONT, size=size)
        aligns = tuple(align) if align else ("L",) * len(headings)
        style = FontFace(emphasis="", fill_color=HEAD_FILL)
        pdf.set_draw_color(*RULE)
        with pdf.table(col_widths=tuple(col_widths) if col_widths else None, headings_style=style,
                       text_align=aligns, line_height=size * 0.5, padding=(1.2, 1.5),
                       borders_layout=TableBordersLayout.ALL, wrapmode=WrapMode.CHAR, repeat_headings=1,
                       width=pdf.epw) as table:
            header = table.row()
            for heading in headings:
                header.cell(_text(heading), align=Align.C)
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(_text(value))
        pdf.set_draw_color(0, 0, 0)
        pdf.ln(3)
        pdf.set_font(FONT, size=BODY_PT)

    def signatures(self, blocks: Sequence[tuple[str, Sequence[str]]]) -> None:
        """Signature blocks side by side, two a row: each a party's name and its lines
        (e.g. “（盖章）”, “代表签字：”, “日期：    年  月  日”).  A row never splits across pages."""
        pdf = self.pdf
        width = pdf.epw / 2
        for start in range(0, len(blocks), 2):
            pair = blocks[start:start + 2]
            height = max(LINE_MM * (3 + len(lines)) for _name, lines in pair) + 8
            if pdf.get_y() + height > pdf.h - pdf.b_margin:
                pdf.add_page()
            top = pdf.get_y()
            bottom = top
            for column, (name, lines) in enumerate(pair):
                x = pdf.l_margin + column * width
                pdf.set_xy(x, top)
                pdf.multi_cell(width - 6, LINE_MM, _text(name), align=Align.L, wrapmode=WrapMode.CHAR,
                               new_x=XPos.LEFT, new_y=YPos.NEXT)
                pdf.ln(LINE_MM)
                for line in lines:
                    pdf.set_x(x)
                    pdf.multi_cell(width - 6, LINE_MM * 1.6, _text(line), align=Align.L, wrapmode=WrapMode.CHAR,
                                   new_x=XPos.LEFT, new_y=YPos.NEXT)
                bottom = max(bottom, pdf.get_y())
            pdf.set_xy(pdf.l_margin, bottom + 6)

    def spacer(self, mm: float = 4) -> None:
        self.pdf.ln(mm)

    def page_break(self, *, title: str = "", subtitle: str = "") -> None:
        """A new page; with `title`, the page opens with its own title block (one document of
        many letters or cards, one to a page)."""
        self.pdf.add_page()
        if title:
            self._title_block(title, subtitle)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿", "万亿")


def _group_upper(value: int) -> str:
    """0 < value < 10000 in capital numerals, zeros inside collapsed to one 零."""
    out, zero = "", False
    for place in range(3, -1, -1):
        digit = value // 10 ** place % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[digit] + _PLACES[place]
    return out


def rmb_upper(amount) -> str:
    """An amount of yuan in capital numerals as written on contracts and vouchers (大写金额):
    8000 → 捌仟元整, 10005.5 → 壹万零伍元伍角整, 0.05 → 伍分 (GB/T rules: 整 after 元 or 角)."""
    from decimal import ROUND_HALF_UP, Decimal

    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if value < 0:
        return "负" + rmb_upper(-value)
    cents = int(value * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if cents == 0:
        return "零元整"
    text = ""
    if yuan:
        groups = []
        while yuan:
            groups.append(yuan % 10000)
            yuan //= 10000
        skipped = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group == 0:
                skipped = bool(text)
                continue
            if text and (skipped or group < 1000):
                text += "零"
            text += _group_upper(group) + _GROUPS[index]
            skipped = False
        text += "元"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif fen and text:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    else:
        text += "整"
    return text
