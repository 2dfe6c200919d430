"""A real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager) for tests.

The binaries are built from Go modules at pinned releases and cached outside the repository;
the control plane runs on 127.0.0.1 only. `scripts/testenv` is the command-line entry point.
"""
