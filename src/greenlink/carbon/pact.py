"""Product carbon footprint export in the WBCSD PACT ``ProductFootprint`` JSON shape.

Follows the shape of the PACT Technical Specification v2 (``ProductFootprint`` with a nested
``CarbonFootprint``: declared unit, unitary amount, ``pCfExcludingBiogenic``, characterisation
factors, reference period, standards used). Only the cradle-to-gate emissions greenlink
computes are filled: direct, electricity (with the direct line's hourly-matched green share) and
purchased precursors; the boundary is stated in ``boundaryProcessesDescription``. Values are
per kilogram (PACT's declared unit ``kilogram``; t CO2e/t = kg CO2e/kg).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

PACT_SPEC_VERSION = "2.2.0"
_NAMESPACE = uuid.UUID("6f1c1c1e-52a5-4d59-9a3f-6d1f2d0c7a11")


def product_footprint(*, company_name: str, company_id: str, product_id: str,
                      product_name: str, cn_code: str, footprint_kg_per_kg: float,
                      electricity_kg_per_kg: float, green_share: float,
                      period_start: datetime, period_end: datetime,
                      comment: str = "", created: datetime | None = None,
                      primary_data_share: float = 100.0) -> dict[str, Any]:
    """One PACT ``ProductFootprint`` (dict ready for ``json.dumps``).

    Parameters
    ----------
    footprint_kg_per_kg : float
        Cradle-to-gate fossil GHG emissions, kg CO2e per kg (= t CO2e/t), with the direct line.
    electricity_kg_per_kg : float
        The part from purchased electricity.
    green_share : float
        Hourly-matched green share of the electricity (0–1).

    Returns
    -------
    dict
        Keys ``id, specVersion, version, created, status, companyName, companyIds,
        productDescription, productIds, productCategoryCpc, productNameCompany, comment, pcf``.
    """
    created = created or datetime.now(UTC)
    pid = uuid.uuid5(_NAMESPACE, f"{company_id}|{product_id}|{period_start.isoformat()}")
    value = f"{footprint_kg_per_kg:.5f}"
    return {
        "id": str(pid),
        "specVersion": PACT_SPEC_VERSION,
        "version": 1,
        "created": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": "Active",
        "companyName": company_name,
        "companyIds": [f"urn:greenlink:company:{company_id}"],
        "productDescription": product_name,
        "productIds": [f"urn:greenlink:product:{product_id}", f"urn:cn:{cn_code}"],
        "productCategoryCpc": "",
        "productNameCompany": product_name,
        "comment": comment,
        "pcf": {
            "declaredUnit": "kilogram",
            "unitaryProductAmount": "1",
            "pCfExcludingBiogenic": value,
            "pCfIncludingBiogenic": value,
            "fossilGhgEmissions": value,
            "fossilCarbonContent": "0",
            "biogenicCarbonContent": "0",
            "characterizationFactors": "AR5",
            "ipccCharacterizationFactorsSources": ["AR5"],
            "crossSectoralStandardsUsed": ["GHG Protocol Product standard"],
            "productOrSectorSpecificRules": [{
                "operator": "Other", "otherOperatorName": "EU CBAM",
                "ruleNames": ["Implementing Regulation (EU) 2025/2547 (embedded emissions)"]}],
            "boundaryProcessesDescription": (
                "cradle-to-gate: direct emissions of the installation, purchased electricity "
                f"({electricity_kg_per_kg:.5f} kg CO2e/kg; hourly-matched direct-line green "
                f"share {green_share:.1%} at 0), embedded emissions of purchased precursors"),
            "referencePeriodStart": period_start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "referencePeriodEnd": period_end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "exemptedEmissionsPercent": 0,
            "exemptedEmissionsDescription": "",
            "packagingEmissionsIncluded": False,
            "primaryDataShare": primary_data_share,
        },
    }
