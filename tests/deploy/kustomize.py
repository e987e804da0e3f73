"""Render the Kustomize tree of deploy/k8s.

With ``kubectl kustomize`` (or ``kustomize build``) when the machine has it — the reference. Otherwise with
:func:`render`, a small renderer of exactly the subset deploy/k8s uses: ``resources`` (files and
directories), ``namespace``, ``labels`` (``includeSelectors: false``), ``images`` and ``patches`` given as
strategic-merge files. A test checks that both agree wherever kubectl exists, so the fallback cannot rot.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass"}
TEMPLATED = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}
SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "labels", "images", "patches"}


def kustomize_command() -> list[str] | None:
    """The installed Kustomize: ``kustomize build`` or ``kubectl kustomize``; None when neither exists."""
    if path := shutil.which("kustomize"):
        return [path, "build"]
    if path := shutil.which("kubectl"):
        return [path, "kustomize"]
    return None


def render_with_kustomize(directory: Path) -> list[Manifest]:
    command = kustomize_command()
    if command is None:
        raise LookupError("no kustomize or kubectl on PATH")
    result = subprocess.run([*command, str(directory)], capture_output=True, text=True, check=False, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} {directory} failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def render_any(directory: Path) -> list[Manifest]:
    """kubectl/kustomize when installed, else the fallback renderer."""
    return render_with_kustomize(directory) if kustomize_command() else render(directory)


def key(manifest: Manifest) -> tuple[str, str, str]:
    meta = manifest.get("metadata", {})
    return manifest["kind"], meta.get("namespace", ""), meta["name"]


def _load_documents(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _merge(base: Any, patch: Any) -> Any:
    """Strategic merge for the shapes used here: maps merge, lists of named maps merge by name, the rest replaces."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for name, value in patch.items():
            merged[name] = _merge(base[name], value) if name in base else copy.deepcopy(value)
        return merged
    if (
        isinstance(base, list)
        and isinstance(patch, list)
        and all(isinstance(item, dict) and "name" in item for item in [*base, *patch])
    ):
        merged_list = [copy.deepcopy(item) for item in base]
        for item in patch:
            for i, existing in enumerate(merged_list):
                if existing["name"] == item["name"]:
                    merged_list[i] = _merge(existing, item)
                    break
            else:
                merged_list.append(copy.deepcopy(item))
        return merged_list
    return copy.deepcopy(patch)


def _containers(manifest: Manifest) -> list[dict[str, Any]]:
    spec = manifest.get("spec", {}).get("template", {}).get("spec", {})
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def render(directory: Path) -> list[Manifest]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unsupported = set(kustomization) - SUPPORTED
    if unsupported:
        raise ValueError(f"{directory}: the fallback renderer does not support {sorted(unsupported)}")
    manifests: list[Manifest] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        manifests.extend(render(path) if path.is_dir() else _load_documents(path))

    for patch_entry in kustomization.get("patches", []):
        if set(patch_entry) != {"path"}:
            raise ValueError(f"{directory}: only file patches are supported, not {patch_entry}")
        for patch in _load_documents(directory / patch_entry["path"]):
            targets = [
                i
                for i, m in enumerate(manifests)
                if m["kind"] == patch["kind"] and m["metadata"]["name"] == patch["metadata"]["name"]
            ]
            if len(targets) != 1:
                raise ValueError(f"patch {patch['kind']}/{patch['metadata']['name']} matches {len(targets)} resources")
            manifests[targets[0]] = _merge(manifests[targets[0]], patch)

    for label in kustomization.get("labels", []):
        if label.get("includeSelectors", False):
            raise ValueError("labels with includeSelectors are not supported")
        for manifest in manifests:
            manifest.setdefault("metadata", {}).setdefault("labels", {}).update(label["pairs"])
            if label.get("includeTemplates", False) and manifest["kind"] in TEMPLATED:
                template = manifest["spec"]["template"].setdefault("metadata", {})
                template.setdefault("labels", {}).update(label["pairs"])

    for image in kustomization.get("images", []):
        for manifest in manifests:
            for container in _containers(manifest):
                name, _, tag = container["image"].partition(":")
                if name != image["name"]:
                    continue
                new_name = image.get("newName", name)
                new_tag = image.get("newTag", tag)
                container["image"] = f"{new_name}:{new_tag}" if new_tag else new_name

    if namespace := kustomization.get("namespace"):
        for manifest in manifests:
            if manifest["kind"] not in CLUSTER_SCOPED:
                manifest["metadata"]["namespace"] = namespace
    return manifests
