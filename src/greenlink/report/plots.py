"""Report figures: matplotlib figures rendered to small inline SVG strings.

Only :class:`matplotlib.figure.Figure` is used (no pyplot), so importing this module neither picks
a backend nor touches global matplotlib state. Every public ``*_svg`` function takes the flows
table (see ``docs/formats.md``) or parts of ``summary.json`` and returns one ``<svg>`` element as
text, ready to be placed inline in an HTML page.

Conventions: ``interval_start`` labels the **beginning** of an interval, energy columns hold kWh
per interval; the battery state of charge is the stored energy at the **end** of the interval.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, cast

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, PercentFormatter, ScalarFormatter

from greenlink import flows, i18n
from greenlink.i18n import N_
from greenlink.i18n import gettext as _

SEASONS: dict[str, tuple[int, int, int]] = {
    N_("Winter (DJF)"): (12, 1, 2),
    N_("Spring (MAM)"): (3, 4, 5),
    N_("Summer (JJA)"): (6, 7, 8),
    N_("Autumn (SON)"): (9, 10, 11),
}

COLOURS: dict[str, str] = {
    "generation": "#f2b01e",
    "load": "#222222",
    "green_direct": "#2e7d32",
    "green_battery": "#8bc34a",
    "grid": "#9e9e9e",
    "import": "#757575",
    "export": "#1e88e5",
    "curtailed": "#fb8c00",
    "charge": "#8e24aa",
    "discharge": "#ce93d8",
    "soc_green": "#66bb6a",
    "soc_grid": "#bdbdbd",
    "annual": "#a5d6a7",
    "hourly": "#43a047",
    "physical": "#1b5e20",
}

#: Text stays text in the SVG (small, selectable); its font list names the shipped CJK font
#: after DejaVu, so matplotlib measures Chinese labels with that font's metrics and the page
#: draws them with the same font (embedded by :func:`greenlink.i18n.embed_cjk_font`).
_RC: dict[Any, Any] = {"svg.fonttype": "none", "svg.hashsalt": "greenlink",
                       "font.family": i18n.SANS_FAMILY, "font.sans-serif": i18n.SANS_FAMILY}
_SVG_FONTS = ", ".join(f"'{name}'" for name in i18n.SANS_FAMILY)
_SVG_FONTS_FOR_BROWSERS = ", ".join(f"'{name}'" for name in reversed(i18n.SANS_FAMILY))
_MONTH_ABBR = (N_("Jan"), N_("Feb"), N_("Mar"), N_("Apr"), N_("May"), N_("Jun"), N_("Jul"),
               N_("Aug"), N_("Sep"), N_("Oct"), N_("Nov"), N_("Dec"))
_MAX_LINE_POINTS = 1000
_USER_ROW_INCHES = 0.5  # height of one user's row in the per-user figure


# --------------------------------------------------------------------------------------------
# flows table helpers (the time axis: greenlink.flows.normalise / time_index / interval_hours)


def column(table: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name`` of ``table`` as floats, or zeros when the column is absent."""
    if name in table.columns:
        return table[name].astype(float).fillna(0.0)
    return pd.Series(0.0, index=table.index, name=name)


def energy_unit(max_kwh: float) -> tuple[str, float]:
    """Pick kWh, MWh or GWh for values up to ``max_kwh``; return the unit and its divisor."""
    if max_kwh >= 5e6:
        return "GWh", 1e6
    if max_kwh >= 5e3:
        return "MWh", 1e3
    return "kWh", 1.0


def power_unit(max_kw: float) -> tuple[str, float]:
    """Pick kW or MW for values up to ``max_kw``; return the unit and its divisor."""
    if max_kw >= 5e3:
        return "MW", 1e3
    return "kW", 1.0


def plain_text(text: object) -> str:
    """Text safe for matplotlib labels: ``$`` would start mathtext, so it is escaped."""
    return str(text).replace("$", r"\$")


# --------------------------------------------------------------------------------------------
# SVG output


