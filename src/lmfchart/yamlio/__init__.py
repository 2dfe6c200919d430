"""YAML read the way Helm's go-yaml reads it, and written so it reads back unchanged."""
