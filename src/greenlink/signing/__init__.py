"""Operator signing keys (Ed25519) and the keyring of keys a verifier trusts.

Used by the evidence packs and the certificate registry's signed chain heads; a foundation
module (it imports only :mod:`greenlink.errors`).
"""
