"""Who the containers run as: root (the upstream image's way) or a fixed unprivileged user."""
# ruff: noqa: N815  (field names are the user's camelCase values keys)

from __future__ import annotations

from pydantic import Field, StrictBool, StrictInt

from lmfchart.model.sections.base import Section

# HOME of the unprivileged user: an emptyDir, since the image has no home for it.
NON_ROOT_HOME = "/home/llamafactory"
# Folders the web UI writes outside its volumes (relative to its working dir /app), and /tmp
# (Gradio's uploads). As root they are the image's own folders; as another user they must be
# writable volumes, which also makes readOnlyRootFilesystem possible.
SCRATCH_DIRS: tuple[tuple[str, str], ...] = (
    ("home", NON_ROOT_HOME),
    ("tmp", "/tmp"),
    ("llamaboard-cache", "/app/llamaboard_cache"),
    ("llamaboard-config", "/app/llamaboard_config"),
)
# Pod securityContext keys that nonRoot sets itself.
NON_ROOT_POD_KEYS = ("runAsNonRoot", "runAsUser", "runAsGroup", "fsGroup")


class Security(Section):
    nonRoot: StrictBool = Field(
        False,
        description="Run every container as runAsUser instead of root, with writable "
        f"emptyDirs for HOME ({NON_ROOT_HOME}), /tmp and the web UI's llamaboard folders.",
    )
    runAsUser: StrictInt = Field(
        10001, ge=1, description="User id, for nonRoot (above 10000: no clash with users "
        "of the image or the node)."
    )
    runAsGroup: StrictInt = Field(
        10001, ge=0, description="Group id and fsGroup (volumes made writable to it), for nonRoot."
    )
