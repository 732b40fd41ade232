"""Verification with meter data: read meter files, validate them, keep them in a per-park store,
and allocate the metered green energy among users (see docs/metering.md)."""