def figure_to_svg(fig: Figure, prefix: str) -> str:
    """Render ``fig`` to an inline ``<svg>`` element.

    Text stays text (small, selectable), the XML prolog, metadata and namespace declarations
    (implied for SVG inside HTML) are dropped, and every ``id`` is prefixed so that several
    figures can live in one HTML document.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Figure to render.
    prefix : str
        Prefix for element ids, unique within the page (letters, digits and ``-``).

    Returns
    -------
    str
        The ``<svg ...>...</svg>`` element.
    """
    buffer = io.StringIO()
    i18n.register_cjk_font()
    # texts made before now took the default family: every one gets the list with the CJK font
    for text in fig.findobj(Text):
        text.set_fontfamily(i18n.SANS_FAMILY)
    with matplotlib.rc_context(_RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight",
                    pad_inches=0.05)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    # the HTML parser puts inline <svg> in the SVG namespace (and knows xlink:href) by itself
    svg = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg, count=2)
    svg = svg.replace('id="', f'id="{prefix}-').replace('href="#', f'href="#{prefix}-')
    svg = svg.replace("url(#", f"url(#{prefix}-")
    # matplotlib took Latin from DejaVu and the rest from the CJK font; a browser given DejaVu
    # first may draw Chinese with it (boxes), so the CJK font, whose @font-face on the page
    # covers only the CJK range, comes first
    svg = svg.replace(_SVG_FONTS, _SVG_FONTS_FOR_BROWSERS)
    return svg.replace("<svg ", f'<svg class="plot" role="img" aria-label="{prefix}" ', 1)


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    fig.set_facecolor("white")
    return fig


