"""China's green electricity certificates (GEC, 绿证) linked to the registry's hourly bundles.

In China the GEC is the sole proof of the environmental attributes of renewable electricity
(``data/gec/facts.toml``): 1 GEC = 1 MWh, issued monthly per project for the previous month,
valid 2 years, tradable or non-tradable (self-generated, self-consumed electricity gets
non-tradable GECs). The park's hourly certificates can therefore only be claimed for energy
whose GECs the park kept: this module imports the park's GEC records from the national
platform and says, for each device and production month, how many Wh may still be claimed,
for whom, and which GEC serials back each claim.

Records (table ``gc_gec_record``)
---------------------------------
One record per row of a platform export, on a range of serials of one device and production
month: ``issued`` to a holder, ``transferred`` to a holder, ``cancelled`` (used, 核销) for a
beneficiary, or ``expired``. Holders and beneficiaries are the park's own when they map to a
registry account, external otherwise. The fate of a serial is its last record:
expired/cancelled, else transferred, else issued.

Import (:meth:`greenlink.certificates.registry.Registry.import_gec_file`, ``greenlink registry
gec import``, one registry event): a CSV (UTF-8, UTF-8 with
BOM or GBK) whose columns a mapping file names (:class:`GecMapping`). All or nothing: every bad
row is refused naming file, row and column, and nothing is stored on any error. Re-importing a
file changes nothing (file hash + row), and a record already known from another export (same
content) is skipped. Refused: serials issued twice, transferred twice, cancelled or expired
twice (overlapping ranges), a transfer, cancellation or expiry of serials not issued to that
device and month, a tradable flag that contradicts the issuance.

Linking rules
-------------
* **Retained** serials back claims: held by a park account (and within validity: 2 years from
  the production month), or cancelled for a park beneficiary. Serials transferred to an external
  holder, cancelled for an external beneficiary or expired back no claim of the park.
* **Pools.** Serials cancelled for park beneficiary ``B`` back only claims for ``B`` (pool
  ``cancelled:B``); serials held by the park back any park claim (pool ``held``); serials
  transferred or cancelled to external party ``E`` back only ``sold_as_certificate`` claims
  whose beneficiary is ``E`` (pool ``external:E``, the buyer already holds them).
* **Serial order.** Within a device-month, claims are taken in the order they were made.
  A consumption claim for ``B`` (any purpose but ``sold_as_certificate``; a storage charge too)
  uses ``cancelled:B`` serials in serial order, then the ``held`` serials from the front,
  non-tradable first, then tradable. A ``sold_as_certificate`` claim for ``E`` uses
  ``external:E`` tradable serials in order, then **tradable** ``held`` serials from the back.
  The n-th Wh taken from a pool lies in its ⌈n / 10⁶⌉-th serial: a partial MWh uses that serial,
  and the next claim continues in it.
* **Non-tradable** GECs back claims for the park's own consumption, never
  ``sold_as_certificate``.
* **No records yet** for a device-month: nothing may be claimed (headroom 0) until its GECs are
  imported. GECs are issued monthly after the fact, so claims wait for them; a claim made before
  would rest on no proof, and GECs sold on the platform meanwhile would be counted twice.
* Wh of the device-month's hourly bundles count against its GECs when claimed (status Claimed)
  or cancelled into storage (the attribute moves into the storage device; storage-discharge
  bundles are not checked again). The month is a calendar month of China Standard Time.
* Energy below 1 MWh in a month is carried by the platform into the next month's issuance;
  greenlink links a month's bundles to that month's GECs only, so up to 1 MWh per device and
  month stays unclaimable (conservative).

The claim path calls :func:`gec_backing` (inside its write transaction, before the bundle is
marked claimed): it refuses a claim the GECs do not cover and returns the serials behind it.
:func:`gec_headroom_wh` and :func:`gec_position` answer how much remains and why. The pure
functions (:func:`device_month_position`, :func:`assign_serials`, :func:`parse_gec_csv`) work on
plain records and claims.
"""

from __future__ import annotations

from greenlink.certificates.gec.facts import (
    SOLD_AS_CERTIFICATE,
    GecError,
    GecFacts,
    GecStatus,
    SerialRange,
    TradabilityRule,
    add_months,
    data_dir,
    gec_facts,
    gec_timezone,
    month_bounds_utc,
    month_of,
    month_start,
    record_range,
    valid_until,
    wh_per_gec,
)
from greenlink.certificates.gec.mapping import (
    MAX_PROBLEMS,
    FieldName,
    GecMapping,
    Headers,
    ParsedFile,
    ParsedRow,
    load_mapping,
    parse_gec_csv,
)
from greenlink.certificates.gec.position import (
    HELD,
    Claim,
    ClaimBacking,
    Fate,
    GecEntry,
    GecPosition,
    Pool,
    Segment,
    SerialSlice,
    assign_serials,
    claim_next,
    device_month_position,
    serial_fates,
)
from greenlink.certificates.gec.store import (
    Db,
    ImportResult,
    claim_backings,
    device_month_claims,
    gec_backing,
    gec_entries,
    gec_headroom_wh,
    gec_position,
    lock_for_claims,
    read_gec_file,
    store_gec_rows,
    verify_gec_records,
)

__all__ = [
    "HELD",
    "MAX_PROBLEMS",
    "SOLD_AS_CERTIFICATE",
    "Claim",
    "ClaimBacking",
    "Db",
    "Fate",
    "FieldName",
    "GecEntry",
    "GecError",
    "GecFacts",
    "GecMapping",
    "GecPosition",
    "GecStatus",
    "Headers",
    "ImportResult",
    "ParsedFile",
    "ParsedRow",
    "Pool",
    "Segment",
    "SerialRange",
    "SerialSlice",
    "TradabilityRule",
    "add_months",
    "assign_serials",
    "claim_backings",
    "claim_next",
    "data_dir",
    "device_month_claims",
    "device_month_position",
    "gec_backing",
    "gec_entries",
    "gec_facts",
    "gec_headroom_wh",
    "gec_position",
    "gec_timezone",
    "load_mapping",
    "lock_for_claims",
    "month_bounds_utc",
    "month_of",
    "month_start",
    "parse_gec_csv",
    "read_gec_file",
    "record_range",
    "serial_fates",
    "store_gec_rows",
    "valid_until",
    "verify_gec_records",
    "wh_per_gec",
]
