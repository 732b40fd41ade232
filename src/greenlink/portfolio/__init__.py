"""Portfolios of variants: parameter sweeps of the optimiser on Dask."""
