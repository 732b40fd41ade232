"""Fill the Commission's CBAM communication template for installations, and recalculate it.

The template (``data/cbam/CBAM_Communication_template_for_installations_en_20241213.xlsx``,
DG TAXUD, version of 13 Dec 2024; see ``data/cbam/SOURCES.md``) is an Excel workbook whose
formulas compute the specific embedded emissions from the input sheets. greenlink writes the input
cells with openpyxl (formulas untouched) and can let LibreOffice recalculate the file headless
(``soffice --convert-to xlsx``), then read the template's own results back from
``Summary_Products`` — the independent check of greenlink's numbers.

Cells written (the layout of the 2024-12-13 version):

* ``A_InstData``: installation name I20, street I21, country I26, UN/LOCODE I27; goods
  categories E62…; processes E83… (category) and L83… (name); purchased precursors
  E102… (category), F102… (country), L102… (name).
* ``D_Processes``: one block per process every 65 rows from row 11: production L16, produced for
  the market L27, consumed in the other processes L32…L40, DirEm L54, electricity L65, EF L66,
  EF source L67.
* ``E_PurchPrec``: one block per purchased precursor every 44 rows from row 14: purchased L17,
  consumed in process n at L(27+n), SEE direct L49, specific electricity L50, EF L51.
* ``Summary_Products``: from row 10, process name D, CN code F, product name H.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from greenlink.carbon.cbam_goods import classify
from greenlink.carbon.embedded import GoodSee, direct_emissions
from greenlink.carbon.emission_factor_routes import EfDecision
from greenlink.errors import InputError, Problem
from greenlink.scenario.installations import Installation

TEMPLATE_FILE = "data/cbam/CBAM_Communication_template_for_installations_en_20241213.xlsx"
MAX_PROCESSES = 10
MAX_PURCHASED = 20
PROCESS_BLOCK_ROW, PROCESS_BLOCK_STEP = 11, 65
PURCHASE_BLOCK_ROW, PURCHASE_BLOCK_STEP = 14, 44
PRODUCTS_ROW = 10

# Template goods-category names (Parameters_Constants rows 89–106) by CN prefix, longest first.
_CATEGORY_BY_PREFIX = (
    ("25231000", "Cement clinker"), ("25233000", "Aluminous cement"), ("2523", "Cement"),
    ("25070080", "Calcined clays "), ("28041000", "Hydrogen"), ("2814", "Ammonia"),
    ("2808", "Nitric acid"), ("31021", "Urea"), ("26011200", "Sintered Ore"),
    ("7203", "Direct reduced iron"), ("7201", "Pig iron"),
    ("27160000", "Electricity (export to EU)"),
)


def template_path() -> Path:
    """Path of the shipped template copy."""
    return Path(str(resources.files("greenlink").joinpath(TEMPLATE_FILE)))


def goods_category(cn_code: str) -> str:
    """The template's aggregated goods category of a CN code (its own list of names)."""
    good = classify(cn_code)
    if not good.is_cbam_good:
        raise InputError(Problem(f"CN {cn_code} is not a CBAM good", location="cn_code",
                                 expected="a code of the Commission's CBAM list"))
    for prefix, name in _CATEGORY_BY_PREFIX:
        if good.cn_code.startswith(prefix):
            return name
    if good.sector == "aluminium":
        return "Unwrought aluminium" if good.cn_code.startswith("7601") else "Aluminium products"
    if good.sector == "iron_steel":
        return "Iron or steel products"
    if good.sector == "fertilisers":
        return "Mixed fertilisers"
    return str(good.goods_category)


@dataclass(frozen=True)
class FilledTemplate:
    """Where the filled file is and which Summary_Products row holds which process."""

    path: Path
    product_rows: dict[str, int]


