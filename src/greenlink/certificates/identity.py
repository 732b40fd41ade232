"""Ids that tell beneficiaries apart: accounts, registered users (beneficiaries with metered
consumption) and devices.

A claim names its beneficiary by id, exactly. For that to mean something, no two ids of the
registry may look alike: ``ALU_EXTRUDER`` next to ``alu_extruder`` would let a sale to the
first (an account without consumption, uncapped) stand for the second (a park user, capped).
So a new id is refused when it is a **variant** of an id the registry knows — the same after
:func:`fold` (Unicode NFKC, then case folding, default-ignorable characters removed:
``ALU_EXTRUDER``, full-width ``ａｌｕ_extruder``, ``Ärger``/``ärger``, ``alu\\u200bextruder``) or
with the same :func:`skeleton` (Unicode's confusables, UTS #39: ``аlu_extruder`` with a Cyrillic
``а``, ``расе`` for ``pace``, Armenian ``ս`` for ``u``, ``ı`` for ``i``, ``aIu`` and ``a1u`` for
``alu``, ``line0`` for ``lineO``) — when it mixes the letters of Latin, Cyrillic, Greek and
Armenian (a single look-alike letter hidden in a Latin id), and when it has an invisible
character (a default-ignorable code point: joiners, variation selectors, fillers). The
comparison is done here, in Python: SQL ``lower()`` folds only ASCII on SQLite.

Ids identical to a known one are not variants: a user's account has the user's id.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from greenlink.certificates.errors import RegistryError

#: Longest id of an account, a device or a user.
MAX_ID_CHARS = 64

#: Unicode's Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt): characters that
#: show nothing (soft hyphen, joiners, variation selectors, Hangul fillers, tags). Refused in a
#: new id, dropped by :func:`fold` and :func:`skeleton`.
_DEFAULT_IGNORABLE = ((0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
                      (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
                      (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
                      (0xFFA0, 0xFFA0), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
                      (0xE0000, 0xE0FFF))

#: Look-alikes of Latin letters beyond Unicode's confusables (which map, e.g., Greek ``ε`` to
#: ``ꞓ``, not ``e``, and leave small capitals alone), applied before them: after case folding,
#: a whole-script Cyrillic or Greek id must not pass for a Latin one.
_LOOK_ALIKE = str.maketrans({
    # Cyrillic
    "а": "a", "в": "b", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "н": "h", "і": "i", "ї": "i",
    "ј": "j", "к": "k", "ӏ": "l", "м": "m", "о": "o", "р": "p", "ԛ": "q", "г": "r", "с": "c",
    "ѕ": "s", "т": "t", "ц": "u", "ѵ": "v", "ԝ": "w", "х": "x", "у": "y", "ү": "y",
    # Greek
    "α": "a", "β": "b", "ϲ": "c", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ζ": "z",
    # Armenian
    "ս": "u", "օ": "o", "հ": "h", "ո": "n", "ց": "g", "զ": "q",
    # Latin small capitals and letter forms
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ɢ": "g", "ʜ": "h", "ɪ": "i", "ᴊ": "j",
    "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ꜱ": "s", "ᴛ": "t",
    "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z", "ı": "i", "ɑ": "a",
})
#: Scripts whose letters are confused with each other: an id may use letters of one of them.
_CONFUSABLE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN")


def is_default_ignorable(char: str) -> bool:
    """Whether ``char`` is a Default_Ignorable_Code_Point (shows nothing)."""
    code = ord(char)
    return any(low <= code <= high for low, high in _DEFAULT_IGNORABLE)


def _visible(text: str) -> str:
    return "".join(c for c in text
                   if unicodedata.category(c) != "Cf" and not is_default_ignorable(c))


def fold(text: str) -> str:
    """The form ids are compared in: NFKC, case-folded, NFKC again, without the characters
    Unicode says to ignore (default-ignorable and format characters: zero-width spaces and
    joiners, soft hyphens, variation selectors, fillers) and without surrounding white
    space."""
    once = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return _visible(once).strip()


@cache
def _prototypes() -> dict[int, str]:
    """Unicode's confusables (UTS #39, ``confusables.txt``): character → prototype."""
    table: dict[int, str] = {}
    data = resources.files("greenlink.certificates") / "confusables.txt"
    for line in data.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            source, target = line.split(";")
            table[int(source, 16)] = "".join(chr(int(h, 16)) for h in target.split())
    return table


def _uts39(text: str) -> str:
    """The skeleton of UTS #39: NFD, default-ignorables removed, each character replaced by
    its prototype (after greenlink's own look-alikes), NFD again."""
    mapped = _visible(unicodedata.normalize("NFD", text)).translate(_LOOK_ALIKE)
    return unicodedata.normalize("NFD", mapped.translate(_prototypes()))


