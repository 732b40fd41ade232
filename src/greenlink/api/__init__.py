"""The HTTP API: a FastAPI app whose routes call :mod:`greenlink.service` functions."""
