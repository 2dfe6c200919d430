"""Helm's release record, encoded and decoded without a cluster.

Interoperability with the real helm 3 and 4 binaries is proven in
`tests/e2e/test_release_records.py`; these tests pin the codec's own promises: what it
writes, what it accepts, and how it refuses.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import secrets
from typing import Any

import pytest

from lmfchart.base.errors import LmfchartError, ReleaseRecordError
from lmfchart.inputs.loading import load_values
from lmfchart.inputs.options import ValueOptions
from lmfchart.release.chart import chart_templates
from lmfchart.release.manifest import build_manifest, manifest_entries, manifest_objects
from lmfchart.release.record import (
    MAX_RECORD_BYTES,
    ReleaseRecord,
    chart_payload,
    record_from_secret,
    record_to_secret,
    rfc3339,
    secret_name,
)
from lmfchart.render.chartfiles import chart_files
from lmfchart.render.manifests import render_objects

SERVICE = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "lmf-llama-factory", "namespace": "llm"},
           "spec": {"ports": [{"port": 7860, "name": "http"}]}}
DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "lmf-llama-factory", "namespace": "llm",
                           "annotations": {"note": "yes", "multi": "a\n---\nb"}},
              "spec": {"replicas": 1}}


def a_record(**changes: Any) -> ReleaseRecord:
    record = ReleaseRecord(
        name="lmf", namespace="llm", version=3, status="deployed",
        config={"gpu": {"count": 2}, "image": {"tag": "0.9.4"}, "note": "ünïcode <&>"},
        manifest=build_manifest([("service.yaml", SERVICE), ("deployment.yaml", DEPLOYMENT)]),
        chart={"metadata": {"name": "llama-factory", "version": "0.1.0", "appVersion": "0.9.4"},
               "lock": None, "templates": [], "values": {}, "schema": None, "files": []},
        first_deployed="2026-11-30T10:54:36.11658814Z",
        last_deployed="2026-11-30T11:02:00.5+01:00",
        deleted=None, description="Upgrade complete", notes="Open http://lmf/",
        extra_labels={"team": "ml"},
    )
    for key, value in changes.items():
        setattr(record, key, value)
    return record


def release_json(secret: dict[str, Any]) -> dict[str, Any]:
    """The JSON inside a Secret, decoded by hand (independently of the codec)."""
    helm_text = base64.b64decode(secret["data"]["release"])
    raw = base64.b64decode(helm_text)
    assert raw[:3] == b"\x1f\x8b\x08", "records are gzipped, as Helm writes them"
    decoded: dict[str, Any] = json.loads(gzip.decompress(raw))
    return decoded


def secret_with(payload: bytes, name: str = "sh.helm.release.v1.lmf.v1") -> dict[str, Any]:
    """A Secret as the API returns it, holding PAYLOAD as Helm's data.release bytes."""
    return {"metadata": {"name": name, "namespace": "llm", "labels": {"owner": "helm"}},
            "type": "helm.sh/release.v1",
            "data": {"release": base64.b64encode(base64.b64encode(payload)).decode()}}


def test_round_trip_keeps_every_field() -> None:
    record = a_record(hooks=[{"name": "t", "kind": "Pod", "events": ["test"]}])
    assert record_from_secret(record_to_secret(record, created=True)) == record


def test_secret_is_named_typed_and_labelled_like_helms() -> None:
    secret = record_to_secret(a_record(), created=True, now=1796036076)
    assert secret["metadata"]["name"] == secret_name("lmf", 3) == "sh.helm.release.v1.lmf.v3"
    assert secret["metadata"]["namespace"] == "llm"
    assert secret["type"] == "helm.sh/release.v1"
    assert secret["metadata"]["labels"] == {
        "team": "ml", "name": "lmf", "owner": "helm", "status": "deployed", "version": "3",
        "createdAt": "1796036076"}
    updated = record_to_secret(a_record(status="superseded"), created=False, now=7)
    assert updated["metadata"]["labels"]["modifiedAt"] == "7"
    assert "createdAt" not in updated["metadata"]["labels"]
    assert updated["metadata"]["labels"]["status"] == "superseded"


def test_json_uses_helms_keys_and_omits_what_is_unset() -> None:
    release = release_json(record_to_secret(a_record(), created=True))
    assert list(release) == ["name", "info", "chart", "config", "manifest", "version",
                             "namespace", "apply_method"]
    assert release["info"] == {
        "first_deployed": "2026-11-30T10:54:36.11658814Z",
        "last_deployed": "2026-11-30T11:02:00.5+01:00",
        "description": "Upgrade complete", "status": "deployed", "notes": "Open http://lmf/"}
    assert release["apply_method"] == "ssa"
    assert release["config"]["note"] == "ünïcode <&>"
    # User labels live on the Secret only: Helm drops unknown JSON keys when it rewrites.
    assert "team" not in json.dumps(release)


