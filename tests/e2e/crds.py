"""CustomResourceDefinitions in the test control plane: installed through the API and
waited on until the server serves their kinds, or removed until it no longer does."""

from __future__ import annotations

from typing import Any

from .cluster import wait_for


def _served_kinds(api_client: Any, crd: dict[str, Any]) -> set[str]:
    """The kinds discovery lists in the CRD's group at its first served version."""
    from kubernetes import client

    version = next(v["name"] for v in crd["spec"]["versions"] if v.get("served"))
    try:
        listing = client.CustomObjectsApi(api_client).get_api_resources(
            crd["spec"]["group"], version)
    except client.ApiException as error:
        if error.status == 404:
            return set()
        raise
    return {resource.kind for resource in listing.resources or []}


def install_crd(api_client: Any, crd: dict[str, Any], timeout: float = 60) -> None:
    """Create CRD (or replace the one of its name) and wait until it is Established and
    discovery lists its kind, so that objects of it are checked by its schema."""
    from kubernetes import client

    extensions = client.ApiextensionsV1Api(api_client)
    name = crd["metadata"]["name"]
    try:
        extensions.create_custom_resource_definition(crd)
    except client.ApiException as error:
        if error.status != 409:
            raise
        current = extensions.read_custom_resource_definition(name)
        body = {**crd, "metadata": {**crd["metadata"],
                                    "resourceVersion": current.metadata.resource_version}}
        extensions.replace_custom_resource_definition(name, body)

    def established() -> bool:
        conditions = extensions.read_custom_resource_definition(name).status.conditions or []
        return any(c.type == "Established" and c.status == "True" for c in conditions)

    wait_for(f"CRD {name} to be Established", established, timeout)
    kind = crd["spec"]["names"]["kind"]
    wait_for(f"discovery to serve {kind}",
             lambda: kind in _served_kinds(api_client, crd), timeout)


def remove_crd(api_client: Any, crd: dict[str, Any], timeout: float = 60) -> bool:
    """Delete CRD and wait until the server no longer serves its kind; whether it was there."""
    from kubernetes import client

    extensions = client.ApiextensionsV1Api(api_client)
    name = crd["metadata"]["name"]
    try:
        extensions.delete_custom_resource_definition(name)
    except client.ApiException as error:
        if error.status != 404:
            raise
        return False

    def gone() -> bool:
        try:
            extensions.read_custom_resource_definition(name)
        except client.ApiException as error:
            if error.status == 404:
                return crd["spec"]["names"]["kind"] not in _served_kinds(api_client, crd)
            raise
        return False

    wait_for(f"CRD {name} to be deleted", gone, timeout)
    return True
