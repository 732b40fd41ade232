"""Reconciliation of a buyer statement with the certificate registry's transfers."""

from __future__ import annotations

from dataclasses import dataclass

from greenlink.economics.settlement.model import BuyerStatement

# --------------------------------------------------------------------------- registry

@dataclass(frozen=True)
class RegistryTransfers:
    """What the certificate registry shows for one buyer statement's month (plain data, read by
    :func:`greenlink.workflows.settle.registry_transfers`).

    ``certificates_wh``: granular certificates of the seller's device, produced in the month,
    that the buyer's registry account received and kept (not sent back, not withdrawn);
    ``gec``: GECs of the device's production month whose last record transfers them to, or
    cancels them for, the buyer's GEC label. ``None`` where the buyer names no account or label.
    """

    certificates_wh: int | None
    bundle_ranges: tuple[tuple[int, int], ...] = ()
    gec: int | None = None
    gec_serials: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def registry_checks(b: BuyerStatement, t: RegistryTransfers) -> tuple[str, ...]:
    """Reconcile a buyer statement with the registry's transfers for its month."""
    a = b.attributes
    out = list(t.notes)
    if t.certificates_wh is not None:
        ranges = ", ".join(f"{lo}–{hi}" for lo, hi in t.bundle_ranges) or "none"
        text = (f"granular certificates received and kept by {a.registry_account} for {b.month}: "
                f"{t.certificates_wh:,} Wh (ids {ranges}); statement {a.certificates_wh:,} Wh")
        if t.certificates_wh == a.certificates_wh:
            out.append(f"ok: {text}")
        else:
            diff = a.certificates_wh - t.certificates_wh
            what = (f"{diff:,} Wh still to transfer" if diff > 0
                    else f"{-diff:,} Wh more than delivered")
            out.append(f"MISMATCH: {text}: {what}")
    if t.gec is not None:
        serials = ", ".join(t.gec_serials) or "none"
        text = (f"GECs of {a.seller_device}, production month {b.month}, transferred to or "
                f"cancelled for {a.gec_holder}: {t.gec:,} (serials {serials}); statement "
                f"{a.gec:,}")
        out.append(("ok: " if t.gec == a.gec else "MISMATCH: ") + text)
    return tuple(out)
