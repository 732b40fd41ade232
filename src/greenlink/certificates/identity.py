"""Ids that tell beneficiaries apart: accounts, registered users (beneficiaries with metered
consumption) and devices.

A claim names its beneficiary by id, exactly. For that to mean something, no two ids of the
registry may look alike: ``ALU_EXTRUDER`` next to ``alu_extruder`` would let a sale to the
first (an account without consumption, uncapped) stand for the second (a park user, capped).
So a new id is refused when it is a **variant** of an id the registry knows — the same after
:func:`fold` (Unicode NFKC, then case folding, default-ignorable characters removed:
``ALU_EXTRUDER``, full-width ``ａｌｕ_extruder``, ``Ärger``/``ärger``, ``alu\\u200bextruder``) or
after :func:`skeleton` (letters of Cyrillic and Greek that look like Latin ones mapped to them:
``аlu_extruder`` with a Cyrillic ``а``) — and when it mixes the letters of Latin, Cyrillic and
Greek (a single look-alike letter hidden in a Latin id). The comparison is done here, in Python:
SQL ``lower()`` folds only ASCII on SQLite.

Ids identical to a known one are not variants: a user's account has the user's id.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from greenlink.certificates.errors import RegistryError

#: Longest id of an account, a device or a user.
MAX_ID_CHARS = 64

#: Cyrillic and Greek letters (after case folding) that look like a Latin letter, and that
#: letter (a small part of Unicode's confusables, UTS #39: the letters a whole-script look-alike
#: of a Latin id is made of).
_LOOK_ALIKE = str.maketrans({
    # Cyrillic
    "а": "a", "в": "b", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "н": "h", "і": "i", "ї": "i",
    "ј": "j", "к": "k", "ӏ": "l", "м": "m", "о": "o", "р": "p", "ԛ": "q", "г": "r", "ѕ": "s",
    "т": "t", "ц": "u", "ѵ": "v", "ԝ": "w", "х": "x", "у": "y", "ү": "y",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ζ": "z",
})
#: Scripts whose letters are confused with each other: an id may use letters of one of them.
_CONFUSABLE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def fold(text: str) -> str:
    """The form ids are compared in: NFKC, case-folded, NFKC again, without the characters
    Unicode says to ignore (format characters such as zero-width spaces and joiners, soft
    hyphens) and without surrounding white space."""
    once = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in once if unicodedata.category(c) != "Cf").strip()


def skeleton(text: str) -> str:
    """:func:`fold` with Cyrillic and Greek look-alikes of Latin letters mapped to them."""
    return fold(text).translate(_LOOK_ALIKE)


def letter_scripts(text: str) -> set[str]:
    """The scripts (Latin, Cyrillic, Greek) of the letters of ``text``."""
    found: set[str] = set()
    for c in text:
        if c.isalpha():
            word = unicodedata.name(c, "").split(" ", 1)[0]
            if word in _CONFUSABLE_SCRIPTS:
                found.add(word)
    return found


def id_problem(value: str, what: str) -> str | None:
    """Why ``value`` cannot be a new id (``None``: it can): empty, too long, white space or
    control/format characters, letters of Latin, Cyrillic and Greek mixed."""
    if not value or len(value) > MAX_ID_CHARS:
        return f"{what} {value!r}: an id has 1 to {MAX_ID_CHARS} characters"
    if any(c.isspace() or not c.isprintable() for c in value):
        return (f"{what} {value!r}: an id has no white space or control characters (they make "
                "ids that look alike)")
    scripts = letter_scripts(value)
    if len(scripts) > 1:
        return (f"{what} {value!r} mixes {' and '.join(sorted(s.title() for s in scripts))} "
                "letters: such an id looks like another one (use one script)")
    return None


def variant_of(value: str, known: Iterable[str]) -> str | None:
    """The known id that ``value`` is a variant of (same :func:`fold` or :func:`skeleton`, not
    the same string), or ``None``."""
    folded, look = fold(value), skeleton(value)
    for other in sorted(set(known)):
        if other != value and (fold(other) == folded or skeleton(other) == look):
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
