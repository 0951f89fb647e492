"""Offline validation of ``deploy/``: build each overlay, validate every object, check coverage.

Each overlay is built by the real kustomize (``kustomize build``, or ``kubectl kustomize`` where
only kubectl is installed), so what is checked is what ``kubectl apply -k`` sends. Built-in
kinds are validated with ``kubernetes-validate`` (strict: unknown fields are errors), custom
resources against the operators' CRDs vendored in ``deploy/crds/`` (the monitoring kinds against
the hand-written subset in ``tests/deploy/crds/``), with unknown fields rejected the way
``kubectl apply --validate=strict`` rejects them.
"""

from __future__ import annotations

import copy
import datetime
import importlib.util
import json
import re
import shutil
import ssl
import subprocess
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import kubernetes_validate
import prometheus_client.metrics
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ezurnals.shared.db import plain_url
from ezurnals.shared.observability import metrics
from ezurnals.shared.service import load_service
from ezurnals.shared.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
CRDS = DEPLOY / "crds"
#: Hand-written schemas for kinds whose CRDs are not vendored (their README says why).
TEST_CRDS = Path(__file__).resolve().parent / "crds"
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = "1.33"

Manifest = dict[str, Any]

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


class KustomizeError(Exception):
    """kustomize refused the kustomization; its message is kustomize's own."""


# --- kustomize ------------------------------------------------------------------------------


def _load_documents(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc is not None]


def kustomize_command() -> list[str]:
    """The real kustomize: the standalone binary where installed, else kubectl's built-in one.
    Neither on the machine fails the tests (``.ci/run`` installs a pinned kustomize)."""
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    pytest.fail("neither kustomize nor kubectl is on PATH; .ci/run installs kustomize")


def build(directory: Path) -> list[Manifest]:
    """What ``kubectl apply -k directory`` would send to the API server."""
    result = subprocess.run(
        [*kustomize_command(), str(directory)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise KustomizeError(result.stderr.strip())
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc is not None]


def _pod_containers(doc: Manifest) -> Iterator[Manifest]:
    pod = doc.get("spec", {}).get("template", {}).get("spec", {})
    yield from pod.get("initContainers", [])
    yield from pod.get("containers", [])


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


@cache
def crd_schemas() -> dict[tuple[str, str], Any]:
    """``(apiVersion, kind)`` → the served version's ``openAPIV3Schema``, from ``deploy/crds/``
    and ``tests/deploy/crds/``."""
    schemas: dict[tuple[str, str], Any] = {}
    for path in sorted([*CRDS.glob("*.yaml"), *TEST_CRDS.glob("*.yaml")]):
        for crd in _load_documents(path):
            if crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served"):
                    schema = version["schema"]["openAPIV3Schema"]
                    schemas[(f"{group}/{version['name']}", kind)] = schema
    return schemas


@cache
def _crd_validator(api_version: str, kind: str) -> jsonschema.Draft7Validator:
    schema = _strict(crd_schemas()[(api_version, kind)])
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
    if (doc["apiVersion"], doc["kind"]) in crd_schemas():
        validator = _crd_validator(doc["apiVersion"], doc["kind"])
        errors += [
            f"{'.'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in validator.iter_errors(doc)
        ]
        return errors
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.utils.SchemaNotFoundError:
        errors.append(
            f"no schema for {doc['apiVersion']} {doc['kind']}: vendor its CRD into deploy/crds/"
        )
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
        ("KafkaUser", "ezurnals-lessons", lambda d: d["spec"]["authorization"].update(type="acl")),
        (
            "PodMonitor",
            "ezurnals-workers",
            lambda d: d["spec"]["podMetricsEndpoints"][0].update(prot="metrics"),
        ),
        (
            "PrometheusRule",
            "ezurnals-alerts",
            lambda d: d["spec"]["groups"][0]["rules"][0].update({"for": "10 minutes"}),
        ),
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
    with pytest.raises(KustomizeError, match="ConfigMap"):
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
    assert urlsplit(env["DATABASE_URL"]["value"]).path == f"/ezurnals_{service}"

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
        secrets = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v} - CA_SECRETS
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
            assert {53, 5432, 9093, 8000} <= ports
            assert 9092 not in ports, "the broker has no plain listener"
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


# --- Kafka and PostgreSQL: encrypted, authenticated, authorised ------------------------------

CA_SECRETS = {"ezurnals-kafka-cluster-ca-cert", "ezurnals-pg-ca"}


