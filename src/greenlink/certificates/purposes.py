"""Claim purposes: the one list of what a cancelled (claimed) certificate bundle was used for,
and the subsets each entry point accepts.

Every other place derives from these: the registry checks :data:`CLAIM_PURPOSES`; the API
schema, the web form, the CLI option and the service accept :data:`USER_CLAIM_PURPOSES`; an
evidence claim file accepts :data:`CONSUMPTION_CLAIM_PURPOSES`. Each string is written once: the
``Literal`` types nest, and the tuples are read off them.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

#: Purposes that back a claim of having *consumed* the green electricity: a tenant's Scope 2
#: (market-based), a product batch, a CBAM shipment. An evidence pack rests on these.
ConsumptionClaimPurpose = Literal["tenant_scope2", "product_batch", "shipment"]

#: Purposes a user may pick when claiming: the consumption claims, or the certificates sold on
#: (the attribute leaves the park; the buyer claims it elsewhere).
UserClaimPurpose = Literal[ConsumptionClaimPurpose, "sold_as_certificate"]

#: Every purpose a bundle may carry. ``storage_charge`` is internal: the registry sets it when
#: certificates are cancelled into a storage device (``Registry.storage_charge``).
ClaimPurpose = Literal[UserClaimPurpose, "storage_charge"]

STORAGE_CHARGE: Final = "storage_charge"

CONSUMPTION_CLAIM_PURPOSES: tuple[str, ...] = get_args(ConsumptionClaimPurpose)
USER_CLAIM_PURPOSES: tuple[str, ...] = get_args(UserClaimPurpose)
CLAIM_PURPOSES: tuple[str, ...] = get_args(ClaimPurpose)
