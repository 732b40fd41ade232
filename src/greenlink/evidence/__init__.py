"""Signed, deterministic evidence packs that prove a green-power or embedded-emissions claim.

``build`` writes a zip holding the claim, the raw interval data it rests on, the scenario
snapshot, references (single-line diagram, contract, data versions), certificates and a
human-readable summary, a ``manifest.json`` with every file's SHA-256, and an Ed25519 signature
of the manifest. ``verify`` checks all of it offline and recomputes the claim (docs/evidence.md).
"""
