"""The cluster: the only package that imports the `kubernetes` client.

`connect.connect()` resolves the configuration like kubectl and returns a
`cluster.KubeCluster`, the `Cluster` protocol of `lmfchart.usecases.cluster`. Nothing is
imported here, so `import lmfchart.kube` stays cheap until a command connects.
"""
