"""Workflows: each assembles the stages for one job (run a scenario, optimise, CBAM, settle,
evidence, sweeps). Shells (CLI, API, service, web) call workflows only; stages never import
workflows (``make lint`` checks both with an import contract)."""
