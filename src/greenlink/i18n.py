"""Language of everything greenlink writes for people: reports, statements, CLI messages, the
dashboard. Two languages: ``en`` (the source text) and ``zh-CN``.

Which language, first that applies:

1. an explicit ``lang=`` argument of the function that renders;
2. the language set for the current context: ``--lang`` on the command line, or the signed-in
   user's setting (else the browser's ``Accept-Language``) for a dashboard request
   (:func:`use_lang` / :func:`set_lang`, a :class:`contextvars.ContextVar`, so concurrent
   requests and threads never see each other's choice);
3. the environment variable ``GREENLINK_LANG``;
4. the locale: ``LC_ALL``, then ``LC_MESSAGES``, then ``LANG`` (the first one set decides);
5. ``en``.

Messages come from one gettext catalogue, domain ``greenlink``:
``greenlink/locale/greenlink.pot`` (extracted from the code and templates) and
``greenlink/locale/zh_CN/LC_MESSAGES/greenlink.po``. The ``.po`` file is read directly (with
Babel) the first time a language is used: no compiled ``.mo`` is built or checked in, so a fresh
clone and an editable install translate with no build step, and the catalogue can never be
older than its compiled form. ``scripts/i18n_catalogue.py`` extracts and merges;
``tests/test_i18n_catalogue.py`` fails when code and catalogue disagree.

Machine-readable outputs (JSON keys, CSV and Parquet columns, ``summary.json``) are never
translated.
"""

from __future__ import annotations

import gettext as _gettext
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES: tuple[str, ...] = ("en", "zh-CN")
DEFAULT_LANG = "en"
ENV_VAR = "GREENLINK_LANG"
DOMAIN = "greenlink"
#: Names shown in a language picker, each in its own language.
LANGUAGE_NAMES = {"en": "English", "zh-CN": "简体中文"}

_current: ContextVar[str | None] = ContextVar("greenlink_lang", default=None)


def normalize(tag: str | None) -> str | None:
    """``zh``, ``zh_CN.UTF-8``, ``zh-Hans-CN``, ``zh-cn`` → ``zh-CN``; ``en``, ``en_GB`` →
    ``en``; ``C``, ``POSIX``, empty → ``en``; anything else → None (not a language of ours)."""
    if tag is None:
        return None
    text = tag.strip().split(".")[0].split("@")[0].replace("_", "-").lower()
    if text in ("", "c", "posix"):
        return DEFAULT_LANG
    primary = text.split("-")[0]
    if primary == "zh":
        # traditional-script Chinese is not offered; simplified is closer than English
        return "zh-CN"
    if primary == "en":
        return "en"
    return None


def _from_environment() -> str | None:
    chosen = os.environ.get(ENV_VAR, "").strip()
    if chosen and normalize(chosen) is not None:  # an unknown value is passed over
        return normalize(chosen)
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "").strip()
        if value:
            return normalize(value) or DEFAULT_LANG
    return None


def current_lang(explicit: str | None = None) -> str:
    """The language to write in now (see the module's docstring for the order)."""
    for candidate in (explicit, _current.get()):
        if candidate is not None:
            lang = normalize(candidate)
            if lang is None:
                raise ValueError(f"unknown language {candidate!r} (one of: "
                                 f"{', '.join(LANGUAGES)})")
            return lang
    return _from_environment() or DEFAULT_LANG


def check_lang(tag: str) -> str:
    """``tag`` as one of :data:`LANGUAGES`, or ValueError naming the choices."""
    lang = normalize(tag)
    if lang is None:
        raise ValueError(f"unknown language {tag!r} (one of: {', '.join(LANGUAGES)})")
    return lang


def set_lang(tag: str | None) -> Token[str | None]:
    """Set the language of the current context (a CLI invocation, a request); None clears it.
    Returns the token for :meth:`ContextVar.reset`."""
    return _current.set(None if tag is None else check_lang(tag))


@contextmanager
def use_lang(tag: str | None) -> Iterator[str]:
    """``with use_lang("zh-CN"): …`` — the language inside the block (None: unchanged)."""
    token = _current.set(check_lang(tag) if tag is not None else _current.get())
    try:
        yield current_lang()
    finally:
        _current.reset(token)


def from_accept_language(header: str | None) -> str | None:
    """The best of our languages in an HTTP ``Accept-Language`` header (by q-value, then
    order), or None when it names none of them."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag.strip() == "*" or q <= 0:
            continue
        lang = normalize(tag) if tag.strip().lower() not in ("c", "posix") else None
        if lang is not None:
            ranked.append((-q, index, lang))
    return min(ranked)[2] if ranked else None


# ----------------------------------------------------------------------------- catalogue

def locale_dir() -> str:
    return str(resources.files("greenlink") / "locale")


def babel_locale(lang: str | None = None) -> str:
    """Babel / gettext locale name of a language: ``en``, ``zh_CN``."""
    return current_lang(lang).replace("-", "_")


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The gettext translations of ``lang``, read from its ``.po`` file (untranslated and fuzzy
    entries fall back to the English text)."""
    if lang == DEFAULT_LANG:
        return _gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    path = resources.files("greenlink") / "locale" / lang.replace("-", "_") / "LC_MESSAGES" / (
        DOMAIN + ".po")
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang.replace("-", "_"), domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def gettext(message: str, lang: str | None = None) -> str:
    """``message`` in the current language (the English text where no translation exists)."""
    if not message:
        return message
    return translations(current_lang(lang)).gettext(message)


def ngettext(singular: str, plural: str, n: int, lang: str | None = None) -> str:
    return translations(current_lang(lang)).ngettext(singular, plural, n)


