"""lmfchart's speed next to helm's: `python benchmarks/run.py` (README, "Speed")."""
