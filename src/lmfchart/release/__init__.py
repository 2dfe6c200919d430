"""Helm's release record: the Secret `helm` 3 and 4 read and write for every revision.

Pure data: no cluster access here; `kube/` stores and fetches the Secrets this builds.
"""
