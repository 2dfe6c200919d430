"""lmfchart: a validated Helm chart for LLaMA-Factory, rendered and installed from Python."""

__version__ = "0.1.0"

__all__ = ["__version__"]
