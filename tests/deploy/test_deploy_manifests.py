"""Offline validation of ``deploy/``: render each overlay, validate every object, check coverage.

No kustomize binary and no cluster are available here, so the small part of kustomize the
overlays use (resources, namespace, images, strategic-merge and JSON 6902 patches with targets)
is implemented below; a kustomization field outside that part fails the test instead of being
ignored. Built-in kinds are validated with ``kubernetes-validate`` (strict: unknown fields are
errors), operator kinds against the CRD schemas kept in ``deploy/schemas/``, with unknown
fields rejected the way ``kubectl apply --validate=strict`` rejects them.
"""

from __future__ import annotations

import copy
import importlib.util
import re
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = "1.33"

Manifest = dict[str, Any]

SUPPORTED_KUSTOMIZATION_FIELDS = {
    "apiVersion",
    "kind",
    "namespace",
    "resources",
    "patches",
    "images",
}
CLUSTER_SCOPED_KINDS = {"Namespace", "ClusterRole", "ClusterRoleBinding", "StorageClass"}
# Strategic-merge list keys of the built-in pod template; any other list is replaced whole.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
}
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


class KustomizeError(Exception):
    """The overlay uses something this loader does not implement, or is malformed."""


# --- the kustomize subset -------------------------------------------------------------------


def _load_documents(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc is not None]


