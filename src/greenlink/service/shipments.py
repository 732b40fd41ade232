"""Shipments and emission data addressed to an EU importer (see :mod:`greenlink.service.cbam`)."""

from __future__ import annotations

from typing import Any

from greenlink.service.context import Principal, ServiceContext


def list_shipments(ctx: ServiceContext, actor: Principal) -> list[dict[str, Any]]:
    """Shipments addressed to the caller's organisation (importer) or of the parks it sees."""
    from greenlink.service.cbam import list_shipments as cbam_shipments

    return cbam_shipments(ctx, actor)
