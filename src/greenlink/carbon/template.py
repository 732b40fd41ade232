"""Fill the Commission's CBAM communication template for installations, and recalculate it.

The template (``data/cbam/CBAM_Communication_template_for_installations_en_20241213.xlsx``,
DG TAXUD, version of 13 Dec 2024; see ``data/cbam/SOURCES.md``) is an Excel workbook whose
formulas compute the specific embedded emissions from the input sheets. greenlink writes the input
cells only (:mod:`greenlink.carbon.xlsx_cells`: every other part of the file — formulas, data
bars, custom XML — is copied unchanged) and can let LibreOffice recalculate the file headless
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
  consumed in process n at L(27+n), SEE direct L49 with its source M49 ("Measured" or
  "Default"), specific electricity L50 with its source M50, EF L51 with its source code M51,
  and for default values the justification K54. The template's "share of emissions by default
  value" (Summary_Products column M) is computed from M49.
* ``Summary_Products``: from row 10, process name D, CN code F, product name H.

Goods categories are the Commission's own (``Parameters_Constants`` A89:A106, the list every
category cell is validated against), taken from the category of the CN code in the Commission's
CN list (``data/cbam/cn_codes.csv``): crude steel, pig iron, FeMn/FeCr/FeNi alloys and the
other iron and steel categories are kept apart.
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
from greenlink.carbon.embedded import GoodSee, direct_emissions, round_see
from greenlink.carbon.emission_factor_routes import EfDecision
from greenlink.carbon.xlsx_cells import CellValue, write_cells
from greenlink.errors import InputError, Problem
from greenlink.scenario.installations import Installation

TEMPLATE_FILE = "data/cbam/CBAM_Communication_template_for_installations_en_20241213.xlsx"
MAX_PROCESSES = 10
MAX_PURCHASED = 20
PROCESS_BLOCK_ROW, PROCESS_BLOCK_STEP = 11, 65
PURCHASE_BLOCK_ROW, PURCHASE_BLOCK_STEP = 14, 44
PRODUCTS_ROW = 10
#: The template's aggregated goods categories (Parameters_Constants A89:A106 in English, the
#: list A_InstData E62… is validated against), in its order. "Calcined clays " ends in a space
#: in the template itself.
TEMPLATE_GOODS = (
    "Cement", "Cement clinker", "Calcined clays ", "Aluminous cement", "Iron or steel products",
    "Crude steel", "Direct reduced iron", "Pig iron", "Alloys (FeMn, FeCr, FeNi)",
    "Sintered Ore", "Hydrogen", "Ammonia", "Nitric acid", "Urea", "Mixed fertilisers",
    "Aluminium products", "Unwrought aluminium", "Electricity (export to EU)")
#: The template's source entries (Parameters_Constants B69:C69, B15:H15, B44).
MEASURED, DEFAULT = "Measured", "Default"
DEFAULT_JUSTIFICATION = "Data gaps"


def template_path() -> Path:
    """Path of the shipped template copy."""
    return Path(str(resources.files("greenlink").joinpath(TEMPLATE_FILE)))


def goods_category(cn_code: str, year: int | None = None) -> str:
    """The template's aggregated goods category of a CN code: the category the Commission's CN
    list gives it, spelt as the template's category list spells it."""
    good = classify(cn_code, year=year)
    if not good.is_cbam_good or good.goods_category is None:
        raise InputError(Problem(f"CN {cn_code} is not a CBAM good", location="cn_code",
                                 expected="a code of the Commission's CBAM list"))
    wanted = good.goods_category.strip().lower()
    for name in TEMPLATE_GOODS:
        if name.strip().lower() == wanted:
            return name
    raise InputError(Problem(f"CN {good.cn_code}: goods category {good.goods_category!r} is not "
                             "in the template's list", location="cn_code",
                             expected="one of " + ", ".join(n.strip() for n in TEMPLATE_GOODS)))


@dataclass(frozen=True)
class FilledTemplate:
    """Where the filled file is and which Summary_Products row holds which process."""

    path: Path
    product_rows: dict[str, int]


