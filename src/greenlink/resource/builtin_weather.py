"""Weather files shipped with greenlink, named in a scenario as ``builtin:<name>``.

The catalogue is the only way to a shipped file: a name is looked up here, never joined to a
folder, so ``builtin:../x`` or ``builtin:/etc/x`` name nothing (the web service leaves
``builtin:`` paths to this lookup). Files and their licences: ``data/weather/SOURCES.md``.
Four of the five are stored gzip-compressed (``.epw.gz``, 17 % of their size); the readers open
them transparently.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from greenlink.errors import InputError, Problem

PREFIX = "builtin:"

#: The attribution every shipped TMYx file carries (data/weather/SOURCES.md).
TMYX_ATTRIBUTION = ("Climate.OneBuilding.Org TMYx 2009–2023; contains modified Copernicus "
                    "Climate Change Service information (ERA5); NOAA NCEI ISD")

# user-facing texts of this module (one place, for translation later)
_MSG_UNKNOWN = "no built-in weather file {name!r}"
_EXPECTED_UNKNOWN = "builtin: followed by one of {names}"
_NOTE_ATTRIBUTION = "weather data: {attribution}"


@dataclass(frozen=True)
class BuiltinWeather:
    """One shipped typical-year weather file."""

    name: str  # what follows ``builtin:``
    file: str  # in greenlink/data/weather
    station: str  # WMO id as the file writes it (6 digits)
    place: str
    attribution: str

    @property
    def epw_name(self) -> str:
        """The file's EPW name (without a ``.gz``)."""
        return self.file.removesuffix(".gz")


BUILTIN_WEATHER: tuple[BuiltinWeather, ...] = (
    BuiltinWeather("nanjing", "CHN_JS_Nanjing.582380_TMYx.2009-2023.epw", "582380",
                   "Nanjing, Jiangsu", TMYX_ATTRIBUTION),
    BuiltinWeather("xuzhou", "CHN_JS_Xuzhou.580270_TMYx.2009-2023.epw.gz", "580270",
                   "Xuzhou, Jiangsu", TMYX_ATTRIBUTION),
    BuiltinWeather("beijing", "CHN_BJ_Beijing-Capital.Intl.AP.545110_TMYx.2009-2023.epw.gz",
                   "545110", "Beijing Capital International Airport", TMYX_ATTRIBUTION),
    BuiltinWeather("guangzhou", "CHN_GD_Guangzhou.592870_TMYx.2009-2023.epw.gz", "592870",
                   "Guangzhou, Guangdong", TMYX_ATTRIBUTION),
    BuiltinWeather("yinchuan", "CHN_NX_Yinchuan.536140_TMYx.2009-2023.epw.gz", "536140",
                   "Yinchuan, Ningxia", TMYX_ATTRIBUTION),
)
"""The shipped weather files (all EnergyPlus EPW, ``kind = "epw"``)."""


def _folder() -> Path:
    return Path(str(resources.files("greenlink") / "data" / "weather"))


def builtin_names() -> list[str]:
    """The names a scenario may write after ``builtin:``."""
    return [b.name for b in BUILTIN_WEATHER]


def find_builtin(name: str) -> BuiltinWeather:
    """The catalogue entry named ``name`` (case-insensitive), or its file name as listed
    (with or without ``.gz``); :class:`InputError` for anything else."""
    key = name.strip().lower()
    for entry in BUILTIN_WEATHER:
        if key in (entry.name, entry.file.lower(), entry.epw_name.lower()):
            return entry
    names = ", ".join(builtin_names())
    raise InputError(Problem(_MSG_UNKNOWN.format(name=name), location="weather.path",
                             expected=_EXPECTED_UNKNOWN.format(names=names)))


def builtin_weather_path(name: str) -> Path:
    """Path of the shipped file ``builtin:<name>`` (see :func:`find_builtin`)."""
    path = _folder() / find_builtin(name).file
    if not path.is_file():  # a packaging error, not a user's
        raise InputError(Problem(f"the built-in weather file {path.name} is missing from this "
                                 "installation", file=str(path)))
    return path


def builtin_for_path(path: str | Path) -> BuiltinWeather | None:
    """The catalogue entry of a path when it is a shipped file, else None."""
    p = Path(path)
    try:
        same_folder = p.resolve().parent == _folder().resolve()
    except OSError:
        return None
    if not same_folder:
        return None
    return next((b for b in BUILTIN_WEATHER if b.file == p.name), None)


def attribution_note(entry: BuiltinWeather) -> str:
    """The line a report shows for a shipped file's data."""
    return _NOTE_ATTRIBUTION.format(attribution=entry.attribution)
