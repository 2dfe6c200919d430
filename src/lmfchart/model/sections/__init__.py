"""The value sections: one pydantic model per group of keys (image, storage, probes, ...)."""