def fill_template(installation: Installation, electricity_mwh: Mapping[str, float],
                  decisions: Mapping[str, EfDecision], see: Mapping[str, GoodSee],
                  out: str | Path) -> FilledTemplate:
    """Write the installation into a copy of the template (formulas untouched).

    Parameters
    ----------
    installation : Installation
    electricity_mwh, decisions : per process id, as for
        :func:`greenlink.carbon.embedded.installation_see`.
    see : the result of ``installation_see`` (used for purchased precursors' values).
    out : path of the ``.xlsx`` to write (written atomically).

    Raises
    ------
    InputError
        More processes or precursors than the template has room for, or a process consuming a
        precursor the template cannot express.
    """
    import openpyxl

    procs = list(installation.processes)
    bought = list(installation.purchased_precursors)
    if len(procs) > MAX_PROCESSES or len(bought) > MAX_PURCHASED:
        raise InputError(Problem(f"{installation.id}: {len(procs)} processes and {len(bought)} "
                                 "purchased precursors", location=f"installations."
                                 f"{installation.id}", expected=f"at most {MAX_PROCESSES} "
                                 f"processes and {MAX_PURCHASED} purchased precursors"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl drops unsupported Excel extensions
        wb = openpyxl.load_workbook(template_path())
    a = wb["A_InstData"]
    a["I20"] = installation.name or installation.id
    a["I21"] = installation.address
    a["I26"] = installation.country
    a["I27"] = installation.unlocode
    categories: list[str] = []
    for code in [*(p.cn_code for p in procs), *(b.cn_code for b in bought)]:
        cat = goods_category(code)
        if cat not in categories:
            categories.append(cat)
    for i, cat in enumerate(categories):
        a.cell(62 + i, 5, cat)
    index = {p.id: n for n, p in enumerate(procs, start=1)}
    for n, p in enumerate(procs, start=1):
        a.cell(82 + n, 5, goods_category(p.cn_code))
        a.cell(82 + n, 12, p.name or p.id)
    for n, b in enumerate(bought, start=1):
        a.cell(101 + n, 5, goods_category(b.cn_code))
        a.cell(101 + n, 6, b.country)
        a.cell(101 + n, 12, b.name or b.id)

    d = wb["D_Processes"]
    consumed: dict[str, dict[str, float]] = {p.id: {} for p in procs}
    bought_use: dict[str, dict[str, float]] = {b.id: {} for b in bought}
    for p in procs:
        for use in p.precursors:
            target = consumed if use.precursor in consumed else bought_use
            target[use.precursor][p.id] = target[use.precursor].get(p.id, 0.0) + use.amount_t
    for k, p in enumerate(procs, start=1):
        top = PROCESS_BLOCK_ROW + (k - 1) * PROCESS_BLOCK_STEP
        used_inside = sum(consumed[p.id].values())
        d.cell(top + 5, 12, p.activity_level_t)                 # L16 production
        d.cell(top + 16, 12, p.activity_level_t - used_inside)  # L27 for the market
        for other, amount in consumed[p.id].items():
            n = index[other]
            row = n if n < k else n - 1                         # the block skips itself
            d.cell(top + 20 + row, 12, amount)                  # L32… consumed in other process
        dir_em, _ = direct_emissions(p, p.id)
        d.cell(top + 43, 12, dir_em)                            # L54 DirEm
        d.cell(top + 54, 12, float(electricity_mwh[p.id]))      # L65 electricity
        d.cell(top + 55, 12, decisions[p.id].ef_t_per_mwh)      # L66 EF
        d.cell(top + 56, 12, decisions[p.id].template_code)     # L67 source

    e = wb["E_PurchPrec"]
    grid_ef = next((dd.grid_ef_t_per_mwh for dd in decisions.values()), 1.0)
    for j, b in enumerate(bought, start=1):
        top = PURCHASE_BLOCK_ROW + (j - 1) * PURCHASE_BLOCK_STEP
        total = sum(bought_use[b.id].values())
        e.cell(top + 3, 12, total)                              # L17 purchased
        for pid, amount in bought_use[b.id].items():
            e.cell(top + 13 + index[pid], 12, amount)           # L28… consumed in process n
        s = see[b.id]
        e.cell(top + 35, 12, s.see_direct_t_per_t)              # L49 SEE direct
        if b.electricity_mwh_per_t:
            el, ef = b.electricity_mwh_per_t, s.see_indirect_t_per_t / b.electricity_mwh_per_t
        else:  # the template's advice: specific electricity = SEE(indirect) / grid EF
            ef = grid_ef if grid_ef > 0 else 1.0
            el = s.see_indirect_t_per_t / ef
        e.cell(top + 36, 12, el)                                # L50 specific electricity
        e.cell(top + 37, 12, ef)                                # L51 EF
        e.cell(top + 40, 5, "default values" if s.data == "default" else "")

    sp = wb["Summary_Products"]
    rows: dict[str, int] = {}
    for n, p in enumerate(procs):
        r = PRODUCTS_ROW + n
        sp.cell(r, 4, p.name or p.id)
        sp.cell(r, 6, classify(p.cn_code).cn_code)
        sp.cell(r, 8, p.name or p.id)
        rows[p.id] = r
    dest = Path(out)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=dest.parent, suffix=".xlsx", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        wb.save(tmp_path)
        tmp_path.replace(dest)
    finally:
        tmp_path.unlink(missing_ok=True)
    return FilledTemplate(path=dest, product_rows=rows)


def soffice() -> str | None:
    """Path of LibreOffice's ``soffice``, or ``None`` when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def recalculate(path: str | Path, out_dir: str | Path, timeout_s: float = 180.0) -> Path:
    """Recalculate a workbook with LibreOffice headless; returns the recalculated copy.

    Raises
    ------
    InputError
        LibreOffice is missing or the conversion failed.
    """
    exe = soffice()
    if exe is None:
        raise InputError(Problem("LibreOffice (soffice) is not installed",
                                 expected="apt-get install libreoffice-calc-nogui"))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        cmd = [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--calc",
               "--convert-to", "xlsx", "--outdir", str(out_dir), str(path)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              check=False)
    result = out_dir / Path(path).name
    if done.returncode != 0 or not result.exists():
        raise InputError(Problem(f"LibreOffice could not recalculate {path}: "
                                 f"{done.stderr.strip()[-300:]}", file=str(path)))
    return result


def read_summary_products(path: str | Path, rows: Mapping[str, int]) -> dict[str, tuple[float,
                                                                                       float]]:
    """SEE (direct, indirect) the template computed, per process, from Summary_Products I/J."""
    import openpyxl
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(path, data_only=True, read_only=True)
    ws = wb["Summary_Products"]
    out: dict[str, tuple[float, float]] = {}
    for pid, r in rows.items():
        direct, indirect = ws.cell(r, 9).value, ws.cell(r, 10).value
        if not isinstance(direct, (int, float)) or not isinstance(indirect, (int, float)):
            raise InputError(Problem(f"template computed no SEE for {pid} (row {r}: "
                                     f"{direct!r}, {indirect!r})", file=str(path),
                                     location=f"Summary_Products!I{r}:J{r}"))
        out[pid] = (float(direct), float(indirect))
    wb.close()
    return out