def _group(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


def _is_builtin(doc: Manifest) -> bool:
    group = _group(doc["apiVersion"])
    return "." not in group or group.endswith(".k8s.io")


def _strategic_merge(target: Any, patch: Any, builtin: bool) -> Any:
    if not isinstance(patch, dict) or not isinstance(target, dict):
        return copy.deepcopy(patch)
    merged = dict(target)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif key in merged and builtin and key in MERGE_KEYS and isinstance(value, list):
            merged[key] = _merge_keyed_list(merged[key], value, MERGE_KEYS[key])
        elif key in merged:
            merged[key] = _strategic_merge(merged[key], value, builtin)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _merge_keyed_list(target: list[Any], patch: list[Any], key: str) -> list[Any]:
    merged = list(target)
    for item in patch:
        index = next((i for i, t in enumerate(merged) if t.get(key) == item.get(key)), None)
        if index is None:
            merged.append(copy.deepcopy(item))
        else:
            merged[index] = _strategic_merge(merged[index], item, builtin=True)
    return merged


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise KustomizeError(f"JSON pointer must start with '/': {path}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _json6902(doc: Manifest, operations: list[Manifest]) -> None:
    for operation in operations:
        *parents, last = _pointer(operation["path"])
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        op = operation["op"]
        if op in ("add", "replace"):
            if op == "replace" and (
                (isinstance(node, list) and int(last) >= len(node))
                or (isinstance(node, dict) and last not in node)
            ):
                raise KustomizeError(f"replace of missing path {operation['path']}")
            value = copy.deepcopy(operation["value"])
            if isinstance(node, list) and op == "add":
                node.insert(len(node) if last == "-" else int(last), value)
            elif isinstance(node, list):
                node[int(last)] = value
            else:
                node[last] = value
        elif op == "remove":
            del node[int(last) if isinstance(node, list) else last]
        else:
            raise KustomizeError(f"unsupported JSON 6902 op {op!r}")


def _matches(doc: Manifest, target: Manifest) -> bool:
    unknown = set(target) - {"kind", "name", "group", "version", "labelSelector"}
    if unknown:
        raise KustomizeError(f"unsupported patch target fields {sorted(unknown)}")
    if "kind" in target and doc["kind"] != target["kind"]:
        return False
    if "group" in target and _group(doc["apiVersion"]) != target["group"]:
        return False
    if "name" in target and not re.fullmatch(target["name"], doc["metadata"]["name"]):
        return False
    if "labelSelector" in target:
        labels = doc["metadata"].get("labels", {})
        for requirement in target["labelSelector"].split(","):
            key, sep, value = requirement.partition("=")
            if not sep or "!" in key:
                raise KustomizeError(f"only equality label selectors are supported: {requirement}")
            if labels.get(key.strip()) != value.strip():
                return False
    return True


def _apply_patch(docs: list[Manifest], entry: Manifest, directory: Path) -> None:
    unknown = set(entry) - {"path", "target"}
    if unknown:
        raise KustomizeError(f"unsupported patch fields {sorted(unknown)}")
    contents = _load_documents(directory / entry["path"])
    if len(contents) != 1:
        raise KustomizeError(f"{entry['path']}: a patch file holds exactly one patch")
    patch = contents[0]
    target = entry.get("target")
    if isinstance(patch, list):
        if target is None:
            raise KustomizeError(f"{entry['path']}: a JSON 6902 patch needs a target")
        selected = [d for d in docs if _matches(d, target)]
    elif target is not None:
        selected = [d for d in docs if _matches(d, target)]
    else:
        selected = [
            d
            for d in docs
            if d["kind"] == patch["kind"]
            and _group(d["apiVersion"]) == _group(patch["apiVersion"])
            and d["metadata"]["name"] == patch["metadata"]["name"]
        ]
        if len(selected) != 1:
            raise KustomizeError(f"{entry['path']}: no unique target for the patch")
    if not selected:
        raise KustomizeError(f"{entry['path']}: the patch target matches nothing")
    for doc in selected:
        if isinstance(patch, list):
            _json6902(doc, patch)
            continue
        body = {k: v for k, v in patch.items() if k not in ("apiVersion", "kind")}
        metadata = {k: v for k, v in body.pop("metadata", {}).items() if k != "name"}
        if metadata:
            body["metadata"] = metadata
        doc.update(_strategic_merge(doc, body, _is_builtin(doc)))


def _pod_containers(doc: Manifest) -> Iterator[Manifest]:
    pod = doc.get("spec", {}).get("template", {}).get("spec", {})
    yield from pod.get("initContainers", [])
    yield from pod.get("containers", [])


def _image_name(image: str) -> str:
    without_digest = image.split("@")[0]
    slash = without_digest.rfind("/")
    colon = without_digest.rfind(":")
    return without_digest[:colon] if colon > slash else without_digest


def _apply_images(docs: list[Manifest], images: list[Manifest]) -> None:
    for rule in images:
        unknown = set(rule) - {"name", "newName", "newTag"}
        if unknown:
            raise KustomizeError(f"unsupported image fields {sorted(unknown)}")
        used = False
        for doc in docs:
            for container in _pod_containers(doc):
                if _image_name(container["image"]) == rule["name"]:
                    used = True
                    tag = rule.get("newTag")
                    name = rule.get("newName", rule["name"])
                    container["image"] = f"{name}:{tag}" if tag else name
        if not used:
            raise KustomizeError(f"image rule {rule['name']} matches no container")


def build(directory: Path) -> list[Manifest]:
    """Render the kustomization in ``directory`` the way ``kubectl kustomize`` would."""
    kustomization = _load_documents(directory / "kustomization.yaml")[0]
    unknown = set(kustomization) - SUPPORTED_KUSTOMIZATION_FIELDS
    if unknown:
        raise KustomizeError(f"{directory}: unsupported kustomization fields {sorted(unknown)}")
    docs: list[Manifest] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        docs.extend(build(path) if path.is_dir() else _load_documents(path))
    for entry in kustomization.get("patches", []):
        _apply_patch(docs, entry, directory)
    _apply_images(docs, kustomization.get("images", []))
    if "namespace" in kustomization:
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED_KINDS:
                doc["metadata"]["namespace"] = kustomization["namespace"]
    seen: set[tuple[str, str, str]] = set()
    for doc in docs:
        identity = (doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"])
        if identity in seen:
            raise KustomizeError(f"duplicate object {identity}")
        seen.add(identity)
    return docs


# --- validation ---------------------------------------------------------------------------


def _strict(schema: Any) -> Any:
    """Reject fields a schema does not name, as the API server's strict field validation does."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict(value) for key, value in schema.items()}
    if (
        "properties" in strict
        and "additionalProperties" not in strict
        and not strict.get("x-kubernetes-preserve-unknown-fields")
    ):
        strict["additionalProperties"] = False
    return strict


def crd_schema_path(api_version: str, kind: str) -> Path:
    group, _, version = api_version.partition("/")
    return DEPLOY / "schemas" / f"{group}_{version}_{kind}.yaml"


@cache
def _crd_validator(api_version: str, kind: str) -> jsonschema.Draft7Validator:
    path = crd_schema_path(api_version, kind)
    schema = _strict(yaml.safe_load(path.read_text(encoding="utf-8")))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _metadata_errors(doc: Manifest) -> list[str]:
    metadata = doc.get("metadata", {})
    name = metadata.get("name", "")
    errors = []
    if not DNS_SUBDOMAIN.match(name) or len(name) > 253:
        errors.append(f"metadata.name {name!r} is not a DNS-1123 subdomain")
    if doc.get("kind") == "Service" and not (DNS_LABEL.match(name) and len(name) <= 63):
        errors.append(f"Service name {name!r} is not a DNS-1035 label")
    for key, value in metadata.get("labels", {}).items():
        if not isinstance(value, str) or not re.fullmatch(
            r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?", value
        ):
            errors.append(f"label {key}={value!r} has an invalid value")
    return errors


def manifest_errors(doc: Manifest) -> list[str]:
    """Every reason ``doc`` would be refused; empty when it is valid."""
    errors = _metadata_errors(doc)
    if crd_schema_path(doc["apiVersion"], doc["kind"]).is_file():
        validator = _crd_validator(doc["apiVersion"], doc["kind"])
        errors += [
            f"{'.'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in validator.iter_errors(doc)
        ]
        return errors
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.utils.SchemaNotFoundError:
        errors.append(f"no schema for {doc['apiVersion']} {doc['kind']}: add it to deploy/schemas/")
    except kubernetes_validate.utils.ValidationError as error:
        errors.append(f"{'.'.join(str(p) for p in error.path)}: {error.message}")
    return errors


@cache
def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "ezurnals_deploy_generate", DEPLOY / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def workspace_services() -> list[str]:
    return sorted(p.parent.name for p in (REPO / "services").glob("*/pyproject.toml"))


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Manifest]]:
    return {overlay: build(DEPLOY / "k8s" / "overlays" / overlay) for overlay in OVERLAYS}


def find(docs: list[Manifest], kind: str, name: str) -> Manifest:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def of_kind(docs: list[Manifest], kind: str) -> list[Manifest]:
    return [d for d in docs if d["kind"] == kind]


def service_of(doc: Manifest) -> str | None:
    value = doc["metadata"].get("labels", {}).get("ezurnals/service")
    return value if isinstance(value, str) else None


# --- the generated base ---------------------------------------------------------------------


def test_committed_base_is_what_the_generator_writes() -> None:
    generator = _load_generator()
    stale = generator.stale_files()
    assert stale == [], f"run `uv run python deploy/generate.py`; stale: {stale}"


def test_generator_describes_exactly_the_workspace_services() -> None:
    generator = _load_generator()
    assert sorted(s.name for s in generator.SERVICES) == workspace_services()


def test_generator_refuses_a_workspace_with_an_undescribed_service(tmp_path: Path) -> None:
    generator = _load_generator()
    for name in [*workspace_services(), "timetable"]:
        (tmp_path / "services" / name).mkdir(parents=True)
        (tmp_path / "services" / name / "pyproject.toml").write_text("", encoding="utf-8")
    with pytest.raises(SystemExit, match="timetable"):
        generator.check_services_match_workspace(tmp_path)


# --- every object is valid ------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_object_validates_against_its_schema(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    docs = rendered[overlay]
    problems = {
        f"{d['kind']}/{d['metadata']['name']}": errors
        for d in docs
        if (errors := manifest_errors(d))
    }
    assert problems == {}
    kinds = {d["kind"] for d in docs}
    assert {
        "Kafka",
        "KafkaNodePool",
        "KafkaTopic",
        "Cluster",
        "Database",
        "ScheduledBackup",
    } <= kinds


def test_an_invalid_builtin_object_is_refused(rendered: dict[str, list[Manifest]]) -> None:
    deployment = copy.deepcopy(find(rendered["prod"], "Deployment", "lessons-api"))
    deployment["spec"]["replicas"] = "two"
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    errors = manifest_errors(deployment)
    assert errors, "a string replica count and a misspelt probe must not validate"


@pytest.mark.parametrize(
    ("kind", "name", "mutate"),
    [
        ("KafkaTopic", "ezurnals.lessons.events", lambda d: d["spec"].update(partitions=0)),
        ("Kafka", "ezurnals-kafka", lambda d: d["spec"]["kafka"].update(listners=[])),
        ("Kafka", "ezurnals-kafka", lambda d: d["spec"]["kafka"]["listeners"][0].pop("tls")),
        ("KafkaNodePool", "dual-role", lambda d: d["spec"].update(roles=["zookeeper"])),
        ("Cluster", "ezurnals-pg", lambda d: d["spec"].update(instances=0)),
        ("Database", "ezurnals-grading", lambda d: d["spec"].pop("owner")),
        ("ScheduledBackup", "ezurnals-pg-daily", lambda d: d["spec"].update(method="tape")),
        ("ObjectStore", "ezurnals-backups", lambda d: d["spec"].update(retentionPolicy="30 days")),
    ],
)
def test_an_invalid_operator_object_is_refused(
    rendered: dict[str, list[Manifest]], kind: str, name: str, mutate: Callable[[Manifest], None]
) -> None:
    doc = copy.deepcopy(find(rendered["prod"], kind, name))
    assert manifest_errors(doc) == []
    mutate(doc)
    assert manifest_errors(doc) != []


def test_an_object_without_a_known_schema_is_refused() -> None:
    unknown = {"apiVersion": "example.org/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert any("no schema" in error for error in manifest_errors(unknown))


def test_a_kustomization_field_the_loader_does_not_implement_fails(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        "resources: []\nconfigMapGenerator:\n- name: x\n", encoding="utf-8"
    )
    with pytest.raises(KustomizeError, match="configMapGenerator"):
        build(tmp_path)


def test_a_patch_that_matches_nothing_fails(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n", encoding="utf-8"
    )
    (tmp_path / "patch.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {k: w}\n", encoding="utf-8"
    )
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [cm.yaml]\npatches:\n- path: patch.yaml\n", encoding="utf-8"
    )
    with pytest.raises(KustomizeError, match="no unique target"):
        build(tmp_path)


# --- every service is deployed --------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", workspace_services())
def test_every_service_has_workloads_topics_and_database(
    rendered: dict[str, list[Manifest]], overlay: str, service: str
) -> None:
    docs = rendered[overlay]
    api = find(docs, "Deployment", f"{service}-api")
    worker = find(docs, "Deployment", f"{service}-worker")
    assert api["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "serve",
        "api",
        "--service",
        service,
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
    ]
    assert worker["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "serve",
        "worker",
        "--service",
        service,
    ]
    for workload in (api, worker):
        init = workload["spec"]["template"]["spec"]["initContainers"]
        assert [c["args"] for c in init] == [["migrate", "--service", service]]
    service_object = find(docs, "Service", f"{service}-api")
    pod_labels = api["spec"]["template"]["metadata"]["labels"]
    assert service_object["spec"]["selector"].items() <= pod_labels.items()
    hpa = find(docs, "HorizontalPodAutoscaler", f"{service}-api")
    assert hpa["spec"]["scaleTargetRef"]["name"] == f"{service}-api"
    find(docs, "PodDisruptionBudget", f"{service}-api")
    find(docs, "PodDisruptionBudget", f"{service}-worker")
    find(docs, "ServiceAccount", f"ezurnals-{service}")

    topics = {t["spec"]["topicName"]: t for t in of_kind(docs, "KafkaTopic")}
    for topic in (f"ezurnals.{service}.events", f"ezurnals.{service}.events.DLT"):
        assert topic in topics, f"{topic} missing in {overlay}"
        assert topics[topic]["spec"]["partitions"] == 12
        assert topics[topic]["spec"]["config"]["retention.ms"] == -1
        assert topics[topic]["metadata"]["labels"]["strimzi.io/cluster"] == "ezurnals-kafka"

    databases = {d["spec"]["name"]: d for d in of_kind(docs, "Database")}
    assert databases[f"ezurnals_{service}"]["spec"]["owner"] == service
    roles = find(docs, "Cluster", "ezurnals-pg")["spec"]["managed"]["roles"]
    assert {
        "name": service,
        "ensure": "present",
        "login": True,
        "passwordSecret": {"name": f"ezurnals-db-{service}"},
    } in roles

    env = {e["name"]: e for e in api["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["DATABASE_URL"]["value"].endswith(f"/ezurnals_{service}")

    paths = [
        (p["path"], p["pathType"], p["backend"]["service"]["name"])
        for rule in find(docs, "Ingress", "ezurnals")["spec"]["rules"]
        for p in rule["http"]["paths"]
    ]
    assert (f"/api/{service}/", "Prefix", f"{service}-api") in paths


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_nothing_is_deployed_for_a_service_that_does_not_exist(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    labelled = {s for d in rendered[overlay] if (s := service_of(d)) is not None}
    assert labelled == set(workspace_services())


# --- security ------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_runs_hardened(rendered: dict[str, list[Manifest]], overlay: str) -> None:
    deployments = of_kind(rendered[overlay], "Deployment")
    assert len(deployments) == 2 * len(workspace_services()) + 1  # and the web app
    for deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        assert {"name": "tmp", "emptyDir": {"sizeLimit": "128Mi"}} in pod["volumes"]
        for container in _pod_containers(deployment):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["runAsNonRoot"] is True
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
            assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
            assert {"cpu", "memory"} <= container["resources"]["limits"].keys()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_use_the_health_endpoints(rendered: dict[str, list[Manifest]], overlay: str) -> None:
    for service in workspace_services():
        api = find(rendered[overlay], "Deployment", f"{service}-api")
        container = api["spec"]["template"]["spec"]["containers"][0]
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        worker = find(rendered[overlay], "Deployment", f"{service}-worker")
        probes = worker["spec"]["template"]["spec"]["containers"][0]
        assert probes["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
        assert probes["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_servers_are_told_which_proxies_to_trust(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    """Without it, identity throttles sign-ins per web pod instead of per browser."""
    config = find(rendered[overlay], "ConfigMap", "ezurnals-config")
    assert config["data"]["FORWARDED_ALLOW_IPS"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_values_are_committed(rendered: dict[str, list[Manifest]], overlay: str) -> None:
    docs = rendered[overlay]
    assert of_kind(docs, "Secret") == []
    sensitive = re.compile(r"PASSWORD|SECRET|SMTP|SMS|TOKEN|KEY", re.IGNORECASE)
    for deployment in of_kind(docs, "Deployment"):
        for container in _pod_containers(deployment):
            for env in container.get("env", []):
                if sensitive.search(env["name"]) and env["name"] != "EZURNALS_SIGNING_KEYS_DIR":
                    assert "secretKeyRef" in env.get("valueFrom", {}), env["name"]


def test_identity_alone_mounts_the_signing_keys_and_others_read_its_jwks(
    rendered: dict[str, list[Manifest]],
) -> None:
    docs = rendered["prod"]
    for service in workspace_services():
        pod = find(docs, "Deployment", f"{service}-api")["spec"]["template"]["spec"]
        env = {e["name"]: e for e in pod["containers"][0]["env"]}
        secrets = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        if service == "identity":
            assert secrets == {"ezurnals-identity-signing-keys"}
            assert "EZURNALS_JWKS_URL" not in env
        else:
            assert secrets == set()
            assert (
                env["EZURNALS_JWKS_URL"]["valueFrom"]["configMapKeyRef"]["name"] == "ezurnals-jwks"
            )
    jwks = find(docs, "ConfigMap", "ezurnals-jwks")["data"]["url"]
    assert jwks == "http://identity-api.ezurnals.svc:8000/api/identity/.well-known/jwks.json"


# --- network policies -----------------------------------------------------------------------


def _policies_for(docs: list[Manifest], labels: dict[str, str]) -> list[Manifest]:
    return [
        p
        for p in of_kind(docs, "NetworkPolicy")
        if p["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items()
    ]


def _egress_ports(policies: list[Manifest]) -> set[int]:
    return {
        port["port"]
        for policy in policies
        for rule in policy["spec"].get("egress", [])
        for port in rule.get("ports", [])
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_then_open_the_needed_flows(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    docs = rendered[overlay]
    deny = find(docs, "NetworkPolicy", "ezurnals-default-deny")
    assert deny["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]
    for service in workspace_services():
        for component in ("api", "worker"):
            pod = find(docs, "Deployment", f"{service}-{component}")
            labels = pod["spec"]["template"]["metadata"]["labels"]
            policies = _policies_for(docs, labels)
            assert deny in policies
            ports = _egress_ports(policies)
            assert {53, 5432, 9092, 8000} <= ports
            assert ({465, 587} <= ports) == (service == "reporting")
        api_labels = find(docs, "Deployment", f"{service}-api")["spec"]["template"]["metadata"][
            "labels"
        ]
        sources = [
            peer
            for policy in _policies_for(docs, api_labels)
            for rule in policy["spec"].get("ingress", [])
            for peer in rule["from"]
        ]
        ingress_nginx = {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}
        }
        assert ingress_nginx in sources
        every_pod = {"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "ezurnals"}}}
        assert (every_pod in sources) == (service == "identity")


# --- Kafka and PostgreSQL sizing ------------------------------------------------------------


def test_production_kafka_is_replicated_and_durable(rendered: dict[str, list[Manifest]]) -> None:
    docs = rendered["prod"]
    pool = find(docs, "KafkaNodePool", "dual-role")
    assert pool["spec"]["replicas"] == 3
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    config = find(docs, "Kafka", "ezurnals-kafka")["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["unclean.leader.election.enable"] is False
    assert config["auto.create.topics.enable"] is False


def test_development_kafka_is_one_broker_with_matching_replication(
    rendered: dict[str, list[Manifest]],
) -> None:
    docs = rendered["dev"]
    assert find(docs, "KafkaNodePool", "dual-role")["spec"]["replicas"] == 1
    config = find(docs, "Kafka", "ezurnals-kafka")["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 1
    assert config["min.insync.replicas"] == 1
    assert config["unclean.leader.election.enable"] is False


@pytest.mark.parametrize(("overlay", "instances"), [("dev", 1), ("prod", 3)])
def test_postgres_cluster_is_sized_and_backed_up(
    rendered: dict[str, list[Manifest]], overlay: str, instances: int
) -> None:
    docs = rendered[overlay]
    cluster = find(docs, "Cluster", "ezurnals-pg")
    assert cluster["spec"]["instances"] == instances
    (archiver,) = [p for p in cluster["spec"]["plugins"] if p.get("isWALArchiver")]
    store = find(docs, "ObjectStore", archiver["parameters"]["barmanObjectName"])
    assert store["spec"]["configuration"]["destinationPath"].endswith(f"-{overlay}/")
    credentials = store["spec"]["configuration"]["s3Credentials"]
    assert {"name", "key"} == credentials["secretAccessKey"].keys()
    backup = find(docs, "ScheduledBackup", "ezurnals-pg-daily")
    assert backup["spec"]["cluster"]["name"] == "ezurnals-pg"
    assert backup["spec"]["method"] == "plugin"
    assert backup["spec"]["pluginConfiguration"]["name"] == archiver["name"]


@pytest.mark.parametrize(("overlay", "namespace"), [("dev", "ezurnals-dev"), ("prod", "ezurnals")])
def test_overlay_places_everything_in_its_namespace(
    rendered: dict[str, list[Manifest]], overlay: str, namespace: str
) -> None:
    docs = rendered[overlay]
    assert (
        find(docs, "Namespace", namespace)["metadata"]["labels"][
            "pod-security.kubernetes.io/enforce"
        ]
        == "restricted"
    )
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {namespace}


def test_production_images_are_pinned_to_a_registry_and_tag(
    rendered: dict[str, list[Manifest]],
) -> None:
    for deployment in of_kind(rendered["prod"], "Deployment"):
        service = (
            service_of(deployment) or deployment["metadata"]["labels"]["app.kubernetes.io/name"]
        )
        for container in _pod_containers(deployment):
            assert container["image"] == f"registry.example.lv/ezurnals/ezurnals-{service}:0.1.0"


@pytest.mark.parametrize(
    ("overlay", "min_api", "max_api", "workers"), [("dev", 1, 2, 1), ("prod", 2, 10, 2)]
)
def test_apis_are_sized_by_their_autoscaler_and_workers_by_replicas(
    rendered: dict[str, list[Manifest]], overlay: str, min_api: int, max_api: int, workers: int
) -> None:
    docs = rendered[overlay]
    for service in workspace_services():
        assert "replicas" not in find(docs, "Deployment", f"{service}-api")["spec"]
        hpa = find(docs, "HorizontalPodAutoscaler", f"{service}-api")["spec"]
        assert (hpa["minReplicas"], hpa["maxReplicas"]) == (min_api, max_api)
        assert find(docs, "Deployment", f"{service}-worker")["spec"]["replicas"] == workers


# --- the web app ----------------------------------------------------------------------------

WEB_POD = {"app.kubernetes.io/part-of": "ezurnals", "app.kubernetes.io/name": "web"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_web_app_is_served_at_the_root_and_calls_every_api_in_the_cluster(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    docs = rendered[overlay]
    web = find(docs, "Deployment", "web")
    pod = web["spec"]["template"]["spec"]
    assert "initContainers" not in pod, "the web app has no database to migrate"
    (container,) = pod["containers"]
    args = container["args"]
    assert container["command"] == ["python"] and args[:2] == ["-m", "ezurnals.web"]
    urls = dict(args[i + 1].split("=", 1) for i, a in enumerate(args) if a == "--service")
    assert urls == {s: f"http://{s}-api:8000" for s in workspace_services()}
    assert args[args.index("--port") + 1] == "8000"
    assert {"DATABASE_URL", "DB_PASSWORD"}.isdisjoint(e["name"] for e in container.get("env", []))
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert web["spec"]["replicas"] >= 2

    service = find(docs, "Service", "web")
    assert (
        service["spec"]["selector"].items() <= web["spec"]["template"]["metadata"]["labels"].items()
    )
    paths = [
        (p["path"], p["pathType"], p["backend"]["service"]["name"])
        for rule in find(docs, "Ingress", "ezurnals")["spec"]["rules"]
        for p in rule["http"]["paths"]
    ]
    assert ("/", "Prefix", "web") in paths
    assert {(f"/api/{s}/", "Prefix", f"{s}-api") for s in workspace_services()} <= set(paths)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_let_the_web_app_reach_the_apis_and_nothing_else_reach_it(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    docs = rendered[overlay]
    labels = find(docs, "Deployment", "web")["spec"]["template"]["metadata"]["labels"]
    assert WEB_POD.items() <= labels.items()
    policies = _policies_for(docs, labels)
    assert find(docs, "NetworkPolicy", "ezurnals-default-deny") in policies
    to_apis = [
        rule
        for policy in policies
        for rule in policy["spec"].get("egress", [])
        if any(
            peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component")
            == "api"
            for peer in rule["to"]
        )
    ]
    assert to_apis and {p["port"] for rule in to_apis for p in rule["ports"]} == {8000}
    sources = [
        peer
        for policy in policies
        for rule in policy["spec"].get("ingress", [])
        for peer in rule["from"]
    ]
    assert sources and all("namespaceSelector" in peer for peer in sources)
    for service in workspace_services():
        api = find(docs, "Deployment", f"{service}-api")["spec"]["template"]["metadata"]["labels"]
        allowed = [
            peer
            for policy in _policies_for(docs, api)
            for rule in policy["spec"].get("ingress", [])
            for peer in rule["from"]
        ]
        assert {"podSelector": {"matchLabels": WEB_POD}} in allowed, service
