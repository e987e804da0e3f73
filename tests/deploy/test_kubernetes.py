"""deploy/k8s: the Kustomize base and the production overlay render, every manifest validates against the
Kubernetes schemas (kubernetes-validate, strict: unknown fields are errors), and the manifests describe the
topology the platform needs."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes_validate import utils as k8s

from tests.deploy.conftest import DEPLOY, ROOT
from tests.deploy.kustomize import Manifest, key, kustomize_command, render, render_any, render_with_kustomize

BASE = DEPLOY / "k8s" / "base"
PRODUCTION = DEPLOY / "k8s" / "overlays" / "production"
TREES = {"base": BASE, "production": PRODUCTION}
KUBERNETES_VERSIONS = ["1.30", k8s.latest_version()]
"""The oldest minor version still common in managed clusters, and the newest the validator knows."""
SETTINGS_OUTSIDE_CONFIG = {"FORWARDED_ALLOW_IPS"}
SECRET_KEYS = {"COVENANT_SECRET_KEY", "COVENANT_DATABASE_URL", "COVENANT_BROKER_URL"}


@pytest.fixture(scope="module", params=sorted(TREES))
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[Manifest]]:
    return request.param, render_any(TREES[request.param])


def by_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def pod_spec(manifest: Manifest) -> dict[str, Any]:
    return manifest["spec"]["template"]["spec"]


def module_queues() -> set[str]:
    """Every action module in the tree has a queue (its slug), and the core has ``core``."""
    return {"core"} | {p.parent.name for p in (ROOT / "modules").glob("*/plugin.py")}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_validates_against_the_kubernetes_schema(
    rendered: tuple[str, list[Manifest]], version: str
) -> None:
    tree, manifests = rendered
    assert manifests, f"{tree} rendered nothing"
    errors = []
    for manifest in manifests:
        try:
            k8s.validate(manifest, version, strict=True)
        except (k8s.ValidationError, k8s.SchemaNotFoundError) as exc:
            errors.append(f"{'/'.join(key(manifest))}: {getattr(exc, 'message', exc)}")
    assert not errors, "\n".join(errors)


def test_the_validator_rejects_a_wrong_manifest() -> None:
    """A negative control: the schemas do catch a typo and a missing field."""
    deployment = by_kind(render_any(BASE), "Deployment")["covenant-web"]
    typo = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(k8s.ValidationError):
        k8s.validate(typo, KUBERNETES_VERSIONS[0], strict=True)
    missing = {**deployment, "spec": {k: v for k, v in deployment["spec"].items() if k != "selector"}}
    with pytest.raises(k8s.ValidationError):
        k8s.validate(missing, KUBERNETES_VERSIONS[0], strict=True)


@pytest.mark.parametrize("tree", sorted(TREES))
def test_the_fallback_renderer_agrees_with_kustomize(tree: str) -> None:
    if kustomize_command() is None:
        pytest.skip("no kustomize or kubectl to compare with (the fallback renderer is used alone)")
    reference = {key(m): m for m in render_with_kustomize(TREES[tree])}
    ours = {key(m): m for m in render(TREES[tree])}
    assert sorted(ours) == sorted(reference)
    for name, manifest in reference.items():
        assert ours[name] == manifest, name


def test_one_worker_deployment_per_module_queue(rendered: tuple[str, list[Manifest]]) -> None:
    _, manifests = rendered
    workers = {name: m for name, m in by_kind(manifests, "Deployment").items() if name.startswith("covenant-worker-")}
    queues = {}
    for name, deployment in workers.items():
        (container,) = pod_spec(deployment)["containers"]
        args = container["args"]
        assert args[0] == "worker"
        assert args.count("--queue") == 1, f"{name} must listen on exactly one queue"
        queue = args[args.index("--queue") + 1]
        assert name == f"covenant-worker-{queue.replace('_', '-')}"
        assert deployment["spec"]["selector"]["matchLabels"]["covenant/queue"] == queue
        queues[queue] = name
    assert set(queues) == module_queues()


def test_probes_and_resources(rendered: tuple[str, list[Manifest]]) -> None:
    _, manifests = rendered
    for name, deployment in by_kind(manifests, "Deployment").items():
        spec = pod_spec(deployment)
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            resources = container["resources"]
            assert resources["requests"]["memory"], name
            assert resources["requests"]["cpu"], name
            assert resources["limits"]["memory"], name
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        (main,) = spec["containers"]
        assert "readinessProbe" in main, name
        assert "livenessProbe" in main, name
    web = pod_spec(by_kind(manifests, "Deployment")["covenant-web"])["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert web["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert web["resources"]["requests"]["memory"] == "256Mi"
    assert web["resources"]["limits"]["memory"] == "512Mi"


def test_migrations_run_first(rendered: tuple[str, list[Manifest]]) -> None:
    _, manifests = rendered
    (job,) = by_kind(manifests, "Job").values()
    assert pod_spec(job)["containers"][0]["args"] == ["db", "upgrade"]
    assert pod_spec(job)["restartPolicy"] == "Never"
    for name, deployment in by_kind(manifests, "Deployment").items():
        (init,) = pod_spec(deployment)["initContainers"]
        assert "covenant db current" in init["command"][-1], f"{name} does not wait for the migration"
        assert init["image"] == pod_spec(deployment)["containers"][0]["image"], "same image, same head revision"


def test_disruption_budgets_autoscaler_service_and_ingress(rendered: tuple[str, list[Manifest]]) -> None:
    _, manifests = rendered
    deployments = by_kind(manifests, "Deployment")
    budgets = by_kind(manifests, "PodDisruptionBudget")
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [b for b in budgets.values() if b["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        if name == "covenant-scheduler":
            assert deployment["spec"]["replicas"] == 1
            assert deployment["spec"]["strategy"]["type"] == "Recreate"
            continue
        assert len(covering) == 1, f"{name}: {len(covering)} disruption budgets"
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (hpa,) = by_kind(manifests, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == "covenant-web"
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    services = by_kind(manifests, "Service")
    web_labels = deployments["covenant-web"]["spec"]["template"]["metadata"]["labels"]
    assert services["covenant-web"]["spec"]["selector"].items() <= web_labels.items()
    (ingress,) = by_kind(manifests, "Ingress").values()
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "covenant-web"
    assert backend["port"]["name"] in {p["name"] for p in services["covenant-web"]["spec"]["ports"]}


def test_postgres_and_redis_are_external(rendered: tuple[str, list[Manifest]]) -> None:
    _, manifests = rendered
    assert not [m for m in manifests if m["kind"] in {"StatefulSet", "Secret"}]
    services = by_kind(manifests, "Service")
    for name in ("covenant-postgres", "covenant-redis"):
        assert services[name]["spec"]["type"] == "ExternalName"


def test_uploaded_files_are_on_one_volume_shared_by_every_web_replica(rendered: tuple[str, list[Manifest]]) -> None:
    """Uploads are written under COVENANT_VAR_DIR (/var/lib/covenant in the image): all web pods mount the same
    ReadWriteMany claim there, or a file uploaded through one replica would be missing on the others."""
    _, manifests = rendered
    (claim,) = by_kind(manifests, "PersistentVolumeClaim").values()
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    web = pod_spec(by_kind(manifests, "Deployment")["covenant-web"])
    volumes = {v["name"]: v for v in web["volumes"]}
    (mount,) = [m for m in web["containers"][0]["volumeMounts"] if m["mountPath"] == "/var/lib/covenant"]
    assert volumes[mount["name"]]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert web["securityContext"]["fsGroup"] == 10001
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "COVENANT_VAR_DIR=/var/lib/covenant" in dockerfile


def test_configuration_comes_from_the_configmap_and_the_secret(rendered: tuple[str, list[Manifest]]) -> None:
    from covenant.config import Settings

    _, manifests = rendered
    (config,) = by_kind(manifests, "ConfigMap").values()
    settings = {f"COVENANT_{name.upper()}" for name in Settings.model_fields}
    assert set(config["data"]) <= settings | SETTINGS_OUTSIDE_CONFIG
    assert not set(config["data"]) & SECRET_KEYS, "secrets belong in the Secret"
    Settings(**{k.removeprefix("COVENANT_").lower(): v for k, v in config["data"].items() if k in settings})
    for kind in ("Deployment", "Job"):
        for name, workload in by_kind(manifests, kind).items():
            for container in [*pod_spec(workload).get("initContainers", []), *pod_spec(workload)["containers"]]:
                sources = container["envFrom"]
                assert {"configMapRef": {"name": config["metadata"]["name"]}} in sources, name
                assert {"secretRef": {"name": "covenant-secrets"}} in sources, name


def test_production_overlay() -> None:
    manifests = render_any(PRODUCTION)
    assert {m["metadata"].get("namespace") for m in manifests if m["kind"] != "Namespace"} == {"covenant"}
    images = {
        c["image"]
        for m in manifests
        if m["kind"] in {"Deployment", "Job"}
        for c in [*pod_spec(m).get("initContainers", []), *pod_spec(m)["containers"]]
    }
    (image,) = images
    assert not image.endswith(":latest"), "production pins a release"
    (hpa,) = by_kind(manifests, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["minReplicas"] >= 3
    assert by_kind(manifests, "Namespace")["covenant"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == (
        "restricted"
    )


def test_every_worker_queue_is_accepted_by_the_worker_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """The queue names in the manifests are the ones `covenant worker --queue` accepts (idle ones included)."""
    from click.testing import CliRunner

    from covenant.config import Settings
    from covenant.events import cli as events_cli
    from covenant.events.catalogue import build_catalogue
    from covenant.plugins import ModuleRegistry

    registry = ModuleRegistry.from_entry_points(None)
    catalogue = build_catalogue(registry)
    settings = Settings(broker_url="redis://127.0.0.1:6379/15")
    started: list[list[str]] = []
    monkeypatch.setattr(events_cli, "_context", lambda: (settings, registry, catalogue))
    monkeypatch.setattr(events_cli, "_run_worker", lambda threads, queues, prefetch, echo=True: started.append(queues))
    installed = {"core", *registry.slugs}
    checked = set()
    for deployment in by_kind(render_any(BASE), "Deployment").values():
        args = pod_spec(deployment)["containers"][0]["args"]
        if args[0] != "worker" or args[args.index("--queue") + 1] not in installed:
            continue  # a module of the tree that this installation does not register (yet)
        result = CliRunner().invoke(events_cli.worker, args[1:])
        assert result.exit_code == 0, result.output
        checked.add(args[args.index("--queue") + 1])
    assert {q for queues in started for q in queues} == checked
    assert checked >= {"core", "funding", "practices"}
