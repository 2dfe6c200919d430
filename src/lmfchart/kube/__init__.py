"""The cluster: the only package that imports the `kubernetes` client (empty until install)."""
