"""Storage: certificates cancelled into a storage device make a charge record (SCR); a
metered discharge draws on the charge records FIFO (``drawn = ⌈discharge / η⌉`` Wh, loss
``drawn − discharge``) and issues storage-discharge certificates of ``discharge`` Wh.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenlink.certificates.claims import ClaimRequest, ClaimResult
from greenlink.certificates.errors import RegistryError
from greenlink.certificates.issuance import hour_limit_wh
from greenlink.certificates.models import (
    ACTIVE,
    ClaimPart,
    Device,
    GranularCertificateBundle,
    StorageChargeRecord,
    StorageDischargeRecord,
    as_utc,
)
from greenlink.certificates.writer import Tx

Bundle = GranularCertificateBundle


class StorageOps:
    """Storage charge and discharge of :class:`greenlink.certificates.registry.Registry`."""

    if TYPE_CHECKING:
        def _run(self, kind: str, fn: Callable[[Tx], Any]) -> Any: ...

        def _next_bundle_id(self, s: Session) -> int: ...

        def claim(self, request: ClaimRequest) -> ClaimResult: ...

    def storage_charge(self, storage_device: str, bundle_ids: Sequence[int], *,
                       account_id: str | None = None, claim_id: str | None = None,
                       operation: str = "library") -> int:
        """Cancel bundles into a storage device: one storage charge record (SCR); its id.
        Through :meth:`claim`: a registered storage device, capped by its metered charging."""
        result = self.claim(ClaimRequest.storage_charge(
            storage_device, bundle_ids, account_id=account_id, claim_id=claim_id,
            operation=operation))
        assert result.storage_charge_record_id is not None
        return result.storage_charge_record_id

    def storage_discharge(self, storage_device: str, hour_start: datetime, discharge_wh: int,
                          *, efficiency: float, metadata_id: int) -> int:
        """Record a metered discharge, draw on charge records FIFO, issue SD-GCs; the SDR id.

        ``drawn = ⌈discharge_wh / efficiency⌉`` Wh of charge records are used (oldest first);
        ``loss = drawn − discharge_wh``. Raises if the records hold less than ``drawn``.
        """
        if not 0 < efficiency <= 1:
            raise RegistryError("storage efficiency must be in (0, 1]")
        hour = as_utc(hour_start)
        def op(tx: Tx) -> Any:
            s = tx.session
            d = s.get(Device, storage_device, with_for_update=True)
            if d is None or not d.is_storage:
                raise RegistryError(f"{storage_device!r} is not a registered storage device")
            if discharge_wh <= 0 or discharge_wh > hour_limit_wh(d.capacity):
                raise RegistryError(f"storage {storage_device}: a discharge of {discharge_wh} Wh "
                                    "in one hour is not between 1 Wh and capacity × 1 h × "
                                    f"rating_margin = {hour_limit_wh(d.capacity)} Wh")
            twice = s.execute(select(StorageDischargeRecord.id).where(
                StorageDischargeRecord.device_id == storage_device,
                StorageDischargeRecord.discharging_start == hour)).scalar()
            if twice is not None:
                raise RegistryError(f"storage {storage_device}: the discharge of the hour from "
                                    f"{hour.isoformat()} is recorded already (SDR {twice}); "
                                    "energy discharged from storage is claimable once")
            drawn = math.ceil(discharge_wh / efficiency - 1e-9)
            records = s.execute(select(StorageChargeRecord).where(
                StorageChargeRecord.device_id == storage_device,
                StorageChargeRecord.remaining_wh > 0,
                StorageChargeRecord.charging_start <= hour).order_by(
                StorageChargeRecord.charging_start, StorageChargeRecord.id).with_for_update()
            ).scalars().all()
            available = sum(r.remaining_wh for r in records)
            if available < drawn:
                raise RegistryError(f"storage {storage_device} holds {available} Wh of charge "
                                    f"records; discharging {discharge_wh} Wh at efficiency "
                                    f"{efficiency:g} needs {drawn} Wh")
            need = drawn
            parts: list[str] = []
            for r in records:
                take = min(need, r.remaining_wh)
                if take <= 0:
                    break
                r.remaining_wh -= take
                parts.append(f"{r.id}:{take}")
                need -= take
            sdr = StorageDischargeRecord(
                device_id=storage_device, discharging_start=hour,
                discharging_end=hour + timedelta(hours=1), discharge_wh=discharge_wh,
                drawn_charge_wh=drawn, loss_wh=drawn - discharge_wh, allocation_method="FIFO",
                storage_efficiency_factor=efficiency, scr_allocations=",".join(parts))
            s.add(sdr)
            s.flush()
            issuance_id = f"{storage_device}-SD-{hour.strftime('%Y%m%dT%H%MZ')}-{sdr.id}"
            bundle = Bundle(
                id=self._next_bundle_id(s), issuance_id=issuance_id, hash="",
                certificate_bundle_status=ACTIVE, account_id=d.account_id,
                metadata_id=metadata_id, certificate_bundle_id_range_start=d.next_wh_id,
                certificate_bundle_id_range_end=d.next_wh_id + discharge_wh - 1,
                bundle_quantity=discharge_wh, face_value=1, energy_carrier="Electricity",
                energy_source=d.energy_source, issuance_post_energy_carrier_conversion=False,
                device_id=storage_device, production_starting_interval=hour,
                production_ending_interval=hour + timedelta(hours=1),
                issuance_datestamp=datetime.now(UTC).date(),
                expiry_datestamp=datetime.now(UTC).date() + timedelta(days=730),
                is_storage=True, sdr_allocation_id=sdr.id, storage_efficiency_factor=efficiency,
                is_deleted=False, parent_bundle_id=None, issued_event_seq=tx.seq,
                last_event_seq=tx.seq)
            d.next_wh_id += discharge_wh
            s.add(bundle)
            tx.payload.update(sdr=sdr.id, device=storage_device, discharge_wh=discharge_wh,
                              drawn_wh=drawn, allocations=parts)
            return sdr.id
        return self._run("storage_discharge", op)


    def _charge_record(self, s: Session, request: ClaimRequest, parts: list[ClaimPart]) -> int:
        """The storage charge record (SCR) of a cancellation into storage."""
        starts = [as_utc(p.hour_start) for p in parts]
        total = sum(int(p.wh) for p in parts)
        scr = StorageChargeRecord(device_id=request.beneficiary, charging_start=min(starts),
                                  charging_end=max(starts) + timedelta(hours=1),
                                  charge_wh=total, remaining_wh=total,
                                  gc_allocation_bundle_ids=",".join(
                                      str(p.bundle_id) for p in parts))
        s.add(scr)
        s.flush()
        return int(scr.id)