def template_cells(installation: Installation, electricity_mwh: Mapping[str, float],
                   decisions: Mapping[str, EfDecision], see: Mapping[str, GoodSee]
                   ) -> dict[str, dict[str, CellValue]]:
    """Sheet → {cell: value} of every input cell greenlink fills (module docstring)."""
    procs = list(installation.processes)
    bought = list(installation.purchased_precursors)
    if len(procs) > MAX_PROCESSES or len(bought) > MAX_PURCHASED:
        raise InputError(Problem(f"{installation.id}: {len(procs)} processes and {len(bought)} "
                                 "purchased precursors", location=f"installations."
                                 f"{installation.id}", expected=f"at most {MAX_PROCESSES} "
                                 f"processes and {MAX_PURCHASED} purchased precursors"))
    year = installation.reporting_year
    a: dict[str, CellValue] = {"I20": installation.name or installation.id,
                               "I21": installation.address, "I26": installation.country,
                               "I27": installation.unlocode}
    categories: list[str] = []
    for code in [*(p.cn_code for p in procs), *(b.cn_code for b in bought)]:
        cat = goods_category(code, year)
        if cat not in categories:
            categories.append(cat)
    for i, cat in enumerate(categories):
        a[f"E{62 + i}"] = cat
    index = {p.id: n for n, p in enumerate(procs, start=1)}
    for n, p in enumerate(procs, start=1):
        a[f"E{82 + n}"] = goods_category(p.cn_code, year)
        a[f"L{82 + n}"] = p.name or p.id
    for n, b in enumerate(bought, start=1):
        a[f"E{101 + n}"] = goods_category(b.cn_code, year)
        a[f"F{101 + n}"] = b.country
        a[f"L{101 + n}"] = b.name or b.id

    d: dict[str, CellValue] = {}
    consumed: dict[str, dict[str, float]] = {p.id: {} for p in procs}
    bought_use: dict[str, dict[str, float]] = {b.id: {} for b in bought}
    for p in procs:
        for use in p.precursors:
            target = consumed if use.precursor in consumed else bought_use
            target[use.precursor][p.id] = target[use.precursor].get(p.id, 0.0) + use.amount_t
    for k, p in enumerate(procs, start=1):
        top = PROCESS_BLOCK_ROW + (k - 1) * PROCESS_BLOCK_STEP
        used_inside = sum(consumed[p.id].values())
        d[f"L{top + 5}"] = p.activity_level_t                  # L16 production
        d[f"L{top + 16}"] = p.activity_level_t - used_inside   # L27 for the market
        for other, amount in consumed[p.id].items():
            n = index[other]
            row = n if n < k else n - 1                        # the block skips itself
            d[f"L{top + 20 + row}"] = amount                   # L32… consumed in other process
        dir_em, _ = direct_emissions(p, p.id)
        d[f"L{top + 43}"] = dir_em                             # L54 DirEm
        d[f"L{top + 54}"] = float(electricity_mwh[p.id])       # L65 electricity
        d[f"L{top + 55}"] = decisions[p.id].ef_t_per_mwh       # L66 EF
        d[f"L{top + 56}"] = decisions[p.id].template_code      # L67 source

    e: dict[str, CellValue] = {}
    first = next(iter(decisions.values()), None)
    grid_ef = first.grid_ef_t_per_mwh if first is not None else 1.0
    grid_code = _grid_code(first)
    for j, b in enumerate(bought, start=1):
        top = PURCHASE_BLOCK_ROW + (j - 1) * PURCHASE_BLOCK_STEP
        e[f"L{top + 3}"] = sum(bought_use[b.id].values())     # L17 purchased
        for pid, amount in bought_use[b.id].items():
            e[f"L{top + 13 + index[pid]}"] = amount            # L28… consumed in process n
        s = see[b.id]
        source = DEFAULT if s.data == "default" else MEASURED
        e[f"L{top + 35}"] = s.see_direct_t_per_t               # L49 SEE direct
        e[f"M{top + 35}"] = source                             # M49 its source
        if b.electricity_mwh_per_t and s.data != "default":
            el, ef = b.electricity_mwh_per_t, s.see_indirect_t_per_t / b.electricity_mwh_per_t
            ef_code = "D.4(b)"
        else:  # the template's advice: specific electricity = SEE(indirect) / grid EF
            ef = grid_ef if grid_ef > 0 else 1.0
            el = s.see_indirect_t_per_t / ef
            ef_code = grid_code
        e[f"L{top + 36}"] = el                                 # L50 specific electricity
        e[f"M{top + 36}"] = source                             # M50 its source
        e[f"L{top + 37}"] = ef                                 # L51 EF
        e[f"M{top + 37}"] = ef_code                            # M51 source of the EF
        if s.data == "default":
            e[f"K{top + 40}"] = DEFAULT_JUSTIFICATION          # K54 why default values

    sp: dict[str, CellValue] = {}
    for n, p in enumerate(procs):
        r = PRODUCTS_ROW + n
        sp[f"D{r}"] = p.name or p.id
        sp[f"F{r}"] = classify(p.cn_code, year=year).cn_code
        sp[f"H{r}"] = p.name or p.id
    return {"A_InstData": {k: v for k, v in a.items() if v != ""}, "D_Processes": d,
            "E_PurchPrec": e, "Summary_Products": sp}


