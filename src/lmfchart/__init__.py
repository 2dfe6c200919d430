"""lmfchart: a validated Helm chart for LLaMA-Factory's web UI, rendered from Python."""

__version__ = "0.1.0"

__all__ = ["__version__"]
