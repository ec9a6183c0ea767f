#!/usr/bin/env python3
"""Check the Kubernetes manifests of config/kubernetes without a cluster.

    python3 config/kubernetes/check-manifests.py

Parses every resource the kustomization lists (PyYAML: Debian's python3-yaml) and checks what the
gateway needs of them: the health and readiness probes on /_licensing/healthz and /_licensing/readyz,
the Redis connection from a Secret, the management port as its own container port and Service (and
not in the public one), Licensing__ManagementPort and ASPNETCORE_URLS agreeing with the container
ports, resource requests, a PodDisruptionBudget and an autoscaler that select and target the
Deployment, the settings file mounted where the gateway reads it. When kubectl is on PATH, it also
builds the kustomization (`kubectl kustomize`, offline). Exit status: 0 good, 1 a check failed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

try:
    import yaml
except ImportError:  # pragma: no cover - reported, not hidden
    print("check-manifests: PyYAML is missing (apt-get install python3-yaml)", file=sys.stderr)
    sys.exit(1)

HERE = os.path.dirname(os.path.abspath(__file__))
failures: list[str] = []


def check(condition: bool, message: str) -> None:
    if not condition:
        failures.append(message)


def load(name: str, resource: bool = True) -> list[dict]:
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    for d in docs if resource else []:
        check(all(k in d for k in ("apiVersion", "kind", "metadata")), f"{name}: a document without apiVersion/kind/metadata")
        check(bool(d.get("metadata", {}).get("name")), f"{name}: a {d.get('kind')} without metadata.name")
    return docs


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


def main() -> int:
    kustomization = load("kustomization.yaml", resource=False)[0]
    resources = [doc for name in kustomization.get("resources", []) for doc in load(name)]
    by_kind: dict[str, list[dict]] = {}
    for doc in resources:
        by_kind.setdefault(doc["kind"], []).append(doc)

    deployments = by_kind.get("Deployment", [])
    check(len(deployments) == 1, "exactly one Deployment expected")
    if not deployments:
        return report()
    deployment = deployments[0]
    spec = deployment["spec"]
    pod_labels = spec["template"]["metadata"]["labels"]
    selector = spec["selector"]["matchLabels"]
    check(all(pod_labels.get(k) == v for k, v in selector.items()), "Deployment selector does not match its pod labels")
    check(spec.get("replicas", 1) >= 2, "Deployment: at least 2 replicas (with Redis) so a disruption leaves one serving")

    pod = spec["template"]["spec"]
    containers = pod["containers"]
    check(len(containers) == 1, "one container expected in the gateway pod")
    c = containers[0]
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    check("http" in ports and "management" in ports, "container ports 'http' and 'management' expected")
    check(ports.get("http") != ports.get("management"), "the management port must differ from the http port")

    for probe, path in (("livenessProbe", "/_licensing/healthz"), ("readinessProbe", "/_licensing/readyz"), ("startupProbe", "/_licensing/healthz")):
        get = c.get(probe, {}).get("httpGet", {})
        check(get.get("path") == path, f"{probe} must GET {path} (was {get.get('path')})")
        check(get.get("port") == "http", f"{probe} must use the http port (health answers on every port)")

    requests = c.get("resources", {}).get("requests", {})
    check("cpu" in requests and "memory" in requests, "resource requests for cpu and memory expected")
    check("memory" in c.get("resources", {}).get("limits", {}), "a memory limit expected")

    env = env_of(c)
    redis = env.get("ConnectionStrings__Redis", {})
    check("secretKeyRef" in redis.get("valueFrom", {}), "ConnectionStrings__Redis must come from a Secret (valueFrom.secretKeyRef)")
    check(env.get("Licensing__ManagementPort", {}).get("value") == str(ports.get("management")),
          "Licensing__ManagementPort must equal the management container port")
    urls = env.get("ASPNETCORE_URLS", {}).get("value", "")
    for name in ("http", "management"):
        check(f":{ports.get(name)}" in urls, f"ASPNETCORE_URLS must listen on the {name} port {ports.get(name)} (was '{urls}')")
    annotations = spec["template"]["metadata"].get("annotations", {})
    check(annotations.get("prometheus.io/port") == str(ports.get("management")), "Prometheus must scrape the management port")
    check(annotations.get("prometheus.io/path") == "/_licensing/metrics", "Prometheus path must be /_licensing/metrics")

    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
    settings = mounts.get("/app/appsettings.Production.json")
    check(settings is not None and settings.get("subPath") == "appsettings.Production.json",
          "the settings must be mounted at /app/appsettings.Production.json (subPath appsettings.Production.json)")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    generated = {g["name"] for g in kustomization.get("configMapGenerator", [])}
    if settings is not None:
        config_map = volumes.get(settings["name"], {}).get("configMap", {}).get("name")
        check(config_map in generated, f"the settings volume must use a generated ConfigMap {sorted(generated)} (was {config_map})")
    for generator in kustomization.get("configMapGenerator", []):
        for entry in generator.get("files", []):
            key, _, path = entry.partition("=")
            path = path or key
            try:
                with open(os.path.join(HERE, path), encoding="utf-8") as f:
                    config = json.load(f)
            except (OSError, ValueError) as e:
                failures.append(f"{path}: {e}")
                continue
            check("ConnectionStrings" not in config, f"{path}: the Redis connection belongs in the Secret, not the ConfigMap")
            check("ReverseProxy" in config, f"{path}: no ReverseProxy routes")

    services = by_kind.get("Service", [])
    public = [s for s in services if not any(p.get("targetPort") in ("management", ports.get("management")) for p in s["spec"]["ports"])]
    management = [s for s in services if s not in public]
    check(len(public) >= 1, "a Service for the proxied traffic expected")
    check(len(management) == 1, "one Service for the management port expected")
    for s in management:
        check(s["spec"].get("type", "ClusterIP") == "ClusterIP", "the management Service must stay ClusterIP (not exposed publicly)")
        check(all(p.get("targetPort") in ("management", ports.get("management")) for p in s["spec"]["ports"]),
              "the management Service must expose the management port only")
    for s in services:
        check(all(s["spec"]["selector"].get(k) == v for k, v in s["spec"]["selector"].items() if k in pod_labels) and
              all(pod_labels.get(k) == v for k, v in s["spec"]["selector"].items()), f"Service {s['metadata']['name']} does not select the gateway pods")

    pdbs = by_kind.get("PodDisruptionBudget", [])
    check(len(pdbs) == 1, "one PodDisruptionBudget expected")
    for pdb in pdbs:
        check(pdb["spec"].get("selector", {}).get("matchLabels") == selector, "the PodDisruptionBudget must select the Deployment's pods")
        check("maxUnavailable" in pdb["spec"] or "minAvailable" in pdb["spec"], "the PodDisruptionBudget needs maxUnavailable or minAvailable")

    hpas = by_kind.get("HorizontalPodAutoscaler", [])
    check(len(hpas) == 1, "one HorizontalPodAutoscaler expected")
    for hpa in hpas:
        target = hpa["spec"]["scaleTargetRef"]
        check(target.get("kind") == "Deployment" and target.get("name") == deployment["metadata"]["name"], "the autoscaler must target the Deployment")
        check(2 <= hpa["spec"].get("minReplicas", 1) <= hpa["spec"]["maxReplicas"], "the autoscaler needs 2 <= minReplicas <= maxReplicas")

    for policy in by_kind.get("NetworkPolicy", []):
        for rule in policy["spec"].get("ingress", []):
            if any(p.get("port") in ("management", ports.get("management")) for p in rule.get("ports", [])):
                check(bool(rule.get("from")), "the NetworkPolicy must restrict who reaches the management port")

    kubectl = shutil.which("kubectl")
    if kubectl:
        build = subprocess.run([kubectl, "kustomize", HERE], capture_output=True, text=True, check=False)
        check(build.returncode == 0, f"kubectl kustomize failed: {build.stderr.strip()}")
    else:
        print("check-manifests: kubectl not on PATH; kustomize build not checked")
    return report()


def report() -> int:
    if failures:
        for f in failures:
            print(f"check-manifests: FAIL {f}", file=sys.stderr)
        return 1
    print("check-manifests: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
