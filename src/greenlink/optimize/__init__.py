"""Optimal sizing and dispatch (HiGHS): scenario → model-ready arrays → LP → results.

``inputs`` (arrays and requirements) → ``model`` / ``constraints`` (sparse LP, one function per
constraint family) → ``lp`` (HiGHS) → ``results`` (flows, sizes, costs, shadow prices) with
``infeasibility`` explaining missed rules and targets.
"""