@lru_cache(maxsize=65536)
def skeleton(text: str) -> str:
    """What ``text`` looks like: the UTS #39 skeleton (:func:`_uts39`) taken before and after
    case folding, so that case variants, look-alike letters of other scripts (``с`` for ``c``),
    of Latin (``ı``, ``ɑ``, ``ᴀ``) and the confusions of ``I``, ``l`` and ``1`` and of ``O`` and
    ``0`` all give one string."""
    return _uts39(fold(_uts39(text)))


def skeletons(text: str) -> frozenset[str]:
    """The skeletons two ids are compared by: of ``text`` as written (``aIu`` looks like
    ``alu``) and of ``text`` case-folded (``AIU`` is ``aiu``)."""
    return frozenset((skeleton(text), skeleton(fold(text))))


def letter_scripts(text: str) -> set[str]:
    """The scripts (Latin, Cyrillic, Greek, Armenian) of the letters of ``text``."""
    found: set[str] = set()
    for c in text:
        if c.isalpha():
            word = unicodedata.name(c, "").split(" ", 1)[0]
            if word in _CONFUSABLE_SCRIPTS:
                found.add(word)
    return found


def id_problem(value: str, what: str) -> str | None:
    """Why ``value`` cannot be a new id (``None``: it can): empty, too long, white space or
    control/format/invisible characters, letters of Latin, Cyrillic, Greek and Armenian
    mixed."""
    if not value or len(value) > MAX_ID_CHARS:
        return f"{what} {value!r}: an id has 1 to {MAX_ID_CHARS} characters"
    if any(c.isspace() or not c.isprintable() or is_default_ignorable(c) for c in value):
        return (f"{what} {value!r}: an id has no white space, control or invisible characters "
                "(they make ids that look alike)")
    scripts = letter_scripts(value)
    if len(scripts) > 1:
        return (f"{what} {value!r} mixes {' and '.join(sorted(s.title() for s in scripts))} "
                "letters: such an id looks like another one (use one script)")
    return None


def variant_of(value: str, known: Iterable[str]) -> str | None:
    """The known id that ``value`` is a variant of (same :func:`fold` or one of the same
    :func:`skeletons`, not the same string), or ``None``."""
    folded, looks = fold(value), skeletons(value)
    for other in sorted(set(known)):
        if other != value and (fold(other) == folded or not looks.isdisjoint(skeletons(other))):
            return other
    return None


def variant_message(what: str, value: str, kind: str, other: str) -> str:
    return (f"{what} {value!r} differs from {kind} {other!r} only in case, width or look-alike "
            "characters: ids must tell beneficiaries apart exactly (use "
            f"{other!r} itself, or another id)")


def known_ids(session: Any) -> dict[str, list[str]]:
    """The ids a new or named id must not be a variant of: accounts, registered users
    (beneficiaries with metered consumption) and devices."""
    from sqlalchemy import select

    from greenlink.certificates.models import Account, Consumption, Device

    return {"account": list(session.execute(select(Account.id)).scalars()),
            "user": list(session.execute(select(Consumption.beneficiary).distinct()).scalars()),
            "device": list(session.execute(select(Device.id)).scalars())}


def refusal(value: str, what: str, known: Mapping[str, Iterable[str]], *,
            new: bool = True) -> str | None:
    """Why ``value`` (a ``what``: "account id", "beneficiary", …) is refused, or ``None``.

    The one check of ids, wherever one is registered or named (library, command line, web
    service, GEC import): a ``new`` id must be well formed (:func:`id_problem`); any id is
    refused when it is a variant of a known id of any kind (:func:`variant_of`) — the same
    id itself is not a variant."""
    if new:
        problem = id_problem(value, what)
        if problem is not None:
            return problem
    for kind, ids in known.items():
        other = variant_of(value, ids)
        if other is not None:
            return variant_message(what, value, kind, other)
    return None


def refuse_variants(s: Any, kind: str, ids: Sequence[str]) -> None:
    """Refuse new ids (of an account, a device or a user) that are malformed, or variants of
    an id the registry knows or of each other (:func:`refusal`)."""
    if not ids:
        return
    for value in ids:
        problem = id_problem(value, f"{kind} id")
        if problem is not None:
            raise RegistryError(problem)
    known = known_ids(s)
    for i, value in enumerate(ids):
        problem = refusal(value, f"{kind} id", {**known, kind: [*known.get(kind, []),
                                                                *ids[:i]]}, new=False)
        if problem is not None:
            raise RegistryError(problem)
