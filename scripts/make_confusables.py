"""Write the look-alike table of greenlink's id rule from Unicode's ``confusables.txt``.

Usage::

    python scripts/make_confusables.py PATH/TO/confusables.txt \\
        --out src/greenlink/certificates/confusables.txt

``confusables.txt`` is the data of Unicode Technical Standard #39 (Unicode Security Mechanisms):
each line maps a character to its *prototype*, the characters it can be mistaken for. The
output keeps the file's header (version, copyright, terms of use) and its mappings as
``SOURCE;PROTOTYPE`` in hexadecimal, without the comments, for
:func:`greenlink.certificates.identity.skeleton`. The same input gives a byte-identical file.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def compact(text: str) -> str:
    header: list[str] = []
    rows: list[str] = []
    for line in text.lstrip("\ufeff").splitlines():
        if line.startswith("#") and not rows:
            if line.strip("# ").startswith(("confusables.txt", "Date", "©", "Unicode",
                                            "For terms", "Version")):
                header.append(line)
            continue
        data = line.split("#", 1)[0].strip()
        if not data:
            continue
        source, target, *_ = (part.strip() for part in data.split(";"))
        rows.append(f"{source};{target}")
    return "\n".join([*header, "# compacted by scripts/make_confusables.py: SOURCE;PROTOTYPE",
                      *rows]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="Unicode's confusables.txt")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.write_text(compact(args.source.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