def _grid_code(decision: EfDecision | None) -> str:
    if decision is None:
        return "D.4(a)"
    code = decision.grid_template_code
    return code if code in ("D.4(a)", "D.4(b)") else "D.4(b)"


def fill_template(installation: Installation, electricity_mwh: Mapping[str, float],
                  decisions: Mapping[str, EfDecision], see: Mapping[str, GoodSee],
                  out: str | Path) -> FilledTemplate:
    """Write the installation into a copy of the template (formulas and extensions untouched).

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
    cells = template_cells(installation, electricity_mwh, decisions, see)
    dest = Path(out)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=dest.parent, suffix=".xlsx", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        write_cells(template_path(), tmp_path, cells)
        tmp_path.replace(dest)
    finally:
        tmp_path.unlink(missing_ok=True)
    rows = {p.id: PRODUCTS_ROW + n for n, p in enumerate(installation.processes)}
    return FilledTemplate(path=dest, product_rows=rows)


#: LibreOffice profile setting: recalculate every formula of an Excel file on load (the filled
#: template carries no cached results anyway, :mod:`greenlink.carbon.xlsx_cells`).
_ALWAYS_RECALC = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode"
 oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


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
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_ALWAYS_RECALC, encoding="utf-8")
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


@dataclass(frozen=True)
class TemplateProduct:
    """What the recalculated template says of one good (Summary_Products)."""

    goods_category: str
    unit: str
    see_direct: float
    see_indirect: float
    default_share: float


def read_summary_details(path: str | Path, rows: Mapping[str, int]
                         ) -> dict[str, TemplateProduct]:
    """Per process: the goods category the template derived (E), the unit (L), SEE direct and
    indirect (I, J) and the share of emissions by default value (M)."""
    import openpyxl
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(path, data_only=True, read_only=True)
    ws = wb["Summary_Products"]
    out: dict[str, TemplateProduct] = {}
    for pid, r in rows.items():
        values = [ws.cell(r, c).value for c in (5, 12, 9, 10, 13)]
        numbers = values[2:]
        if not all(isinstance(v, (int, float)) for v in numbers):
            raise InputError(Problem(f"template computed no result for {pid} (row {r}: "
                                     f"{values!r})", file=str(path),
                                     location=f"Summary_Products!E{r}:M{r}"))
        out[pid] = TemplateProduct(str(values[0]), str(values[1]), float(values[2]),
                                   float(values[3]), float(values[4]))
    wb.close()
    return out


def compare_with_template(values: Mapping[str, tuple[float, ...] | TemplateProduct],
                          see: Mapping[str, GoodSee],
                          categories: Mapping[str, str] | None = None
                          ) -> list[dict[str, object]]:
    """The template's own results against greenlink's, every number rounded by
    :func:`round_see` (half-up at 5 decimals: one rounding for both sides, so 0.610875 equals
    0.610875). With :class:`TemplateProduct` values, also the share of emissions by default
    value and (given ``categories``, process → greenlink's category) the goods category."""
    out: list[dict[str, object]] = []
    for pid, value in values.items():
        mine = see[pid]
        if isinstance(value, TemplateProduct):
            direct, indirect = value.see_direct, value.see_indirect
        else:
            direct, indirect = value[0], value[1]
        td, ti = round_see(direct), round_see(indirect)
        row: dict[str, object] = {
            "process": pid, "template_see_direct": td,
            "greenlink_see_direct": mine.see_direct_rounded,
            "template_see_indirect": ti, "greenlink_see_indirect": mine.see_indirect_rounded}
        equal = td == mine.see_direct_rounded and ti == mine.see_indirect_rounded
        if isinstance(value, TemplateProduct):
            tshare, gshare = round_see(value.default_share), round_see(mine.default_share_direct)
            row.update(template_default_share=tshare, greenlink_default_share=gshare,
                       template_goods_category=value.goods_category.strip())
            equal = equal and tshare == gshare
            if categories is not None:
                row["greenlink_goods_category"] = categories[pid].strip()
                equal = equal and categories[pid].strip() == value.goods_category.strip()
        row["equal_to_5_decimals"] = equal
        out.append(row)
    return out