def test_unset_times_and_apply_method_are_left_out_never_empty_strings() -> None:
    record = a_record(first_deployed=None, last_deployed="", apply_method=None)
    release = release_json(record_to_secret(record, created=True))
    assert set(release["info"]) == {"description", "status", "notes"}
    assert "apply_method" not in release
    back = record_from_secret(record_to_secret(record, created=True))
    assert (back.first_deployed, back.last_deployed, back.apply_method) == (None, None, None)


@pytest.mark.parametrize("unset", ["", None, "0001-01-01T00:00:00Z"])
def test_empty_missing_or_zero_times_from_other_writers_read_as_unset(unset: str | None) -> None:
    # Helm 3 writes `"deleted": ""`; Go's zero time means unset too.
    release = release_json(record_to_secret(a_record(), created=True))
    release["info"]["deleted"] = unset
    if unset is None:
        del release["info"]["first_deployed"]
    record = record_from_secret(secret_with(gzip.compress(json.dumps(release).encode())))
    assert record.deleted is None
    assert record.first_deployed == (None if unset is None else a_record().first_deployed)


def test_a_record_that_is_not_gzipped_is_read_too() -> None:
    release = release_json(record_to_secret(a_record(), created=True))
    plain = secret_with(json.dumps(release).encode(), name="sh.helm.release.v1.lmf.v3")
    plain["metadata"]["labels"] = {"team": "ml", "owner": "helm", "name": "lmf"}
    assert record_from_secret(plain) == a_record()


def test_user_labels_are_kept_and_helms_own_are_not_user_labels() -> None:
    secret = record_to_secret(a_record(), created=False)
    secret["metadata"]["labels"]["app"] = "x"
    assert record_from_secret(secret).extra_labels == {"team": "ml", "app": "x"}


def test_reserved_labels_bad_times_and_revisions_are_refused_before_writing() -> None:
    bad = a_record(extra_labels={"owner": "me", "status": "x"}, version=0,
                   first_deployed="yesterday", namespace="")
    with pytest.raises(ReleaseRecordError) as caught:
        record_to_secret(bad, created=True)
    message = str(caught.value)
    assert message.startswith("release record Secret ?/sh.helm.release.v1.lmf.v0 "
                              "cannot be written: ")
    assert "the namespace is empty" in message
    assert "revision 0 is not a positive number" in message
    assert "labels owner, status are reserved" in message
    assert "first_deployed 'yesterday' is not an RFC 3339 time" in message


def test_a_record_over_one_mebibyte_is_refused_with_its_size() -> None:
    # Random text barely compresses, so this much config cannot fit in a Secret.
    big = a_record(config={"blob": secrets.token_urlsafe(1_100_000)})
    with pytest.raises(ReleaseRecordError) as caught:
        record_to_secret(big, created=True)
    message = str(caught.value)
    assert "release record Secret llm/sh.helm.release.v1.lmf.v3 would be " in message
    assert f"over the {MAX_RECORD_BYTES} bytes (1 MiB) a Secret can hold" in message
    # The same text as repeated characters compresses far below the cap and is written.
    small = a_record(config={"blob": "x" * 5_000_000})
    stored = record_to_secret(small, created=True)["data"]["release"]
    assert len(base64.b64decode(stored)) <= MAX_RECORD_BYTES


def test_a_time_stamp_is_rfc3339_in_utc() -> None:
    stamp = rfc3339()
    assert stamp.endswith("Z") and stamp[10] == "T"
    assert record_from_secret(record_to_secret(a_record(deleted=stamp), created=True)).deleted \
        == stamp