def _style_axes(ax: Axes) -> None:
    """Common look; numeric axes in plain notation (no ``1e6`` offset or exponent)."""
    for axis in (ax.xaxis, ax.yaxis):
        formatter = axis.get_major_formatter()
        if isinstance(formatter, ScalarFormatter):
            formatter.set_scientific(False)
            formatter.set_useOffset(False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e0e0e0", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=8)


def _empty_panel(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes,
            fontsize=9, color="#757575")
    ax.set_xticks([])
    ax.set_yticks([])


# --------------------------------------------------------------------------------------------
# (1) typical day per season

_PROFILE_SERIES: tuple[tuple[str, str, str], ...] = (
    (flows.GENERATION_KWH, "generation", N_("Generation (available)")),
    (flows.LOAD_KWH, "load", N_("Load")),
    (flows.BATTERY_CHARGE_KWH, "charge", N_("Battery charge")),
    (flows.BATTERY_DISCHARGE_KWH, "discharge", N_("Battery discharge")),
    (flows.IMPORT_KWH, "import", N_("Grid import")),
    (flows.EXPORT_KWH, "export", N_("Export")),
)


def season_of_month(month: int) -> str:
    """Meteorological season name (northern hemisphere) of a month number 1..12."""
    for name, months in SEASONS.items():
        if month in months:
            return name
    raise ValueError(f"month must be 1..12, got {month}")


def seasonal_profiles(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Mean power (kW) by time of day for each season that has data.

    Parameters
    ----------
    table : pandas.DataFrame
        Normalised flows table (see :func:`greenlink.flows.normalise`).

    Returns
    -------
    dict of str to pandas.DataFrame
        Per season, a table indexed by the interval start as hours after midnight (local time),
        with one column per profile series (``generation_kwh``, ``load_kwh``, ...), in kW.
    """
    index = flows.time_index(table)
    hours = flows.interval_hours(index)
    names = [name for name, _, _ in _PROFILE_SERIES]
    power = pd.DataFrame({name: column(table, name).to_numpy() / hours for name in names})
    time_of_day = np.round(index.hour + index.minute / 60.0, 6)
    seasons = np.array([season_of_month(m) for m in range(1, 13)])[index.month - 1]
    power["time_of_day"] = time_of_day
    power["season"] = seasons
    grouped = power.groupby(["season", "time_of_day"], sort=True).mean()
    present = set(grouped.index.get_level_values(0))
    return {name: cast(pd.DataFrame, grouped.loc[name]) for name in SEASONS if name in present}


def _step_xy(profile: pd.Series, step_h: float) -> tuple[np.ndarray, np.ndarray]:
    """Points for a step line where each value holds from its interval start to its end."""
    x = np.append(profile.index.to_numpy(dtype=float), profile.index[-1] + step_h)
    y = np.append(profile.to_numpy(dtype=float), profile.iloc[-1])
    return x, y


def seasonal_profile_svg(table: pd.DataFrame) -> str:
    """Figure (1): typical-day profile per season, four small panels sharing one y axis.

    Parameters
    ----------
    table : pandas.DataFrame
        Flows table (``interval_start`` as column or index).

    Returns
    -------
    str
        Inline SVG.
    """
    table = flows.normalise(table)
    profiles = seasonal_profiles(table)
    step_h = flows.interval_hours(flows.time_index(table))
    peak = max((float(p.to_numpy().max()) for p in profiles.values()), default=0.0)
    unit, divisor = power_unit(peak)
    fig = _new_figure(10.0, 3.0)
    axes = fig.subplots(1, 4, sharey=True)
    for ax, season in zip(axes, SEASONS, strict=True):
        _style_axes(ax)
        ax.set_title(_(season), fontsize=9)
        if season not in profiles:
            _empty_panel(ax, _("no data in this season"))
            continue
        profile = profiles[season]
        for name, key, label in _PROFILE_SERIES:
            x, y = _step_xy(profile[name] / divisor, step_h)
            if key == "generation":
                ax.fill_between(x, y, step="post", color=COLOURS[key], alpha=0.25, linewidth=0)
            ax.step(x, y, where="post", color=COLOURS[key], linewidth=1.2 if key == "load" else 1.0,
                    label=_(label))
        ax.set_xlim(0, 24)
        ax.set_xticks([0, 6, 12, 18, 24])
        ax.set_xticklabels(["0h", "6h", "12h", "18h", "24h"])
    axes[0].set_ylabel(_("mean power [{unit}]").format(unit=unit), fontsize=8)
    handles, labels = next(((a.get_legend_handles_labels()) for a in axes if a.lines), ([], []))
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=len(handles), fontsize=8,
                   frameon=False)
    return figure_to_svg(fig, "seasonal")


# --------------------------------------------------------------------------------------------
# (2) monthly energy by source


def monthly_energy(table: pd.DataFrame) -> pd.DataFrame:
    """Monthly energy (kWh) by source for the monthly figure.

    Parameters
    ----------
    table : pandas.DataFrame
        Normalised flows table (see :func:`greenlink.flows.normalise`).

    Returns
    -------
    pandas.DataFrame
        One row per month (index ``"YYYY-MM"``) with columns ``green_direct``,
        ``green_battery``, ``grid``, ``load``, ``export`` and ``curtailed`` (kWh).
        ``grid`` is the load not served green (``load - green_to_load``).
    """
    index = flows.time_index(table)
    load = column(table, flows.LOAD_KWH)
    green_to_load = column(table, flows.GREEN_TO_LOAD_KWH)
    parts = pd.DataFrame({
        "green_direct": column(table, flows.GREEN_DIRECT_KWH).to_numpy(),
        "green_battery": column(table, flows.BATTERY_DISCHARGE_GREEN_KWH).to_numpy(),
        "grid": (load - green_to_load).clip(lower=0.0).to_numpy(),
        "load": load.to_numpy(),
        "export": column(table, flows.EXPORT_KWH).to_numpy(),
        "curtailed": column(table, flows.CURTAILED_KWH).to_numpy(),
    })
    parts["month"] = [f"{y:04d}-{m:02d}" for y, m in zip(index.year, index.month, strict=True)]
    return parts.groupby("month", sort=True).sum()


def _month_labels(months: Sequence[str]) -> list[str]:
    years = {m[:4] for m in months}
    if len(years) == 1:
        return [_(_MONTH_ABBR[int(m[5:7]) - 1]) for m in months]
    return [_(_MONTH_ABBR[int(m[5:7]) - 1]) + "\n" + m[:4] for m in months]


def monthly_energy_svg(table: pd.DataFrame) -> str:
    """Figure (2): monthly energy by source (stacked) against load, export/curtailment below 0.

    Parameters
    ----------
    table : pandas.DataFrame
        Flows table (``interval_start`` as column or index).

    Returns
    -------
    str
        Inline SVG.
    """
    energy = monthly_energy(flows.normalise(table))
    peak = float(max(energy["load"].max(), (energy["export"] + energy["curtailed"]).max(), 0.0))
    unit, divisor = energy_unit(peak)
    data = energy / divisor
    x = np.arange(len(data))
    fig = _new_figure(10.0, 3.4)
    ax = fig.add_subplot()
    _style_axes(ax)
    bottom = np.zeros(len(data))
    for key, label in (("green_direct", _("Green, direct")),
                       ("green_battery", _("Green, via battery")), ("grid", _("Grid"))):
        ax.bar(x, data[key], 0.7, bottom=bottom, color=COLOURS[key], label=label)
        bottom = bottom + data[key].to_numpy()
    ax.bar(x, -data["export"], 0.7, color=COLOURS["export"], label=_("Export"))
    ax.bar(x, -data["curtailed"], 0.7, bottom=-data["export"], color=COLOURS["curtailed"],
           label=_("Curtailed"))
    ax.plot(x, data["load"], color=COLOURS["load"], marker="_", markersize=18, linestyle="none",
            markeredgewidth=1.6, label=_("Load"))
    ax.axhline(0.0, color="#424242", linewidth=0.8)
    ax.set_xticks(x)
    ax.set_xticklabels(_month_labels(list(data.index)))
    ax.set_xlim(-0.6, len(data) - 0.4)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{abs(v):,.0f}"))
    ax.set_ylabel(_("energy [{unit}]").format(unit=unit) + "\n"
                  + _("← export / curtailed   supply →"), fontsize=8)
    fig.legend(loc="outside right upper", fontsize=8, frameon=False)
    return figure_to_svg(fig, "monthly")


# --------------------------------------------------------------------------------------------
# (3) battery state of charge over a week


def busiest_week_start(table: pd.DataFrame) -> pd.Timestamp:
    """Local midnight starting the 7 days with the most battery discharge (most cycling).

    Parameters
    ----------
    table : pandas.DataFrame
        Normalised flows table (see :func:`greenlink.flows.normalise`).

    Returns
    -------
    pandas.Timestamp
        Tz-aware start of the week; the first day of data when there is less than a week.
    """
    index = flows.time_index(table)
    throughput = (column(table, flows.BATTERY_DISCHARGE_KWH)
                  + column(table, flows.BATTERY_CHARGE_KWH))
    daily = throughput.groupby(index.normalize()).sum()
    days = pd.DatetimeIndex(daily.index)
    if len(days) <= 7:
        return days[0]
    weekly = daily.rolling(7).sum().shift(-6).iloc[: len(days) - 6].to_numpy()
    return days[int(np.argmax(weekly))]


def week_slice(table: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    """The rows of ``table`` from ``start`` (inclusive) to 7 days later (exclusive)."""
    index = flows.time_index(table)
    end = start + pd.Timedelta(days=7)
    return table.loc[(index >= start) & (index < end)]


def _thin(values: np.ndarray, max_points: int) -> np.ndarray:
    step = max(1, int(np.ceil(len(values) / max_points)))
    return values[::step]


def battery_week_svg(table: pd.DataFrame, start: str | pd.Timestamp | None = None) -> str:
    """Figure (3): battery state of charge (total and green part) over one week.

    Parameters
    ----------
    table : pandas.DataFrame
        Flows table (``interval_start`` as column or index).
    start : str or pandas.Timestamp, optional
        First day of the week (local time if naive). Default: the week with the most cycling.

    Returns
    -------
    str
        Inline SVG. The state of charge is drawn at the **end** of each interval.
    """
    table = flows.normalise(table)
    index = flows.time_index(table)
    tz = index.tz
    if start is None:
        begin = busiest_week_start(table)
    else:
        begin = pd.Timestamp(start)
        begin = begin.tz_localize(tz) if begin.tzinfo is None else begin.tz_convert(tz)
    week = week_slice(table, begin)
    fig = _new_figure(10.0, 2.8)
    ax = fig.add_subplot()
    _style_axes(ax)
    soc = column(week, flows.BATTERY_SOC_KWH).to_numpy()
    if len(week) == 0 or not np.any(soc > 0):
        _empty_panel(ax, _("no battery energy stored in this week"))
        return figure_to_svg(fig, "battery")
    green = np.minimum(column(week, flows.BATTERY_SOC_GREEN_KWH).to_numpy(), soc)
    step = pd.Timedelta(hours=flows.interval_hours(index))
    ends = (pd.DatetimeIndex(week.index).tz_localize(None) + step).to_numpy()
    ends, soc, green = (_thin(v, _MAX_LINE_POINTS) for v in (ends, soc, green))
    unit, divisor = energy_unit(float(soc.max()))
    ax.fill_between(ends, 0, green / divisor, color=COLOURS["soc_green"], linewidth=0,
                    label=_("Green part"))
    ax.fill_between(ends, green / divisor, soc / divisor, color=COLOURS["soc_grid"],
                    linewidth=0, label=_("Grid part"))
    ax.plot(ends, soc / divisor, color="#212121", linewidth=1.0, label=_("Total stored"))
    ax.set_ylim(bottom=0)
    ax.set_xlim(ends[0], ends[-1])
    ax.xaxis.set_major_locator(mdates.DayLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter(_("%a %d %b")))
    ax.set_ylabel(_("stored energy [{unit}]").format(unit=unit), fontsize=8)
    ax.set_title(_("Week from {date} (local time, state at end of interval)").format(
        date=f"{begin:%Y-%m-%d}"), fontsize=9, loc="left")
    fig.legend(loc="outside right upper", fontsize=8, frameon=False)
    return figure_to_svg(fig, "battery")


# --------------------------------------------------------------------------------------------
# (4) green share per user

SHARE_KINDS: tuple[tuple[str, str, str], ...] = (
    ("annual_matched_share", "annual", N_("Annual-matched")),
    ("hourly_matched_share", "hourly", N_("Hourly-matched")),
    ("green_share_of_consumption", "physical", N_("Physically delivered")),
)


def user_share_table(users: Sequence[Mapping[str, Any]],
                     park: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Green shares per user (and the park) for the user figure.

    Parameters
    ----------
    users : sequence of mapping
        ``summary["users"]``: each with ``id``/``name`` and the three share keys.
    park : mapping, optional
        ``summary["shares"]``; when given, a first row ``"Park"`` is added.

    Returns
    -------
    pandas.DataFrame
        Index: display names; columns: the share keys of :data:`SHARE_KINDS` (fractions, NaN
        where missing).
    """
    keys = [key for key, _, _ in SHARE_KINDS]
    rows: list[dict[str, float]] = []
    names: list[str] = []
    if park:
        names.append(_("Park"))
        rows.append({k: _as_float(park.get(k)) for k in keys})
    for user in users:
        names.append(str(user.get("name") or user.get("id") or "?"))
        rows.append({k: _as_float(user.get(k)) for k in keys})
    return pd.DataFrame(rows, index=pd.Index(names), columns=keys)


def _as_float(value: object) -> float:
    try:
        return float(cast(float, value))
    except (TypeError, ValueError):
        return float("nan")


def label_width(text: str) -> int:
    """Width of ``text`` in Latin characters (a CJK character counts as two)."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def wrap_label(text: str, width: int = 26, lines: int = 2) -> str:
    """``text`` on at most ``lines`` lines of about ``width`` Latin characters, broken at
    spaces (or anywhere in a long word), the rest cut with an ellipsis."""
    out: list[str] = []
    line = ""
    for word in str(text).split():
        while label_width(word) > width:  # a word longer than a line: cut it
            room = width - label_width(line) - (1 if line else 0)
            if room < 4 and line:
                out.append(line)
                line, room = "", width
            cut = 0
            while cut < len(word) and label_width(word[:cut + 1]) <= room:
                cut += 1
            out.append((line + " " if line else "") + word[:cut])
            line, word = "", word[cut:]
        if not word:
            continue
        candidate = f"{line} {word}" if line else word
        if label_width(candidate) <= width:
            line = candidate
        else:
            out.append(line)
            line = word
    if line:
        out.append(line)
    if len(out) > lines:
        last = out[lines - 1]
        while last and label_width(last) > width - 1:
            last = last[:-1]
        out = [*out[:lines - 1], last.rstrip() + "…"]
    return "\n".join(out)


def user_share_svg(users: Sequence[Mapping[str, Any]],
                   park: Mapping[str, Any] | None = None) -> str:
    """Figure (4): green share per user, annual-matched vs hourly-matched vs physical.

    One row per user (the park first), the three shares as horizontal bars with their values
    at the ends: names of any length and any number of users keep their own line, so no label
    overlaps another (names longer than two lines of 26 characters are cut with "…").

    Parameters
    ----------
    users : sequence of mapping
        ``summary["users"]``.
    park : mapping, optional
        ``summary["shares"]``, drawn as a first group ``"Park"``.

    Returns
    -------
    str
        Inline SVG.
    """
    table = user_share_table(users, park)
    groups = len(table)
    fig = _new_figure(10.0, 1.0 + _USER_ROW_INCHES * max(groups, 1))
    ax = fig.add_subplot()
    _style_axes(ax)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)
    if groups == 0:
        _empty_panel(ax, _("no users"))
        return figure_to_svg(fig, "users")
    y = np.arange(groups)
    height = 0.84 / len(SHARE_KINDS)
    for i, (key, colour, label) in enumerate(SHARE_KINDS):
        values = table[key].to_numpy(dtype=float)
        offset = (i - (len(SHARE_KINDS) - 1) / 2) * height
        bars = ax.barh(y + offset, np.nan_to_num(values), height, color=COLOURS[colour],
                       label=_(label))
        text = ["" if np.isnan(v) else f"{v:.0%}" for v in values]
        ax.bar_label(bars, labels=text, fontsize=6.5, padding=2, color="#424242")
    ax.set_yticks(y)
    ax.set_yticklabels([plain_text(wrap_label(n)) for n in table.index], fontsize=8)
    ax.set_ylim(groups - 0.5, -0.5)  # the park on top, users in the scenario's order
    ax.set_xlim(0, 1.12)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_xlabel(_("green share of consumption"), fontsize=8)
    fig.legend(loc="outside right upper", fontsize=8, frameon=False)
    return figure_to_svg(fig, "users")


# --------------------------------------------------------------------------------------------
# all figures


def report_plots(table: pd.DataFrame, summary: Mapping[str, Any],
                 week_start: str | pd.Timestamp | None = None) -> dict[str, str]:
    """All four report figures as inline SVG, keyed by ``seasonal``, ``monthly``, ``battery``
    and ``users``.

    Parameters
    ----------
    table : pandas.DataFrame
        Flows table (``interval_start`` as column or index).
    summary : mapping
        ``summary.json`` content; ``users`` and ``shares`` feed the per-user figure.
    week_start : str or pandas.Timestamp, optional
        Start of the battery week; default the week with the most cycling.

    Returns
    -------
    dict of str to str
        Figure key to SVG text.
    """
    normalised = flows.normalise(table)
    return {
        "seasonal": seasonal_profile_svg(normalised),
        "monthly": monthly_energy_svg(normalised),
        "battery": battery_week_svg(normalised, week_start),
        "users": user_share_svg(summary.get("users") or [], summary.get("shares") or None),
    }
