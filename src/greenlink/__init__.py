"""greenlink: plan, operate, verify and prove green-power direct connection (绿电直连)."""

__version__ = "0.1.0"
