"""Granular certificate (GC) registry: EnergyTag GC bundles with a tamper-evident event log
(see docs/registry.md)."""