def consumed_by(service: str) -> set[str]:
    """The services whose topics ``service``'s worker reads, from its projections themselves."""

    projections = load_service(service).all_projections(Settings(service=service))
    return {source for projection in projections for source in projection.sources}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_listens_only_over_tls_with_scram_and_authorises_every_client(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    kafka = find(rendered[overlay], "Kafka", "ezurnals-kafka")["spec"]
    listeners = kafka["kafka"]["listeners"]
    assert listeners and all(
        listener["tls"] is True and listener["authentication"] == {"type": "scram-sha-512"}
        for listener in listeners
    )
    assert kafka["kafka"]["authorization"] == {"type": "simple"}
    assert "userOperator" in kafka["entityOperator"]
    config = find(rendered[overlay], "ConfigMap", "ezurnals-config")["data"]
    assert config["KAFKA_BOOTSTRAP_SERVERS"] == "ezurnals-kafka-kafka-bootstrap:9093"
    assert config["EZURNALS_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"


@pytest.mark.parametrize("service", workspace_services())
def test_each_service_has_a_kafka_user_allowed_exactly_what_it_does(
    rendered: dict[str, list[Manifest]], service: str
) -> None:
    user = find(rendered["prod"], "KafkaUser", f"ezurnals-{service}")
    assert user["metadata"]["labels"]["strimzi.io/cluster"] == "ezurnals-kafka"
    assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
    granted: dict[tuple[str, str, str], set[str]] = {}
    for acl in user["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        key = (resource["type"], resource["name"], resource.get("patternType", "literal"))
        granted.setdefault(key, set()).update(acl["operations"])
    reads = {name for (kind, name, _), ops in granted.items() if kind == "topic" and "Read" in ops}
    writes = {
        name for (kind, name, _), ops in granted.items() if kind == "topic" and "Write" in ops
    }
    sources = consumed_by(service)
    assert reads == {f"ezurnals.{s}.events" for s in sources}
    assert writes == {f"ezurnals.{service}.events"} | {f"ezurnals.{s}.events.DLT" for s in sources}
    groups = {name for (kind, name, pattern), _ in granted.items() if kind == "group"}
    assert groups == {f"ezurnals.{service}."}
    assert f"ezurnals.{service}.projections".startswith(f"ezurnals.{service}.")
    assert {kind for kind, _, _ in granted} == {"topic", "group"}
    annotation = find(rendered["prod"], "Deployment", f"{service}-worker")["metadata"][
        "annotations"
    ]["ezurnals/consumes"]
    assert set(annotation.split(",")) == sources


def _self_signed_ca(path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-ca")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@pytest.mark.parametrize("component", ["api", "worker"])
def test_pods_verify_the_broker_and_postgresql_with_the_operators_cas(
    rendered: dict[str, list[Manifest]], component: str, tmp_path: Path
) -> None:
    """The pod's environment, read by the services' own Settings, gives SCRAM over TLS checked
    against Strimzi's cluster CA, and a database URL that verifies CloudNativePG's server."""

    docs = rendered["prod"]
    config = find(docs, "ConfigMap", "ezurnals-config")["data"]
    for service in workspace_services():
        pod = find(docs, "Deployment", f"{service}-{component}")["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        cas = {
            v["secret"]["secretName"]: f"{mounts[v['name']]}/{v['secret']['items'][0]['path']}"
            for v in pod["volumes"]
            if v.get("secret", {}).get("secretName") in CA_SECRETS
        }
        assert cas.keys() == CA_SECRETS
        env: dict[str, str] = dict(config)
        secret_refs = {}
        for item in container["env"]:
            if "value" in item:
                env[item["name"]] = item["value"]
            else:
                secret_refs[item["name"]] = item["valueFrom"]
        assert secret_refs["EZURNALS_KAFKA_SASL_PASSWORD"] == {
            "secretKeyRef": {"name": f"ezurnals-{service}", "key": "password"}
        }
        assert env["EZURNALS_KAFKA_SASL_USERNAME"] == f"ezurnals-{service}"
        assert env["EZURNALS_KAFKA_SSL_CAFILE"] == cas["ezurnals-kafka-cluster-ca-cert"]

        url = env["DATABASE_URL"].replace("$(DB_USER)", service).replace("$(DB_PASSWORD)", "pw")
        query = parse_qs(urlsplit(plain_url(url)).query)
        assert query == {
            "sslmode": ["verify-full"],
            "sslrootcert": [cas["ezurnals-pg-ca"]],
        }

        ca_file = tmp_path / "ca.crt"
        _self_signed_ca(ca_file)
        env |= {"EZURNALS_KAFKA_SSL_CAFILE": str(ca_file), "EZURNALS_KAFKA_SASL_PASSWORD": "pw"}
        settings = _settings_from(env)
        options = settings.kafka_security()
        assert options["security_protocol"] == "SASL_SSL"
        assert options["sasl_mechanism"] == "SCRAM-SHA-512"
        assert options["sasl_plain_username"] == f"ezurnals-{service}"
        assert options["sasl_plain_password"] == "pw"
        context = options["ssl_context"]
        assert isinstance(context, ssl.SSLContext)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        assert context.get_ca_certs()[0]["subject"] == ((("commonName", "test-ca"),),)


def _settings_from(env: dict[str, str]) -> Settings:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return Settings()


def test_local_settings_stay_plaintext() -> None:

    assert Settings(kafka_security_protocol="PLAINTEXT").kafka_security() == {}


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


@pytest.mark.parametrize(("overlay", "replicas", "min_insync"), [("dev", 1, 1), ("prod", 3, 2)])
def test_every_topic_states_its_own_replication_within_the_brokers(
    rendered: dict[str, list[Manifest]], overlay: str, replicas: int, min_insync: int
) -> None:
    docs = rendered[overlay]
    brokers = find(docs, "KafkaNodePool", "dual-role")["spec"]["replicas"]
    topics = of_kind(docs, "KafkaTopic")
    assert len(topics) == 2 * len(workspace_services())
    for topic in topics:
        assert topic["spec"]["replicas"] == replicas <= brokers
        assert topic["spec"]["config"]["min.insync.replicas"] == min_insync
    if overlay == "prod":
        assert min_insync < replicas, "one broker down must not stop writes"


def test_kafka_exports_metrics_and_production_can_rebalance(
    rendered: dict[str, list[Manifest]],
) -> None:
    for overlay in OVERLAYS:
        kafka = find(rendered[overlay], "Kafka", "ezurnals-kafka")["spec"]
        assert kafka["kafka"]["metricsConfig"] == {"type": "strimziMetricsReporter"}
        assert kafka["kafkaExporter"]["groupRegex"] == r"ezurnals\..*"
    assert "cruiseControl" in find(rendered["prod"], "Kafka", "ezurnals-kafka")["spec"]
    assert "cruiseControl" not in find(rendered["dev"], "Kafka", "ezurnals-kafka")["spec"]
    assert "KafkaRebalance" in (DEPLOY / "README.md").read_text(encoding="utf-8")


#: API processes that hold one connection outside their pool: reporting's diary cache LISTENs
#: for PostgreSQL's change notices (``Database.dedicated()``).
LISTENING_APIS = {"reporting"}


def _pool_size(deployment: Manifest) -> int:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    return int(env.get("EZURNALS_DB_POOL_SIZE") or Settings.model_fields["db_pool_size"].default)


def connection_budget(docs: list[Manifest]) -> int:
    """The most connections the services can hold at once: every API at its autoscaler's maximum
    and every worker at its replica count, each plus the surge pod of a rollout, each with a full
    pool; one ``ezurnals rebuild`` per service (it runs with the API's settings); reporting's
    LISTEN connections."""
    total = 0
    for service in workspace_services():
        api = find(docs, "Deployment", f"{service}-api")
        worker = find(docs, "Deployment", f"{service}-worker")
        api_pods = find(docs, "HorizontalPodAutoscaler", f"{service}-api")["spec"]["maxReplicas"]
        api_pods += api["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
        worker_pods = worker["spec"]["replicas"]
        worker_pods += worker["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
        total += api_pods * _pool_size(api) + worker_pods * _pool_size(worker) + _pool_size(api)
        if service in LISTENING_APIS:
            total += api_pods
    return total


@pytest.mark.parametrize(("overlay", "budget"), [("dev", 253), ("prod", 686)])
def test_postgresql_admits_every_connection_the_pools_can_open(
    rendered: dict[str, list[Manifest]], overlay: str, budget: int
) -> None:
    docs = rendered[overlay]
    parameters = find(docs, "Cluster", "ezurnals-pg")["spec"]["postgresql"]["parameters"]
    reserved = int(parameters["superuser_reserved_connections"])
    assert connection_budget(docs) == budget
    assert budget + reserved <= int(parameters["max_connections"])
    runbook = (DEPLOY / "README.md").read_text(encoding="utf-8")
    assert (
        f"**{budget}**" in runbook
        and f"`max_connections` {parameters['max_connections']}" in runbook
    )


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


# --- monitoring -----------------------------------------------------------------------------


def _selects(selector: Manifest, labels: dict[str, str]) -> bool:
    return bool(selector["matchLabels"]) and selector["matchLabels"].items() <= labels.items()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_api_worker_and_web_pod_is_scraped_on_its_metrics_port(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    docs = rendered[overlay]
    services = of_kind(docs, "Service")
    for deployment in of_kind(docs, "Deployment"):
        template = deployment["spec"]["template"]
        assert "annotations" not in template["metadata"], "scraped by monitors, not annotations"
        labels = template["metadata"]["labels"]
        (container,) = template["spec"]["containers"]
        ports = {p["name"] for p in container["ports"]}
        scraped = [
            endpoint["port"]
            for monitor in of_kind(docs, "PodMonitor")
            if _selects(monitor["spec"]["selector"], labels)
            for endpoint in monitor["spec"]["podMetricsEndpoints"]
        ]
        for monitor in of_kind(docs, "ServiceMonitor"):
            for service in services:
                if _selects(monitor["spec"]["selector"], service["metadata"]["labels"]) and (
                    service["spec"]["selector"].items() <= labels.items()
                ):
                    by_name = {p["name"]: p["targetPort"] for p in service["spec"]["ports"]}
                    scraped += [by_name[e["port"]] for e in monitor["spec"]["endpoints"]]
        name = deployment["metadata"]["name"]
        assert len(scraped) == 1, f"{name} is scraped {len(scraped)} times"
        assert scraped[0] in ports, name


def test_postgresql_kafka_and_the_kafka_exporter_are_scraped(
    rendered: dict[str, list[Manifest]],
) -> None:
    monitors = {m["metadata"]["name"]: m["spec"] for m in of_kind(rendered["prod"], "PodMonitor")}
    expected = {
        "ezurnals-pg": ({"cnpg.io/cluster": "ezurnals-pg"}, "metrics"),
        "ezurnals-kafka-brokers": ({"strimzi.io/name": "ezurnals-kafka-kafka"}, "tcp-prometheus"),
        "ezurnals-kafka-exporter": (
            {"strimzi.io/name": "ezurnals-kafka-kafka-exporter"},
            "tcp-prometheus",
        ),
    }
    for name, (labels, port) in expected.items():
        assert labels.items() <= monitors[name]["selector"]["matchLabels"].items()
        assert [e["port"] for e in monitors[name]["podMetricsEndpoints"]] == [port]


def _promql_problems(expr: str) -> list[str]:
    """What a PromQL parser would refuse that can be told without one: unbalanced brackets and
    string escapes Go does not know (a regex's ``\\.`` must be written ``\\\\.``)."""
    problems = []
    for literal in re.findall(r'"((?:[^"\\]|\\.)*)"', expr):
        problems += [
            f"bad escape \\{c} in {literal!r}"
            for c in re.findall(r"\\(.)", literal)
            if c not in "abfnrtv\\\"'"
        ]
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    for opening, closing in ("()", "{}", "[]"):
        if unquoted.count(opening) != unquoted.count(closing):
            problems.append(f"unbalanced {opening}{closing}")
    return problems


def _metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\b(ezurnals_[a-z_]+)", expr))


def _exposed_metrics() -> set[str]:
    names: set[str] = set()
    for value in vars(metrics).values():
        if isinstance(value, prometheus_client.metrics.MetricWrapperBase):
            for family in value.describe():
                names |= {
                    family.name,
                    *(f"{family.name}{s}" for s in ("_total", "_count", "_sum", "_bucket")),
                }
    return names


def test_alerts_are_the_runbooks_and_read_metrics_that_exist(
    rendered: dict[str, list[Manifest]],
) -> None:
    (rule,) = of_kind(rendered["prod"], "PrometheusRule")
    alerts = [r for group in rule["spec"]["groups"] for r in group["rules"]]
    runbook = (DEPLOY / "README.md").read_text(encoding="utf-8")
    exposed = _exposed_metrics()
    for alert in alerts:
        assert _promql_problems(alert["expr"]) == [], alert["alert"]
        assert _metric_names(alert["expr"]) <= exposed, alert["alert"]
        assert alert["labels"]["severity"] in {"warning", "critical"}
        assert f"`{alert['alert']}`" in runbook, f"{alert['alert']} is not in the runbook"
    names = {a["alert"] for a in alerts}
    assert len(names) == len(alerts)
    used = {m for a in alerts for m in _metric_names(a["expr"])}
    assert {"ezurnals_relay_lag_seconds", "ezurnals_http_request_seconds_count"} <= used


def test_the_dashboard_is_grafana_json_over_metrics_that_exist(
    rendered: dict[str, list[Manifest]],
) -> None:
    config = find(rendered["prod"], "ConfigMap", "ezurnals-dashboard")
    assert config["metadata"]["labels"]["grafana_dashboard"] == "1"
    board = json.loads(config["data"]["ezurnals.json"])
    assert board["uid"] == "ezurnals"
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids)) >= 8
    exposed = _exposed_metrics()
    for panel in board["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert _promql_problems(target["expr"]) == [], panel["title"]
            assert _metric_names(target["expr"]) <= exposed, panel["title"]
