"""The words of a pack, checked: statement and summary regenerated from the verified claim.

Verification first recomputes every number of ``claim.json`` from the raw tables; then this
module regenerates what a reader takes away — and fails, naming file and field, when the pack
says anything else:

* ``claim.json`` ``statement``: the sentence is rebuilt from the checked fields
  (:func:`greenlink.evidence.claims.green_share_statement`,
  :func:`greenlink.evidence.shipment.shipment_statement`) and must be equal;
* ``summary/summary.html``: the page is rebuilt around the pack's plot
  (:func:`greenlink.evidence.summary.html_page`) and must be byte-equal — the claim table with
  every headline number, the heading, the text; the plot must be one plain SVG image (no text,
  script or embedded HTML);
* ``summary/summary.pdf``: the text of the first page (title and claim table) is read from the
  PDF's content stream and must equal the rows
  :func:`greenlink.evidence.summary.pdf_rows` gives (printable ASCII compared: characters
  outside it are drawn from other fonts).

Not checked: the plots (SVG in the HTML, page 2 of the PDF) are drawn by the builder from
``claim_hours.csv``; verification does not redraw them.
"""

from __future__ import annotations

import html
import re
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from greenlink.evidence.build import SUMMARY_HTML, SUMMARY_PDF
from greenlink.evidence.claims import CLAIM_FILE, GREEN_SHARE, green_share_statement
from greenlink.evidence.shipment import SHIPMENT, shipment_statement
from greenlink.evidence.summary import _claim_lines, html_page, pdf_rows, pdf_title
from greenlink.evidence.tables import fail
from greenlink.i18n import LANGUAGES

#: Most bytes one PDF content stream may inflate to when its text is read.
MAX_PDF_STREAM_BYTES = 16 * 1024**2


def _green_share(doc: Mapping[str, Any]) -> str:
    return green_share_statement(str(doc["user_id"]), float(doc["claimed"]["hourly_matched_share"]),
                                 str(doc["period"]["start"]), str(doc["period"]["end"]))


#: Statement of each claim kind from its (checked) claim document.
STATEMENTS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    GREEN_SHARE: _green_share,
    SHIPMENT: shipment_statement,
}


def check_statement(doc: Mapping[str, Any]) -> None:
    """``claim.json`` ``statement`` equals the one regenerated from the checked numbers."""
    try:
        want = STATEMENTS[str(doc.get("kind"))](doc)
    except (KeyError, TypeError, ValueError) as exc:
        raise fail(CLAIM_FILE, f"statement cannot be regenerated: missing or bad {exc}",
                   field="statement") from exc
    got = doc.get("statement")
    if got != want:
        raise fail(CLAIM_FILE, f"says {got!r}, the checked numbers say {want!r}",
                   field="statement")


def check_summaries(members: Mapping[str, bytes], doc: Mapping[str, Any]) -> None:
    """The summaries (where the pack has them) say what the checked claim says."""
    try:
        if SUMMARY_HTML in members:
            check_summary_html(members[SUMMARY_HTML], doc)
        if SUMMARY_PDF in members:
            check_summary_pdf(members[SUMMARY_PDF], doc)
    except (KeyError, TypeError, ValueError) as exc:
        raise fail(CLAIM_FILE, f"summary rows cannot be regenerated: missing or bad {exc}",
                   field="summary") from exc