def pgettext(context: str, message: str, lang: str | None = None) -> str:
    return translations(current_lang(lang)).pgettext(context, message)


_ = gettext


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it now (module constants); the
    code translates it with :func:`gettext` where it is used."""
    return message


# ----------------------------------------------------------------------------- numbers

def format_decimal(value: float, pattern: str | None = None, lang: str | None = None) -> str:
    """A number in the language's notation (Babel; both ours group with ``,`` and use ``.``)."""
    from babel.numbers import format_decimal as _fmt

    return _fmt(value, format=pattern, locale=babel_locale(lang))


def format_percent(value: float, digits: int = 1, lang: str | None = None) -> str:
    """``0.6123`` → ``61.2%`` (Babel's percent pattern of the language)."""
    from babel.numbers import format_percent as _fmt

    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return _fmt(value, format=pattern, locale=babel_locale(lang))


def html_lang(lang: str | None = None) -> str:
    """The value of ``<html lang>``: ``en`` or ``zh-CN``."""
    return current_lang(lang)


# ----------------------------------------------------------------------------- PDF fonts

#: The CJK font shipped for PDFs: a GB 2312 subset of Noto Sans CJK SC (SIL OFL 1.1; see
#: ``greenlink/fonts/SOURCES.md``), TrueType outlines, so matplotlib embeds it as a Type 42
#: font subset to the glyphs each document uses, with a ToUnicode map (text can be copied).
CJK_FONT_NAME = "Greenlink Sans SC"
CJK_FONT_FILE = "GreenlinkSansSC-Regular.ttf"
#: Font lists for matplotlib: Latin from its own DejaVu fonts, every other glyph (hanzi,
#: full-width punctuation) from the CJK font.
SANS_FAMILY = ["DejaVu Sans", CJK_FONT_NAME]
MONO_FAMILY = ["DejaVu Sans Mono", CJK_FONT_NAME]


def cjk_font_path() -> str:
    return str(resources.files("greenlink") / "fonts" / CJK_FONT_FILE)


@cache
def register_cjk_font() -> str:
    """Make the CJK font known to matplotlib (once per process); returns its family name."""
    import logging

    from matplotlib import font_manager

    font_manager.fontManager.addfont(cjk_font_path())
    # it has one weight: a bold title in Chinese is set in the regular weight, silently
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    return CJK_FONT_NAME


def pdf_font_rc() -> Any:
    """matplotlib rc settings (a dict) for a PDF that may hold Chinese: the CJK font as fallback
    of the sans-serif and monospace families, embedded as Type 42 (subset) fonts."""
    register_cjk_font()
    return {"pdf.fonttype": 42, "font.family": SANS_FAMILY,
            "font.sans-serif": SANS_FAMILY, "font.monospace": MONO_FAMILY}


def display_width(text: str) -> int:
    """Columns a text takes in a monospace layout: wide (CJK, full-width) characters two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# ----------------------------------------------------------------------------- HTML fonts

#: A page's font stack: the shipped CJK font first, but its ``@font-face`` covers only the CJK
#: range (``unicode-range``), so Latin text keeps the system's fonts. (Named after system-ui, a
#: browser may take a system font without the glyphs for Chinese and draw boxes.)
CSS_FONT_STACK = (f'"{CJK_FONT_NAME}", system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", '
                  '"Helvetica Neue", Arial, sans-serif')
#: The characters the page takes from the CJK font (see :func:`_wants_cjk_font`).
CSS_UNICODE_RANGE = "U+2E80-FFFF"


def _wants_cjk_font(char: str) -> bool:
    """Characters the page takes from the CJK font: CJK symbols and punctuation, kana,
    ideographs, full-width forms (from U+2E80 on; Latin and general punctuation stay with the
    system's fonts)."""
    return ord(char) >= 0x2E80


@cache
def _cjk_cmap() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(cjk_font_path(), lazy=True) as font:
        return frozenset(font.getBestCmap())


@cache
def _font_face(chars: str) -> str:
    import base64

    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"  # zlib-compressed; WOFF2 would need brotli
    options.layout_features = []
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6]  # keep the copyright and licence notice
    options.name_languages = ["*"]
    options.notdef_outline = True
    font = subset.load_font(cjk_font_path(), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    buf = io.BytesIO()
    subset.save_font(font, buf, options)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f'@font-face {{ font-family: "{CJK_FONT_NAME}"; font-style: normal; '
            f"font-weight: 100 900; unicode-range: {CSS_UNICODE_RANGE}; "
            f"src: url(data:font/woff;base64,{data}) format(\"woff\"); }}")


def cjk_font_face(text: str) -> str:
    """A CSS ``@font-face`` rule carrying the shipped CJK font subset to the characters of
    ``text`` that it draws (WOFF, base64), or ``""`` when ``text`` has none."""
    cmap = _cjk_cmap()
    chars = "".join(sorted({c for c in text if _wants_cjk_font(c) and ord(c) in cmap}))
    return _font_face(chars) if chars else ""


def embed_cjk_font(page: str) -> str:
    """``page`` (an HTML document) with the CJK font subset to its own characters embedded as a
    ``<style>`` before ``</head>``, so that Chinese text and SVG labels naming the font family
    draw on a machine without CJK fonts, offline. Unchanged when the page has no such
    characters (an English page)."""
    rule = cjk_font_face(page)
    if not rule:
        return page
    head_end = page.find("</head>")
    style = f"<style>{rule}</style>\n"
    return page[:head_end] + style + page[head_end:] if head_end >= 0 else style + page