def _corrupt(kind: str) -> dict[str, Any]:
    good = record_to_secret(a_record(), created=True)
    gzipped = base64.b64decode(base64.b64decode(good["data"]["release"]))
    release = release_json(good)
    changes: dict[str, Any] = {
        "no data": lambda s: s.pop("data"),
        "not base64": lambda s: s["data"].update(release="!!not base64!!"),
        "truncated gzip": lambda s: s.update(secret_with(gzipped[: len(gzipped) // 2])),
        "not JSON": lambda s: s.update(secret_with(b"{not json")),
        "JSON list": lambda s: s.update(secret_with(b"[1, 2]")),
        "no info": lambda s: s.update(secret_with(json.dumps(
            {k: v for k, v in release.items() if k != "info"}).encode())),
        "odd status": lambda s: s.update(secret_with(json.dumps(
            {**release, "info": {**release["info"], "status": "exploded"}}).encode())),
        "no name": lambda s: s.update(secret_with(json.dumps(
            {k: v for k, v in release.items() if k != "name"}).encode())),
        "string version": lambda s: s.update(secret_with(json.dumps(
            {**release, "version": "3"}).encode())),
        "config list": lambda s: s.update(secret_with(json.dumps(
            {**release, "config": [1]}).encode())),
        "bad time": lambda s: s.update(secret_with(json.dumps(
            {**release, "info": {**release["info"], "last_deployed": "Monday"}}).encode())),
    }
    secret = copy.deepcopy(good)
    changes[kind](secret)
    return secret


@pytest.mark.parametrize(("kind", "why"), [
    ("no data", "the Secret has no data.release"),
    ("not base64", "data.release is not base64"),
    ("truncated gzip", "the gzip data is truncated"),
    ("not JSON", "the record is not JSON"),
    ("JSON list", "the record is a JSON list, expected an object"),
    ("no info", "it has no `info` object"),
    ("odd status", "unknown status 'exploded' (expected one of unknown, deployed,"),
    ("no name", "it names no release"),
    ("string version", "`version` is '3', expected a revision number from 1"),
    ("config list", "`config` is a JSON list, expected dict"),
    ("bad time", "info.last_deployed 'Monday' is not an RFC 3339 time"),
])
def test_a_corrupt_record_names_the_secret_and_why(kind: str, why: str) -> None:
    secret = _corrupt(kind)
    with pytest.raises(ReleaseRecordError) as caught:
        record_from_secret(secret)
    name = secret["metadata"]["name"]
    assert str(caught.value).startswith(f"release record Secret llm/{name} cannot be read: ")
    assert why in str(caught.value)
    assert isinstance(caught.value, LmfchartError)


def test_manifest_is_helms_source_blocks_and_parses_back() -> None:
    manifest = build_manifest([("service.yaml", SERVICE),
                               ("templates/deployment.yaml", DEPLOYMENT)])
    assert manifest.startswith("---\n# Source: llama-factory/templates/service.yaml\n"
                               "apiVersion: v1\nkind: Service\n")
    assert "\n---\n# Source: llama-factory/templates/deployment.yaml\napiVersion: apps/v1\n" \
        in manifest
    assert manifest_objects(manifest) == [SERVICE, DEPLOYMENT]
    assert manifest_entries(manifest) == [
        ("llama-factory/templates/service.yaml", SERVICE),
        ("llama-factory/templates/deployment.yaml", DEPLOYMENT)]
    assert build_manifest([]) == "" and manifest_objects("") == []


def test_manifest_of_a_real_release_parses_back_to_the_objects() -> None:
    values = load_values(ValueOptions(sets=("storage.saves.type=pvc",))).values
    objects = render_objects(values, release_name="lmf", namespace="llm")
    manifest = build_manifest([(obj["kind"].lower() + ".yaml", obj) for obj in objects])
    assert manifest_objects(manifest) == objects


@pytest.mark.parametrize(("text", "why"), [
    ("---\nkind: [unclosed\n", "the release manifest is not valid YAML"),
    ("---\n- a list\n", "holds a document that is not a Kubernetes object"),
])
def test_a_broken_manifest_is_refused_clearly(text: str, why: str) -> None:
    with pytest.raises(ReleaseRecordError, match=why):
        manifest_objects(text)


def test_chart_payload_carries_the_rendered_chart() -> None:
    files = chart_files(load_values(ValueOptions(sets=("gpu.count=2",))).values)
    chart = chart_payload(files=files)
    assert list(chart) == ["metadata", "lock", "templates", "values", "schema", "files"]
    assert chart["metadata"]["name"] == "llama-factory"
    assert chart["values"]["gpu"]["count"] == 2
    assert json.loads(base64.b64decode(chart["schema"])) == json.loads(
        files["values.schema.json"])
    assert chart_templates(chart) == {name: text for name, text in files.items()
                                      if name.startswith("templates/")}
    assert [f["name"] for f in chart["files"]] == [".helmignore", "README.md"]
    with pytest.raises(ReleaseRecordError, match=r"no Chart\.yaml"):
        chart_payload(files={"values.yaml": ""})