_ROW = re.compile(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", re.S)
#: Elements a plot may hold (what matplotlib writes for line plots, paths for text): no
#: ``text``, ``foreignObject``, ``script``, ``image`` or links.
SVG_ELEMENTS = frozenset({
    "svg", "g", "path", "rect", "use", "defs", "clipPath", "style", "metadata", "rdf:RDF",
    "cc:Work", "cc:Agent", "dc:creator", "dc:format", "dc:title", "dc:type", "dc:date",
    "circle", "ellipse", "line", "polyline", "polygon", "linearGradient", "radialGradient",
    "stop", "pattern", "mask"})
_HTML_LANG = re.compile(r'<html lang="([^"]+)"')
_TAG = re.compile(r"<\s*([A-Za-z][\w:.-]*)")
_SVG_BAD_ATTR = re.compile(r"""\son\w+\s*=|href\s*=\s*["'](?!#)|url\(\s*(?!['"]?#)|@import""",
                           re.I)


def _rows(page: str) -> list[tuple[str, str]]:
    return [(html.unescape(k), html.unescape(v)) for k, v in _ROW.findall(page)]


def check_summary_html(data: bytes, doc: Mapping[str, Any]) -> None:
    """The HTML summary is the page regenerated from the checked claim around one plain SVG."""
    try:
        page = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(SUMMARY_HTML, f"not UTF-8: {exc}") from exc
    mark = "\x00svg\x00"
    # the page may be in any of greenlink's languages: the one whose regenerated page frames it
    framed = [html_page(doc, mark, lang).decode("utf-8").partition(mark)
              for lang in LANGUAGES]
    head, _, tail = next(((h, m, t) for h, m, t in framed
                          if page.startswith(h) and page.endswith(t)), framed[0])
    svg = page[len(head):len(page) - len(tail)] if len(page) >= len(head) + len(tail) else ""
    if not (page.startswith(head) and page.endswith(tail)):
        declared = _HTML_LANG.search(page)
        lang = declared.group(1) if declared and declared.group(1) in LANGUAGES else "en"
        want, got = _claim_lines(doc, lang), _rows(page)
        for i, row in enumerate(want):
            if i >= len(got) or got[i] != row:
                shown = got[i][1] if i < len(got) else "nothing"
                raise fail(SUMMARY_HTML, f"shows {shown!r}, the checked claim says {row[1]!r}",
                           row=i + 1, field=row[0])
        raise fail(SUMMARY_HTML, "page differs from the one regenerated from the checked claim"
                   " (heading, text or extra rows)", field="page")
    lowered = svg.lower()
    tags = {t for t in _TAG.findall(svg)}
    bad = sorted(tags - SVG_ELEMENTS)
    if (not svg.startswith("<svg") or lowered.count("<svg") != 1
            or lowered.count("</svg>") != 1 or not svg.rstrip().endswith("</svg>") or bad
            or _SVG_BAD_ATTR.search(svg)):
        why = f" (it holds <{bad[0]}>)" if bad else ""
        raise fail(SUMMARY_HTML, f"the plot is not one plain SVG image{why}", field="plot")


# ---------------------------------------------------------------------------------------------
# PDF: the text of the first page, as matplotlib writes it (literal strings in Tj/TJ)

class _Pdf:
    """Objects of a PDF with one classic cross-reference table (as matplotlib writes it):
    looked up by the table's offsets, as a viewer does; incremental updates are refused."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        if data.count(b"startxref") != 1 or data.count(b"trailer") != 1:
            raise ValueError("not a single-revision PDF (incremental update?)")
        m = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data)
        if m is None:
            raise ValueError("startxref missing")
        x = int(m.group(1))
        head = re.compile(rb"xref\s+(\d+)\s+(\d+)\s*\n").match(data, x)
        if head is None:
            raise ValueError("cross-reference table missing")
        first, count = int(head.group(1)), int(head.group(2))
        rows = data[head.end():head.end() + 20 * count]
        self.offsets = {first + i: int(rows[20 * i:20 * i + 10])
                        for i in range(count) if rows[20 * i + 17:20 * i + 18] == b"n"}
        self.trailer = data[data.rfind(b"trailer"):m.start()]

    def object(self, number: int) -> tuple[bytes, bytes | None]:
        """(dictionary text, stream bytes or None) of an indirect object."""
        at = self.offsets.get(number)
        m = None if at is None else re.compile(
            str(number).encode() + rb"\s+0\s+obj\b").match(self.data, at)
        if m is None:
            raise ValueError(f"PDF object {number} not where the cross-reference table says")
        end = self.data.find(b"endobj", m.end())
        if end < 0:
            raise ValueError(f"PDF object {number} unterminated")
        body = self.data[m.end():end]
        s = re.search(rb">>\s*stream\r?\n", body)
        if s is None:
            return body, None
        length = re.search(rb"/Length\s+(\d+)(\s+0\s+R)?", body[:s.end()])
        if length is None:
            raise ValueError(f"PDF object {number}: stream without /Length")
        n = int(length.group(1))
        if length.group(2):
            n = int(self.object(n)[0].strip())
        raw = body[s.end():s.end() + n]
        if not re.fullmatch(rb"\s*endstream\s*", body[s.end() + n:]):
            raise ValueError(f"PDF object {number}: /Length does not end the stream")
        return body[:s.end()], raw


def _ref(text: bytes, key: bytes) -> int:
    m = re.search(rb"/" + key + rb"\s+(\d+)\s+0\s+R", text)
    if m is None:
        raise ValueError(f"PDF /{key.decode()} missing or not a single reference")
    return int(m.group(1))


def _inflate(raw: bytes) -> bytes:
    d = zlib.decompressobj()
    out = d.decompress(raw, MAX_PDF_STREAM_BYTES)
    if d.unconsumed_tail:
        raise ValueError(f"a content stream inflates to more than {MAX_PDF_STREAM_BYTES} bytes")
    return out


def _literal(data: bytes, i: int) -> tuple[bytes, int]:
    """A PDF literal string starting at ``data[i] == '('``: (bytes, index after it)."""
    out, depth, i = bytearray(), 1, i + 1
    escapes = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b",
               ord("f"): b"\f"}
    while i < len(data):
        c = data[i]
        if c == ord("\\"):
            i += 1
            if i >= len(data):
                break
            e = data[i]
            if e in escapes:
                out += escapes[e]
            elif ord("0") <= e <= ord("7"):
                digits = re.match(rb"[0-7]{1,3}", data[i:i + 3])
                assert digits is not None
                out.append(int(digits.group(), 8) & 0xFF)
                i += len(digits.group()) - 1
            elif e in b"\r\n":
                if e == ord("\r") and data[i + 1:i + 2] == b"\n":
                    i += 1
            else:
                out.append(e)
        elif c == ord("("):
            depth += 1
            out.append(c)
        elif c == ord(")"):
            depth -= 1
            if depth == 0:
                return bytes(out), i + 1
            out.append(c)
        else:
            out.append(c)
        i += 1
    raise ValueError("unterminated PDF string")


_DELIM = b"()<>[]{}/% \t\r\n\f\x00"


def text_blocks(content: bytes) -> list[str]:
    """The text shown in each ``BT … ET`` block of a content stream (string operands of the
    text operators joined; a hex string, which this reader does not decode, is refused)."""
    blocks: list[str] = []
    current: list[bytes] | None = None
    i, n = 0, len(content)
    while i < n:
        c = content[i]
        if c == ord("("):
            s, i = _literal(content, i)
            if current is not None:
                current.append(s)
            continue
        if c == ord("<") and content[i + 1:i + 2] != b"<" and current is not None:
            raise ValueError("hex string in text: cannot read it")
        if c == ord("%"):
            eol = re.compile(rb"[\r\n]").search(content, i)
            i = eol.end() if eol else n
            continue
        if c in _DELIM:
            i += 1
            continue
        j = i
        while j < n and content[j] not in _DELIM:
            j += 1
        token = content[i:j]
        if token == b"BT":
            current = []
        elif token == b"ET" and current is not None:
            blocks.append(b"".join(current).decode("latin-1"))
            current = None
        i = j
    return blocks


def pdf_page_text(data: bytes, page: int = 0) -> list[str]:
    """Text blocks of one page (0-based) of a PDF written by matplotlib."""
    pdf = _Pdf(data)
    root = pdf.object(_ref(pdf.trailer, b"Root"))[0]
    pages = pdf.object(_ref(root, b"Pages"))[0]
    kids = re.search(rb"/Kids\s*\[([^\]]*)\]", pages)
    if kids is None:
        raise ValueError("PDF /Kids missing")
    refs = [int(x) for x in re.findall(rb"(\d+)\s+0\s+R", kids.group(1))]
    if page >= len(refs):
        raise ValueError(f"PDF has {len(refs)} pages")
    head, raw = pdf.object(_ref(pdf.object(refs[page])[0], b"Contents"))
    if raw is None:
        raise ValueError("page content is not a stream")
    if re.search(rb"/Filter\s*/FlateDecode\b", head):
        return text_blocks(_inflate(raw))
    if b"/Filter" in head:
        raise ValueError("page content compressed with an unknown filter")
    return text_blocks(raw)


#: Letters a font may draw joined as one ligature glyph (ﬁ, ﬂ, ﬀ, ﬃ, ﬄ) from another font:
#: left out of the comparison on both sides.
LIGATURE_LETTERS = frozenset("fil")


def _printable(text: str) -> str:
    return "".join(c for c in text if " " <= c <= "~" and c not in LIGATURE_LETTERS)


def check_summary_pdf(data: bytes, doc: Mapping[str, Any]) -> None:
    """The PDF's first page shows the title and claim rows regenerated from the checked claim."""
    try:
        got = [_printable(t) for t in pdf_page_text(data)]
    except (ValueError, IndexError) as exc:
        raise fail(SUMMARY_PDF, f"first page unreadable: {exc}", field="page 1") from exc
    want: list[tuple[str, str]] = [("title", line) for line in pdf_title(doc).split("\n")]
    for _y, key, text in pdf_rows(doc):  # matplotlib draws each line of a text on its own
        want += [(key, line) for line in key.split("\n")]
        want += [(key, line) for line in text.split("\n")]
    for i, (field, text) in enumerate(want):
        if i >= len(got) or got[i] != _printable(text):
            shown = got[i] if i < len(got) else "nothing"
            raise fail(SUMMARY_PDF, f"page 1 shows {shown!r}, the checked claim says "
                       f"{_printable(text)!r}", field=field)
    if len(got) > len(want):
        raise fail(SUMMARY_PDF, f"page 1 shows more text than the claim: {got[len(want)]!r}",
                   field="page 1")
