"""The values model: field types, value sections, cross-key rules, schema and docs."""
