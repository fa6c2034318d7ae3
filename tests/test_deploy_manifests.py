"""The deployment files agree with the code: compose, Kubernetes, NATS, Prometheus, Grafana.

No Docker engine or cluster is needed: the files are parsed and checked against the services'
settings, metric names, subjects and durable consumer names.
"""

from __future__ import annotations

import copy
import functools
import importlib
import json
import os
import re
import shutil
import subprocess
import time
import tomllib
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import pydantic
import pytest
import yaml
from cloudcoil.models.keda import v1alpha1 as keda
from cloudcoil.models.prometheus_operator import v1 as prometheus_operator

from optbus.runtime.nats_security import NatsSecurity
from optbus.runtime.settings import ServiceSettings
from optbus.subjects import subject_matches
from optbus_cli.commands.services import SERVICES
from optbus_cli.servers import free_port, nats_server_binary
from optbus_cli.topologies import topology_of
from tests.integration.test_timescaledb_schema import timescaledb_image
from tests.nats_accounts import make_tls
from tests.scripts import load_script

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
NATS_SECURITY_PREFIX = NatsSecurity.model_config["env_prefix"]
"""The settings every process shares: its nkey seed file and the servers' CA."""
K8S = DEPLOY / "k8s"
GRAFANA = ROOT / "grafana"
NEEDS_DATABASE = {"persistence", "trainer"}
COMPOSE_NATS = ("nats-0", "nats-1", "nats-2")
"""compose's three NATS servers: one JetStream cluster, as on Kubernetes."""


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _yaml_documents(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    spec: dict[str, Any] = _yaml(DEPLOY / "compose.yaml")
    return spec


@pytest.fixture(scope="module")
def accounts() -> ModuleType:
    return load_script(DEPLOY / "nats" / "generate_accounts.py")


@pytest.fixture(scope="module")
def nats_users(accounts: ModuleType) -> dict[str, Any]:
    return {user.name: user for user in accounts.users()}


def settings_class(service: str) -> type[ServiceSettings]:
    """The settings class a service's composition root reads its environment with."""
    module = importlib.import_module(SERVICES[service])
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value is not ServiceSettings
    ]
    assert len(classes) == 1, f"{service}: expected one settings class, found {classes}"
    return classes[0]


def env_prefix(service: str) -> str:
    return str(settings_class(service).model_config["env_prefix"])


def http_port(environment: dict[str, str], service: str) -> int:
    return int(environment[f"{env_prefix(service)}HTTP_PORT"])


def k8s_documents() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(K8S.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in _yaml_documents(path):
            if isinstance(doc, dict):
                yield path, doc


def base_objects(kind: str) -> dict[str, dict[str, Any]]:
    return {
        doc["metadata"]["name"]: doc
        for path, doc in k8s_documents()
        if path.parent == K8S / "base" and doc.get("kind") == kind
    }


def base_workloads() -> dict[str, dict[str, Any]]:
    """The base's Deployments and StatefulSets (the single-writer services are StatefulSets)."""
    return {**base_objects("Deployment"), **base_objects("StatefulSet")}


def base_config() -> dict[str, str]:
    data: dict[str, str] = base_objects("ConfigMap")["optbus-config"]["data"]
    return data


def may(user: Any, action: str, subject: str) -> bool:
    """Whether ``user`` may ``action`` on ``subject``: an allow matches it and no deny does."""
    denied = getattr(user, f"deny_{action}", ())
    return any(subject_matches(pattern, subject) for pattern in getattr(user, action)) and not any(
        subject_matches(pattern, subject) for pattern in denied
    )


# --- YAML parses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    sorted(
        [*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml"), *GRAFANA.rglob("*.yaml")],
        key=str,
    ),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_every_yaml_file_parses(path: Path) -> None:
    assert _yaml_documents(path)


# --- compose ---------------------------------------------------------------------------------


def test_compose_runs_every_optbus_service_with_its_own_command(compose: dict[str, Any]) -> None:
    for service in SERVICES:
        assert compose["services"][service]["command"] == ["run", service]


def test_every_long_running_compose_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if service.get("restart") == "no":
            continue  # a one-shot job
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_each_service_healthcheck_gets_healthz_on_its_own_port(compose: dict[str, Any]) -> None:
    for service in SERVICES:
        spec = compose["services"][service]
        port = http_port(spec["environment"], service)
        assert f"http://127.0.0.1:{port}/healthz" in " ".join(spec["healthcheck"]["test"])


def test_each_service_serves_http_on_all_interfaces(compose: dict[str, Any]) -> None:
    for service in SERVICES:
        environment = compose["services"][service]["environment"]
        assert environment[f"{env_prefix(service)}HTTP_HOST"] == "0.0.0.0"


def test_services_serve_http_on_distinct_ports(compose: dict[str, Any]) -> None:
    ports = [http_port(compose["services"][s]["environment"], s) for s in SERVICES]
    assert len(set(ports)) == len(ports)


def test_compose_runs_greeks_and_persistence_as_several_replicas(compose: dict[str, Any]) -> None:
    for service in SCALED_SERVICES:
        assert compose["services"][service]["deploy"]["replicas"] >= 2, service


def test_compose_runs_one_of_each_single_writer_service(compose: dict[str, Any]) -> None:
    for service in SINGLE_WRITER_SERVICES:
        assert compose["services"][service].get("deploy", {}).get("replicas", 1) == 1, service


def test_no_replicated_compose_service_publishes_a_port_on_the_host(
    compose: dict[str, Any],
) -> None:
    """Two replicas cannot both bind one host port: each serves on its own container's."""
    for name, service in compose["services"].items():
        if service.get("deploy", {}).get("replicas", 1) > 1:
            assert "ports" not in service, name


def test_every_optbus_variable_in_compose_is_a_setting_the_service_reads(
    compose: dict[str, Any],
) -> None:
    for service in SERVICES:
        prefix = env_prefix(service)
        fields = set(settings_class(service).model_fields)
        for variable in compose["services"][service]["environment"]:
            if variable.startswith(NATS_SECURITY_PREFIX):
                setting = variable.removeprefix(NATS_SECURITY_PREFIX).lower()
                assert setting in NatsSecurity.model_fields, f"{service}: {variable}"
            elif variable.startswith("OPTBUS_"):
                assert variable.startswith(prefix), f"{service} gets {variable}"
                assert variable.removeprefix(prefix).lower() in fields, f"{service}: {variable}"


def test_each_service_connects_to_nats_over_tls_with_its_own_nkey(compose: dict[str, Any]) -> None:
    for service in [*SERVICES, "bus-migrate"]:
        user = "migrator" if service == "bus-migrate" else service
        config = compose["services"][service]
        env = config["environment"]
        assert env["NATS_URL"] == ",".join(f"tls://{nats}:4222" for nats in COMPOSE_NATS)
        mounts = dict(volume.rsplit(":", 2)[:2] for volume in config["volumes"])
        assert mounts[f"./nkeys/{user}.nk"] == env["OPTBUS_NATS_NKEY_SEED_FILE"], service
        assert mounts["./tls/ca.pem"] == env["OPTBUS_NATS_CA_FILE"], service


def test_only_services_that_store_get_a_database_url(compose: dict[str, Any]) -> None:
    for service in SERVICES:
        has_url = "DATABASE_URL" in compose["services"][service]["environment"]
        assert has_url == (service in NEEDS_DATABASE), service


def test_persistence_writes_as_the_insert_and_select_role_member(compose: dict[str, Any]) -> None:
    url = compose["services"]["persistence"]["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql://optbus_persistence:${")
    init = (DEPLOY / "postgres" / "initdb" / "10-optbus-roles.sh").read_text(encoding="utf-8")
    assert "CREATE ROLE optbus_persistence LOGIN" in init
    assert "IN ROLE optbus_writer" in init


def test_migrate_job_runs_db_migrate_as_the_schema_owner(compose: dict[str, Any]) -> None:
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["db", "migrate"]
    assert migrate["restart"] == "no"
    assert migrate["environment"]["DATABASE_URL"].startswith("postgresql://optbus_migrator:${")


def test_persistence_starts_only_after_the_migration_succeeded(compose: dict[str, Any]) -> None:
    depends = compose["services"]["persistence"]["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_bus_migrate_job_runs_bus_migrate_as_the_migrator(compose: dict[str, Any]) -> None:
    job = compose["services"]["bus-migrate"]
    assert job["command"] == ["bus", "migrate", "--replicas", "3"]
    assert job["restart"] == "no"
    assert "./nkeys/migrator.nk:/etc/optbus/nats/nkey.seed:ro" in job["volumes"]
    for nats in COMPOSE_NATS:
        assert job["depends_on"][nats]["condition"] == "service_healthy"


def test_every_service_starts_only_after_the_bus_migration_succeeded(
    compose: dict[str, Any],
) -> None:
    for service in SERVICES:
        depends = compose["services"][service]["depends_on"]
        assert depends["bus-migrate"]["condition"] == "service_completed_successfully", service


def test_postgres_is_the_timescaledb_the_integration_suite_ran_against(
    compose: dict[str, Any],
) -> None:
    # TimescaleDB 2.28.3 on PostgreSQL 15: the release docs/operations.md says ran the schema.
    assert compose["services"]["postgres"]["image"] == "timescale/timescaledb:2.28.3-pg15"


TIMESCALEDB_IMAGE = re.compile(r"timescale/timescaledb(?::([\w.-]+))?")


def timescaledb_images_in_files() -> dict[str, set[str]]:
    """Every TimescaleDB image a test or deployment file names, by file (no tag: "")."""
    found: dict[str, set[str]] = {}
    for folder in (ROOT / "tests", DEPLOY):
        for path in folder.rglob("*"):
            if not path.is_file() or path.suffix in (".pyc", ".pem", ".seed", ".parquet"):
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            if tags := {match.group(1) or "" for match in TIMESCALEDB_IMAGE.finditer(text)}:
                found[str(path.relative_to(ROOT))] = tags
    return found


def test_no_test_or_deployment_file_runs_an_unpinned_timescaledb(
    compose: dict[str, Any],
) -> None:
    pinned = compose["services"]["postgres"]["image"].removeprefix("timescale/timescaledb:")
    assert PINNED_IMAGE.match(f"timescale/timescaledb:{pinned}"), pinned
    for path, tags in timescaledb_images_in_files().items():
        if path == "tests/test_deploy_manifests.py":
            continue  # this file names the image only to find it
        assert tags <= {pinned}, f"{path}: {sorted(tags)}, not {pinned}"


def test_the_schema_test_runs_the_timescaledb_image_compose_runs(compose: dict[str, Any]) -> None:
    assert timescaledb_image() == compose["services"]["postgres"]["image"]


def test_nats_runs_three_servers_of_the_cluster_configuration_with_every_setting_it_reads(
    compose: dict[str, Any], nats_users: dict[str, Any]
) -> None:
    needed = {user.nkey_env for user in nats_users.values()} | CLUSTER_SETTINGS
    for name in COMPOSE_NATS:
        nats = compose["services"][name]
        assert "/etc/nats/nats-cluster.conf" in nats["command"]
        mounts = {volume.split(":")[0] for volume in nats["volumes"]}
        assert {
            "./nats/nats-server.conf",
            "./nats/nats-cluster.conf",
            "./nats/accounts.conf",
            "./tls/server.pem",
            "./tls/ca.pem",
        } <= mounts
        assert needed <= set(nats["environment"]), name


def test_each_compose_nats_server_answers_to_its_route_address_of_the_cluster_configuration(
    compose: dict[str, Any],
) -> None:
    conf = (DEPLOY / "nats" / "nats-cluster.conf").read_text(encoding="utf-8")
    routes = set(re.findall(r"nats://([\w.-]+):6222", conf))
    aliases = {
        alias
        for name in COMPOSE_NATS
        for alias in compose["services"][name]["networks"]["default"]["aliases"]
    }
    assert aliases == routes
    names = {compose["services"][name]["environment"]["NATS_SERVER_NAME"] for name in COMPOSE_NATS}
    assert len(names) == len(COMPOSE_NATS)


def test_make_env_certifies_every_name_clients_and_routes_use() -> None:
    script = (DEPLOY / "make-env.sh").read_text(encoding="utf-8")
    (line,) = [line for line in script.splitlines() if line.startswith("./make-tls.sh")]
    assert set(COMPOSE_NATS) <= set(line.split())
    assert "'*.nats-headless.nats.svc.cluster.local'" in script


def test_every_compose_image_is_pinned_to_a_full_version(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service["image"]
        assert image.startswith("${OPTBUS_IMAGE") or PINNED_IMAGE.match(image), f"{name}: {image}"


def test_greeks_may_compile_its_kernels_for_five_minutes_before_its_health_counts(
    compose: dict[str, Any],
) -> None:
    assert compose["services"]["greeks"]["healthcheck"]["start_period"] == "300s"
    greeks = built_objects("base", "Deployment")["greeks"]
    (container,) = greeks["spec"]["template"]["spec"]["containers"]
    probe = container["startupProbe"]
    assert probe["periodSeconds"] * probe["failureThreshold"] >= 300


MADE_BY_MAKE_ENV = ("./nkeys/", "./tls/")
"""Where deploy/make-env.sh writes what is made per deployment (git-ignored)."""


def test_compose_mounts_only_files_that_exist_or_make_env_makes(
    compose: dict[str, Any], nats_users: dict[str, Any]
) -> None:
    made = {f"./nkeys/{user.seed_file}" for user in nats_users.values()} | {
        f"./tls/{name}" for name in ("ca.pem", "server.pem", "server-key.pem")
    }
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith(MADE_BY_MAKE_ENV):
                assert source in made, f"{name} mounts {source}, which make-env.sh does not make"
            elif source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"


def test_compose_builds_the_image_from_the_deploy_dockerfile(compose: dict[str, Any]) -> None:
    for service in [*SERVICES, "migrate", "bus-migrate"]:
        build = compose["services"][service]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()


def test_compose_passwords_are_references_to_the_environment(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            text = str(value)
            if "PASSWORD" in variable:
                assert re.fullmatch(r"\$\{\w+(:\?[^}]*|:-)?\}", text), f"{name}: {variable}"
            for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", text):
                assert password.startswith("${"), f"{name}: {variable}"


# --- Dockerfile ------------------------------------------------------------------------------


def dockerfile_final_stage() -> list[str]:
    lines = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("FROM ")]
    return lines[starts[-1] :]


def test_the_image_runs_as_a_non_root_user() -> None:
    users = [line.split()[1] for line in dockerfile_final_stage() if line.startswith("USER ")]
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")


def test_the_image_entrypoint_is_the_optbus_command() -> None:
    assert 'ENTRYPOINT ["optbus"]' in dockerfile_final_stage()


def test_the_image_installs_every_workspace_member() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    members = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["uv"][
        "workspace"
    ]["members"]
    projects = sorted(
        project for member in members for project in ROOT.glob(f"{member}/pyproject.toml")
    )
    assert any(project.parent.name == "cli" for project in projects)
    for project in projects:
        relative = project.relative_to(ROOT).as_posix()
        assert f"COPY {relative} {relative}" in dockerfile, relative


def test_the_image_exposes_each_service_port(compose: dict[str, Any]) -> None:
    expose = next(line for line in dockerfile_final_stage() if line.startswith("EXPOSE "))
    for service in SERVICES:
        assert str(http_port(compose["services"][service]["environment"], service)) in expose


def test_the_image_holds_the_trading_services_configuration_files() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    for service, variable, source in (
        ("strategy", "OPTBUS_STRATEGY_STRATEGIES_FILE", "services/strategy/config/strategies.toml"),
        ("risk", "OPTBUS_RISK_CONFIG_FILE", "services/risk/config/risk.toml"),
    ):
        assert (ROOT / source).is_file(), source
        target = f"/etc/optbus/{Path(source).name}"
        assert f"COPY --from=build /src/{source} {target}" in dockerfile, service
        assert f"{variable}={target}" in dockerfile, service
        assert (
            variable.removeprefix(env_prefix(service)).lower()
            in settings_class(service).model_fields
        )


def test_the_example_overlay_risk_limits_are_a_valid_risk_configuration() -> None:
    from optbus_risk.config import load_risk_config

    load_risk_config(K8S / "overlays" / "example" / "risk.toml")


# --- Prometheus ------------------------------------------------------------------------------


def scrape_jobs() -> dict[str, dict[str, Any]]:
    config = _yaml(DEPLOY / "prometheus" / "prometheus.yml")
    return {job["job_name"]: job for job in config["scrape_configs"]}


def test_prometheus_scrapes_each_service_as_a_job_of_its_name() -> None:
    assert set(SERVICES) <= set(scrape_jobs())


def test_prometheus_targets_are_the_services_metrics_ports(compose: dict[str, Any]) -> None:
    jobs = scrape_jobs()
    for service in SERVICES:
        (discovery,) = jobs[service]["dns_sd_configs"]
        assert discovery["names"] == [service]
        assert discovery["port"] == http_port(compose["services"][service]["environment"], service)
        assert jobs[service].get("metrics_path", "/metrics") == "/metrics"


def test_compose_mounts_the_prometheus_configuration(compose: dict[str, Any]) -> None:
    volumes = compose["services"]["prometheus"]["volumes"]
    assert "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in volumes


def test_prometheus_loads_the_alert_rules_compose_mounts(compose: dict[str, Any]) -> None:
    config = _yaml(DEPLOY / "prometheus" / "prometheus.yml")
    assert "/etc/prometheus/alerts.yml" in config["rule_files"]
    volumes = compose["services"]["prometheus"]["volumes"]
    assert "./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in volumes


def _alert_rules() -> dict[str, dict[str, Any]]:
    return {
        rule["alert"]: rule
        for group in _yaml(DEPLOY / "prometheus" / "alerts.yml")["groups"]
        for rule in group["rules"]
    }


def test_an_invalid_kill_switch_command_raises_an_alert() -> None:
    rule = _alert_rules()["OptbusKillSwitchInvalidCommand"]
    assert "optbus_killswitch_invalid_commands_total" in rule["expr"]
    assert rule["labels"]["severity"] == "critical"


def test_a_broker_master_disagreeing_with_the_contract_data_raises_a_critical_alert() -> None:
    rule = _alert_rules()["OptbusFeedInstrumentMismatch"]
    assert "optbus_market_data_feed_instrument_mismatches_total" in rule["expr"]
    assert rule["labels"]["severity"] == "critical"


# --- Kubernetes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kustomization",
    sorted(K8S.rglob("kustomization.yaml")),
    ids=lambda p: str(p.relative_to(K8S)),
)
def test_kustomization_lists_only_files_that_exist(kustomization: Path) -> None:
    spec = _yaml(kustomization)
    listed = [*spec.get("resources", []), *spec.get("components", [])]
    listed += [patch["path"] for patch in spec.get("patches", []) if "path" in patch]
    assert listed
    for entry in listed:
        assert (kustomization.parent / entry).exists(), f"{kustomization}: {entry}"


def test_base_kustomization_lists_every_base_manifest() -> None:
    spec = _yaml(K8S / "base" / "kustomization.yaml")
    manifests = {p.name for p in (K8S / "base").glob("*.yaml")} - {"kustomization.yaml"}
    assert {entry for entry in spec["resources"] if entry.endswith(".yaml")} == manifests


def test_base_has_a_workload_and_a_service_per_optbus_service() -> None:
    assert set(SERVICES) <= set(base_workloads())
    assert set(SERVICES) <= set(base_objects("Service"))


def test_each_deployment_runs_the_service_of_its_name() -> None:
    for service in SERVICES:
        (container,) = base_workloads()[service]["spec"]["template"]["spec"]["containers"]
        assert container["args"] == ["run", service]


def test_each_deployment_probes_healthz_for_liveness_and_readiness() -> None:
    for service in SERVICES:
        (container,) = base_workloads()[service]["spec"]["template"]["spec"]["containers"]
        for probe in ("livenessProbe", "readinessProbe"):
            assert container[probe]["httpGet"]["path"] == "/healthz", f"{service} {probe}"
            assert container[probe]["httpGet"]["port"] == "http"


def test_each_deployment_is_scraped_on_the_port_it_serves() -> None:
    config = base_config()
    for service in SERVICES:
        template = base_workloads()[service]["spec"]["template"]
        (container,) = template["spec"]["containers"]
        port = http_port(config, service)
        assert container["ports"] == [{"name": "http", "containerPort": port}]
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == str(port)
        assert annotations["prometheus.io/path"] == "/metrics"


def test_each_service_object_exposes_the_metrics_port() -> None:
    config = base_config()
    for service in SERVICES:
        (port,) = base_objects("Service")[service]["spec"]["ports"]
        assert port["port"] == http_port(config, service)


def test_the_configmap_has_only_settings_the_services_read() -> None:
    prefixes = {env_prefix(service): service for service in SERVICES}
    for key in base_config():
        if key in ("NATS_ADDRESS", "DATABASE_ADDRESS"):
            continue
        service = next(s for prefix, s in prefixes.items() if key.startswith(prefix))
        assert key.removeprefix(env_prefix(service)).lower() in settings_class(service).model_fields


def _nats_login(pod: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A pod's NATS settings, and which key of which Secret each file of its login is."""
    (container,) = pod["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    (volume,) = [v for v in pod["volumes"] if v["name"] == "nats-login"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "nats-login"]
    files = {
        f"{mount['mountPath']}/{item['path']}": f"{source['secret']['name']}/{item['key']}"
        for source in volume["projected"]["sources"]
        for item in source["secret"]["items"]
    }
    return env, files


def test_each_deployment_logs_in_to_nats_over_tls_with_its_own_nkey_from_a_secret() -> None:
    for service in SERVICES:
        env, files = _nats_login(base_workloads()[service]["spec"]["template"]["spec"])
        assert env["NATS_URL"] == "tls://$(NATS_ADDRESS)", service
        assert files[env["OPTBUS_NATS_NKEY_SEED_FILE"]] == f"optbus-nats-nkeys/{service}"
        assert files[env["OPTBUS_NATS_CA_FILE"]] == "optbus-nats-tls/ca.pem"


def test_the_migration_job_runs_db_migrate_as_the_schema_owner() -> None:
    job = base_objects("Job")["optbus-db-migrate"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["db", "migrate"]
    env = {item["name"]: item for item in container["env"]}
    assert env["DATABASE_URL"]["value"].startswith("postgresql://optbus_migrator:$(")


def test_the_bus_migration_job_runs_bus_migrate_as_the_migrator() -> None:
    job = base_objects("Job")["optbus-bus-migrate"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"][:2] == ["bus", "migrate"]
    env, files = _nats_login(job["spec"]["template"]["spec"])
    assert env["NATS_URL"] == "tls://$(NATS_ADDRESS)"
    assert files[env["OPTBUS_NATS_NKEY_SEED_FILE"]] == "optbus-nats-nkeys/migrator"


def test_the_bus_migration_job_is_part_of_the_base() -> None:
    assert "bus-migrate-job.yaml" in _yaml(K8S / "base" / "kustomization.yaml")["resources"]


def test_every_service_serves_http_on_all_interfaces_on_kubernetes() -> None:
    config = base_config()
    for service in SERVICES:
        assert config[f"{env_prefix(service)}HTTP_HOST"] == "0.0.0.0", service


def test_a_service_serves_http_on_localhost_unless_told_otherwise() -> None:
    assert ServiceSettings.model_fields["http_host"].default == "127.0.0.1"


def test_only_services_that_store_get_a_database_url_on_kubernetes() -> None:
    for service in SERVICES:
        (container,) = base_workloads()[service]["spec"]["template"]["spec"]["containers"]
        names = {item["name"] for item in container["env"]}
        assert ("DATABASE_URL" in names) == (service in NEEDS_DATABASE), service


def test_k8s_manifests_hold_no_secret_object() -> None:
    kinds = {doc.get("kind") for _, doc in k8s_documents()}
    assert "Secret" not in kinds
    for kustomization in K8S.rglob("kustomization.yaml"):
        assert "secretGenerator" not in _yaml(kustomization)


def test_the_only_generated_secret_is_alertmanagers_configuration_template() -> None:
    """It holds the template and its renderer, no credential (tests/test_alerting_config.py
    checks the template's secrets are placeholders)."""
    assert "../../alertmanager" in _yaml(K8S / "base" / "kustomization.yaml")["resources"]
    (generated,) = _yaml(DEPLOY / "alertmanager" / "kustomization.yaml")["secretGenerator"]
    assert generated["files"] == ["alertmanager.yml", "render-config.sh"]


def test_alertmanager_reads_its_receivers_from_a_secret_reference_on_kubernetes() -> None:
    deployment = base_objects("Deployment")["alertmanager"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["envFrom"] == [{"secretRef": {"name": "optbus-alertmanager-receivers"}}]
    assert "render-config.sh" in container["args"][0]


def test_alertmanager_image_is_pinned_and_the_same_in_compose_and_kubernetes(
    compose: dict[str, Any],
) -> None:
    deployment = base_objects("Deployment")["alertmanager"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    image = compose["services"]["alertmanager"]["image"]
    assert re.fullmatch(r"prom/alertmanager:v\d+\.\d+\.\d+", image)
    assert container["image"] == image


def test_compose_gives_alertmanager_every_receiver_the_template_names(
    compose: dict[str, Any],
) -> None:
    template = (DEPLOY / "alertmanager" / "alertmanager.yml").read_text(encoding="utf-8")
    named = set(re.findall(r"\$\{(ALERTMANAGER_\w+)\}", template))
    environment = compose["services"]["alertmanager"]["environment"]
    assert set(environment) == named
    assert all(value == f"${{{name}:-}}" for name, value in environment.items())


def test_prometheus_sends_alerts_to_the_compose_alertmanager(compose: dict[str, Any]) -> None:
    config = _yaml(DEPLOY / "prometheus" / "prometheus.yml")
    (manager,) = config["alerting"]["alertmanagers"]
    assert manager["static_configs"][0]["targets"] == ["alertmanager:9093"]
    assert "alertmanager" in compose["services"]


def test_k8s_passwords_come_only_from_secret_references() -> None:
    for path, doc in k8s_documents():
        for container in _containers(doc):
            for item in container.get("env", []):
                if "PASSWORD" in item["name"]:
                    assert "secretKeyRef" in item["valueFrom"], f"{path}: {item['name']}"


def test_every_pod_runs_as_non_root_on_a_read_only_filesystem() -> None:
    for path, doc in k8s_documents():
        pod = _pod_spec(doc)
        if pod is None:
            continue
        assert pod["securityContext"]["runAsNonRoot"] is True, path
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, path
            assert security["allowPrivilegeEscalation"] is False, path
            assert security["capabilities"]["drop"] == ["ALL"], path


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    if doc.get("kind") not in ("Deployment", "StatefulSet", "Job"):
        return None
    spec: dict[str, Any] = doc["spec"]["template"]["spec"]
    return spec


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    pod = _pod_spec(doc)
    return [] if pod is None else pod["containers"]


# --- Kubernetes, built and validated ---------------------------------------------------------

BUILDS = ("base", "nats", "overlays/example", "overlays/autoscaled")
"""Every kustomization someone applies: the optbus base, the NATS cluster, each overlay."""
AUTOSCALED = "overlays/autoscaled"
"""The overlay whose greeks and persistence KEDA scales on their consumers' lag."""
TRADING_SERVICES = ("strategy", "risk", "execution")
SINGLE_WRITER_SERVICES = ("market-data", *TRADING_SERVICES, "trainer")
"""The services of which two processes must never overlap: market-data would publish every
chain twice (and log in to a broker's feed twice), the trading services would act twice on
every event, two trainers could each train and promote a model for the same day."""
SCALED_SERVICES = ("greeks", "persistence")
"""The services that run as several replicas sharing their durables."""
CURRENT_KUBERNETES = list(dict.fromkeys(kubernetes_validate.utils.all_versions()))[-3:]
"""The three newest Kubernetes releases the validator bundles the schemas of (it lists each
release twice: its plain and its strict schemas)."""
PROMETHEUS_OPERATOR_KINDS = {"ServiceMonitor", "PrometheusRule"}
KEDA_KINDS = {"ScaledObject"}
CUSTOM_KINDS = PROMETHEUS_OPERATOR_KINDS | KEDA_KINDS
"""Kinds of custom resources, checked against their operators' CRDs rather than Kubernetes'."""
PINNED_IMAGE = re.compile(r"^[\w./-]+:v?\d+\.\d+\.\d+(-[\w.]+)?$")
"""An image named by a full version (nats:2.11.4-alpine), never latest or a moving minor."""


def kustomize_command() -> list[str]:
    """kustomize, else kubectl's built-in copy (the machine's kubectl; docs/deploy.md)."""
    if kustomize := shutil.which("kustomize"):
        return [kustomize, "build"]
    kubectl = shutil.which("kubectl")
    assert kubectl, "neither kustomize nor kubectl is installed: see docs/deploy.md, Validation"
    return [kubectl, "kustomize"]


@functools.cache
def built(target: str) -> tuple[dict[str, Any], ...]:
    """What `kustomize build deploy/k8s/<target>` makes, as objects."""
    result = subprocess.run(
        [*kustomize_command(), str(K8S / target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def built_objects(target: str, kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in built(target) if doc["kind"] == kind}


def pod_templates(objects: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each workload's pod template by its app.kubernetes.io/name label."""
    return {
        doc["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]: doc["spec"][
            "template"
        ]
        for doc in objects
        if doc["kind"] in ("Deployment", "StatefulSet", "Job")
    }


def environment_names(template: dict[str, Any]) -> set[str]:
    return {item["name"] for c in template["spec"]["containers"] for item in c.get("env", [])}


def policy_pod_names(selector: dict[str, Any]) -> set[str]:
    """The app names a NetworkPolicy's podSelector picks (an In list or one label)."""
    names = {
        value
        for expression in selector.get("matchExpressions", [])
        if expression["key"] == "app.kubernetes.io/name" and expression["operator"] == "In"
        for value in expression["values"]
    }
    if name := selector.get("matchLabels", {}).get("app.kubernetes.io/name"):
        names.add(name)
    return names


def base_policy(name: str) -> dict[str, Any]:
    policy: dict[str, Any] = built_objects("base", "NetworkPolicy")[name]
    return policy


@pytest.mark.parametrize("target", BUILDS)
def test_kustomize_builds_each_kustomization(target: str) -> None:
    assert built(target)


@pytest.mark.parametrize("version", CURRENT_KUBERNETES)
@pytest.mark.parametrize("target", BUILDS)
def test_every_built_object_is_valid_against_the_schemas_of_current_kubernetes(
    target: str, version: str
) -> None:
    for doc in built(target):
        if doc["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(doc, version, strict=True)


@pytest.mark.parametrize("version", CURRENT_KUBERNETES)
def test_the_sweep_job_is_valid_against_the_schemas_of_current_kubernetes(version: str) -> None:
    for doc in _yaml_documents(SWEEP_JOB):
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_schema_check_rejects_a_misspelt_field() -> None:
    deployment = copy.deepcopy(built_objects("base", "Deployment")["greeks"])
    deployment["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, CURRENT_KUBERNETES[-1], strict=True)


def crd_problems(models: ModuleType, doc: dict[str, Any]) -> list[str]:
    """What an operator's CRD (as cloudcoil's models generated from it, ``models``) refuses in
    an object, or silently drops: a field it does not know."""
    model = getattr(models, doc["kind"])
    try:
        parsed = model.model_validate(doc)
    except pydantic.ValidationError as error:
        return [str(error)]
    kept = parsed.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return [] if kept == doc else [f"unknown fields in {doc['metadata']['name']}"]


def test_the_prometheus_operator_objects_are_valid_against_its_crds() -> None:
    objects = [doc for doc in built("base") if doc["kind"] in PROMETHEUS_OPERATOR_KINDS]
    assert {doc["kind"] for doc in objects} == PROMETHEUS_OPERATOR_KINDS
    for doc in objects:
        assert crd_problems(prometheus_operator, doc) == []


def test_the_crd_check_rejects_a_misspelt_field_and_a_rule_without_expr() -> None:
    monitor = copy.deepcopy(built_objects("base", "ServiceMonitor")["optbus-services"])
    monitor["spec"]["endpoints"][0]["intervall"] = "15s"
    assert crd_problems(prometheus_operator, monitor)
    rule = copy.deepcopy(built_objects("base", "PrometheusRule")["optbus-alerts"])
    del rule["spec"]["groups"][0]["rules"][0]["expr"]
    assert crd_problems(prometheus_operator, rule)


@pytest.fixture(scope="module")
def rules_generator() -> ModuleType:
    return load_script(K8S / "generate_prometheus_rules.py")


def test_the_prometheus_rule_is_what_the_generator_makes_from_the_alerts_file(
    rules_generator: ModuleType,
) -> None:
    alerts = (DEPLOY / "prometheus" / "alerts.yml").read_text(encoding="utf-8")
    committed = (K8S / "base" / "prometheus-rules.yaml").read_text(encoding="utf-8")
    assert committed == rules_generator.render(alerts), (
        "deploy/k8s/base/prometheus-rules.yaml is stale: "
        "run `uv run python deploy/k8s/generate_prometheus_rules.py`"
    )


def test_the_prometheus_rule_holds_every_alert_of_the_alerts_file() -> None:
    alerts = _yaml(DEPLOY / "prometheus" / "alerts.yml")
    rule = built_objects("base", "PrometheusRule")["optbus-alerts"]
    assert rule["spec"]["groups"] == alerts["groups"]


def test_the_service_monitor_scrapes_every_service_as_a_job_of_its_name() -> None:
    monitor = built_objects("base", "ServiceMonitor")["optbus-services"]
    assert policy_pod_names(monitor["spec"]["selector"]) == set(SERVICES)
    assert monitor["spec"]["jobLabel"] == "app.kubernetes.io/name"
    services = built_objects("base", "Service")
    for service in SERVICES:
        assert services[service]["metadata"]["labels"]["app.kubernetes.io/name"] == service
        assert "http" in {port["name"] for port in services[service]["spec"]["ports"]}
    assert {endpoint["port"] for endpoint in monitor["spec"]["endpoints"]} == {"http"}


@pytest.mark.parametrize("target", ["base", "overlays/example", AUTOSCALED])
def test_each_single_writer_service_is_a_statefulset_of_one_replica(target: str) -> None:
    """A StatefulSet starts its pod's replacement only once the old pod is gone; a
    Deployment's ReplicaSet starts it while the old one terminates (an eviction, a delete)."""
    statefulsets = built_objects(target, "StatefulSet")
    for service in SINGLE_WRITER_SERVICES:
        spec = statefulsets[service]["spec"]
        assert spec["replicas"] == 1, service
        assert spec.get("podManagementPolicy", "OrderedReady") == "OrderedReady", service
        assert spec.get("updateStrategy", {}).get("type", "RollingUpdate") == "RollingUpdate"


@pytest.mark.parametrize("target", ["base", "overlays/example", AUTOSCALED])
def test_no_single_writer_service_is_also_a_deployment(target: str) -> None:
    assert not set(built_objects(target, "Deployment")) & set(SINGLE_WRITER_SERVICES)


def test_each_single_writer_statefulset_is_governed_by_its_headless_service() -> None:
    statefulsets = built_objects("base", "StatefulSet")
    services = built_objects("base", "Service")
    for service in SINGLE_WRITER_SERVICES:
        governing = services[statefulsets[service]["spec"]["serviceName"]]
        assert governing["spec"]["clusterIP"] == "None", service
        assert governing["spec"]["selector"] == {"app.kubernetes.io/name": service}


def test_the_example_overlay_mounts_its_risk_limits_in_the_risk_pod() -> None:
    risk = built_objects("overlays/example", "StatefulSet")["risk"]["spec"]["template"]["spec"]
    (container,) = risk["containers"]
    assert "risk-limits" in {mount["name"] for mount in container["volumeMounts"]}
    assert "risk-limits" in {volume["name"] for volume in risk["volumes"]}


def test_no_single_writer_service_has_a_disruption_budget_or_an_autoscaler() -> None:
    for target in BUILDS:
        for doc in built(target):
            if doc["kind"] == "PodDisruptionBudget":
                assert not policy_pod_names(doc["spec"]["selector"]) & set(SINGLE_WRITER_SERVICES)
            if doc["kind"] == "ScaledObject":
                assert doc["spec"]["scaleTargetRef"]["name"] not in SINGLE_WRITER_SERVICES
            assert doc["kind"] != "HorizontalPodAutoscaler"


def test_the_nats_cluster_is_three_servers_of_the_cluster_configuration_one_per_node() -> None:
    nats = built_objects("nats", "StatefulSet")["nats"]
    assert nats["metadata"]["namespace"] == "nats"
    assert nats["spec"]["replicas"] == 3
    assert nats["spec"]["serviceName"] == "nats-headless"
    (container,) = nats["spec"]["template"]["spec"]["containers"]
    assert container["command"][-1] == "/etc/nats/nats-kubernetes.conf"
    assert "include ./nats-cluster.conf" in (DEPLOY / "nats" / "nats-kubernetes.conf").read_text()
    anti = nats["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    assert anti["requiredDuringSchedulingIgnoredDuringExecution"][0]["topologyKey"] == (
        "kubernetes.io/hostname"
    )


def test_the_nats_servers_get_every_setting_the_cluster_configuration_reads() -> None:
    nats = built_objects("nats", "StatefulSet")["nats"]
    template = nats["spec"]["template"]
    (container,) = template["spec"]["containers"]
    config = {
        name
        for file in ("nats-kubernetes.conf", "nats-cluster.conf", "nats-server.conf")
        for name in re.findall(r"\$(\w+)", (DEPLOY / "nats" / file).read_text())
    }
    user_keys = {name for name in config if name.endswith("_NKEY")}
    assert config - user_keys <= environment_names(template)
    assert [source["secretRef"]["name"] for source in container["envFrom"]] == ["nats-nkeys"]


def test_the_nats_servers_read_their_certificate_from_the_mounted_tls_secret() -> None:
    pod = built_objects("nats", "StatefulSet")["nats"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    (volume,) = [v for v in pod["volumes"] if v.get("secret", {}).get("secretName") == "nats-tls"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
    for setting, key in {
        "NATS_TLS_CERT": "server.pem",
        "NATS_TLS_KEY": "server-key.pem",
        "NATS_TLS_CA": "ca.pem",
    }.items():
        assert env[setting] == f"{mount['mountPath']}/{key}"


def test_the_nats_servers_mount_the_repository_configuration_files() -> None:
    (config_map,) = built_objects("nats", "ConfigMap").values()
    for name, text in config_map["data"].items():
        assert text == (DEPLOY / "nats" / name).read_text(encoding="utf-8"), name
    assert {
        "nats-server.conf",
        "nats-cluster.conf",
        "nats-kubernetes.conf",
        "accounts.conf",
    } == set(config_map["data"])


def test_the_routes_of_the_cluster_configuration_are_the_statefulset_pods() -> None:
    conf = (DEPLOY / "nats" / "nats-cluster.conf").read_text(encoding="utf-8")
    routes = set(re.findall(r"nats://([\w.-]+):6222", conf))
    assert routes == {f"nats-{i}.nats-headless.nats.svc.cluster.local" for i in range(3)}


def test_on_kubernetes_the_nats_monitoring_port_listens_on_the_pod_address() -> None:
    """The probes, Prometheus and KEDA come over the pod network; the loopback default of
    nats-server.conf would refuse them, so nats-kubernetes.conf listens on the pod's IP."""
    conf = (DEPLOY / "nats" / "nats-kubernetes.conf").read_text(encoding="utf-8")
    assert re.findall(r"^http:\s*(\S+)", conf, re.MULTILINE) == ["$NATS_MONITOR_LISTEN"]
    (container,) = built_objects("nats", "StatefulSet")["nats"]["spec"]["template"]["spec"][
        "containers"
    ]
    names = [item["name"] for item in container["env"]]
    env = {item["name"]: item for item in container["env"]}
    assert env["POD_IP"]["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    # $(POD_IP) is expanded only from a variable defined before it
    assert names.index("POD_IP") < names.index("NATS_MONITOR_LISTEN")
    monitor = {port["name"]: port["containerPort"] for port in container["ports"]}["monitor"]
    assert env["NATS_MONITOR_LISTEN"]["value"] == f"$(POD_IP):{monitor}"


def test_a_drain_takes_at_most_one_nats_server() -> None:
    budget = built_objects("nats", "PodDisruptionBudget")["nats"]
    assert budget["spec"]["maxUnavailable"] == 1


def test_the_services_connect_to_the_nats_cluster_service() -> None:
    assert base_config()["NATS_ADDRESS"] == "nats.nats.svc.cluster.local:4222"
    assert "nats" in built_objects("nats", "Service")


def test_the_bus_migration_job_replicates_every_stream_on_the_three_servers() -> None:
    job = built_objects("base", "Job")["optbus-bus-migrate"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["bus", "migrate", "--replicas", "3"]


def test_timescaledb_is_the_pinned_image_compose_runs_with_the_roles_init_script(
    compose: dict[str, Any],
) -> None:
    postgres = built_objects("base", "StatefulSet")["postgres"]
    template = postgres["spec"]["template"]
    (container,) = template["spec"]["containers"]
    assert container["image"] == compose["services"]["postgres"]["image"]
    assert PINNED_IMAGE.match(container["image"])
    (init,) = [m for m in container["volumeMounts"] if m["name"] == "initdb"]
    assert init["mountPath"].startswith("/docker-entrypoint-initdb.d/")
    script = (DEPLOY / "postgres" / "initdb" / "10-optbus-roles.sh").read_text(encoding="utf-8")
    assert set(re.findall(r"\$\{(OPTBUS_\w+)", script)) <= environment_names(template)


@pytest.mark.parametrize("target", BUILDS)
def test_every_image_is_pinned_to_a_full_version(target: str) -> None:
    for name, template in pod_templates(built(target)).items():
        for container in template["spec"]["containers"]:
            image = container["image"]
            assert image == "optbus" or PINNED_IMAGE.match(image), f"{name}: {image}"


@pytest.mark.parametrize("target", ["base", "nats"])
def test_every_pod_is_denied_all_traffic_by_default(target: str) -> None:
    deny = built_objects(target, "NetworkPolicy")["default-deny"]
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


@pytest.mark.parametrize("target", ["base", "nats"])
def test_every_pod_may_ask_the_cluster_dns(target: str) -> None:
    dns = built_objects(target, "NetworkPolicy")["dns"]
    assert dns["spec"]["podSelector"] == {}
    (rule,) = dns["spec"]["egress"]
    assert {(p["port"], p["protocol"]) for p in rule["ports"]} == {(53, "UDP"), (53, "TCP")}


def test_exactly_the_pods_that_connect_to_nats_may_reach_its_client_port() -> None:
    templates = pod_templates(built("base"))
    clients = {name for name, t in templates.items() if "NATS_URL" in environment_names(t)}
    policy = base_policy("nats-clients")
    assert policy_pod_names(policy["spec"]["podSelector"]) == clients
    (rule,) = policy["spec"]["egress"]
    assert rule["ports"] == [{"port": 4222, "protocol": "TCP"}]
    (ingress,) = built_objects("nats", "NetworkPolicy")["nats-clients"]["spec"]["ingress"]
    assert ingress["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "optbus"
    }


def test_exactly_the_pods_with_a_database_url_may_reach_the_database() -> None:
    templates = pod_templates([*built("base"), *_yaml_documents(SWEEP_JOB)])
    clients = {name for name, t in templates.items() if "DATABASE_URL" in environment_names(t)}
    egress = base_policy("database-clients")
    assert policy_pod_names(egress["spec"]["podSelector"]) == clients
    (ingress,) = base_policy("database")["spec"]["ingress"]
    assert policy_pod_names(ingress["from"][0]["podSelector"]) == clients
    assert ingress["ports"] == [{"port": 5432, "protocol": "TCP"}]


def test_prometheus_may_scrape_every_service_and_alertmanager_on_their_http_port() -> None:
    policy = base_policy("prometheus-scrapes")
    (expression,) = policy["spec"]["podSelector"]["matchExpressions"]
    components = set(expression["values"])
    templates = pod_templates(built("base"))
    for name in [*SERVICES, "alertmanager"]:
        assert templates[name]["metadata"]["labels"]["app.kubernetes.io/component"] in components
        ports = {p["name"] for c in templates[name]["spec"]["containers"] for p in c["ports"]}
        assert "http" in ports, name
    (rule,) = policy["spec"]["ingress"]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]


def test_only_alertmanager_and_the_broker_facing_services_may_leave_the_cluster() -> None:
    outside = {
        name
        for name, policy in built_objects("base", "NetworkPolicy").items()
        for rule in policy["spec"].get("egress", [])
        if "to" not in rule
        for name in policy_pod_names(policy["spec"]["podSelector"])
    }
    assert outside == {"alertmanager", "market-data", "execution"}


def test_greeks_and_persistence_lose_at_most_one_replica_to_a_drain() -> None:
    budgets = built_objects("overlays/example", "PodDisruptionBudget")
    for service in ("greeks", "persistence"):
        assert budgets[service]["spec"]["maxUnavailable"] == 1


# --- Autoscaling: KEDA on consumer lag -------------------------------------------------------


def scaled_objects() -> dict[str, dict[str, Any]]:
    """The autoscaled overlay's ScaledObjects, by the Deployment each scales."""
    return {
        doc["spec"]["scaleTargetRef"]["name"]: doc
        for doc in built_objects(AUTOSCALED, "ScaledObject").values()
    }


def lag_triggers(service: str) -> list[dict[str, str]]:
    """The metadata of each trigger of ``service``'s ScaledObject."""
    triggers = scaled_objects()[service]["spec"]["triggers"]
    assert {trigger["type"] for trigger in triggers} == {"nats-jetstream"}
    return [trigger["metadata"] for trigger in triggers]


def test_keda_scales_exactly_greeks_and_persistence() -> None:
    deployments = built_objects(AUTOSCALED, "Deployment")
    for service, scaled in scaled_objects().items():
        assert deployments[service]["metadata"]["namespace"] == scaled["metadata"]["namespace"]
    assert set(scaled_objects()) == set(SCALED_SERVICES)


def test_the_scaled_objects_are_valid_against_kedas_crd() -> None:
    for doc in built_objects(AUTOSCALED, "ScaledObject").values():
        assert crd_problems(keda, doc) == []


def test_the_keda_crd_check_rejects_a_misspelt_field_and_a_trigger_without_type() -> None:
    scaled = copy.deepcopy(scaled_objects()["greeks"])
    scaled["spec"]["minReplicas"] = 2
    assert crd_problems(keda, scaled)
    untyped = copy.deepcopy(scaled_objects()["greeks"])
    del untyped["spec"]["triggers"][0]["type"]
    assert crd_problems(keda, untyped)


@pytest.mark.parametrize("service", SCALED_SERVICES)
def test_a_scaled_service_scales_on_the_lag_of_every_durable_it_declares(service: str) -> None:
    declared = {(consumer.stream, consumer.durable) for consumer in topology_of(service).consumers}
    watched = [(trigger["stream"], trigger["consumer"]) for trigger in lag_triggers(service)]
    assert sorted(watched) == sorted(declared)


@pytest.mark.parametrize("service", SCALED_SERVICES)
def test_keda_reads_the_lag_in_the_account_of_the_services(
    service: str, accounts: ModuleType
) -> None:
    assert {trigger["account"] for trigger in lag_triggers(service)} == {accounts.ACCOUNT}


@pytest.mark.parametrize("service", SCALED_SERVICES)
def test_keda_reads_the_lag_from_the_monitoring_port_of_each_nats_server(service: str) -> None:
    """The headless Service resolves to every server, which the scaler needs on a cluster:
    it asks the server that leads each consumer."""
    headless = built_objects("nats", "Service")["nats-headless"]
    assert headless["spec"]["clusterIP"] == "None"
    (nats,) = built_objects("nats", "StatefulSet").values()
    (container,) = nats["spec"]["template"]["spec"]["containers"]
    monitor = {port["name"]: port["containerPort"] for port in container["ports"]}["monitor"]
    address = f"nats-headless.{nats['metadata']['namespace']}.svc.cluster.local:{monitor}"
    endpoints = {trigger["natsServerMonitoringEndpoint"] for trigger in lag_triggers(service)}
    assert endpoints == {address}


def test_the_keda_operator_may_reach_the_nats_monitoring_port() -> None:
    policy = built_objects(AUTOSCALED, "NetworkPolicy")["nats-monitoring-keda"]
    (nats,) = built_objects("nats", "StatefulSet").values()
    assert policy["metadata"]["namespace"] == nats["metadata"]["namespace"]
    assert policy_pod_names(policy["spec"]["podSelector"]) == {"nats"}
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "keda"
    }
    assert rule["ports"] == [{"port": 8222, "protocol": "TCP"}]


def test_an_autoscaled_deployment_leaves_its_replica_count_to_keda() -> None:
    """A fixed count would be set back by every `kubectl apply`, under the autoscaler's feet."""
    deployments = built_objects(AUTOSCALED, "Deployment")
    for service in SCALED_SERVICES:
        assert "replicas" not in deployments[service]["spec"], service


def test_the_autoscaler_keeps_a_replica_serving_while_a_drain_takes_one() -> None:
    budgets = built_objects(AUTOSCALED, "PodDisruptionBudget")
    for service, scaled in scaled_objects().items():
        least = scaled["spec"]["minReplicaCount"]
        assert least - budgets[service]["spec"]["maxUnavailable"] >= 1, service
        assert scaled["spec"]["maxReplicaCount"] > least, service


# --- NATS ------------------------------------------------------------------------------------


def test_accounts_conf_is_what_the_generator_makes_from_the_code(accounts: ModuleType) -> None:
    committed = (DEPLOY / "nats" / "accounts.conf").read_text(encoding="utf-8")
    assert committed == accounts.render(accounts.users()), (
        "deploy/nats/accounts.conf is stale: run `uv run python deploy/nats/generate_accounts.py`"
    )


SERVER_SETTINGS = {"NATS_SERVER_NAME", "NATS_TLS_CERT", "NATS_TLS_KEY"}
"""What nats-server.conf reads from the environment beyond the users' public keys."""
CLUSTER_SETTINGS = SERVER_SETTINGS | {"NATS_TLS_CA", "NATS_ROUTE_PASSWORD"}
"""What nats-cluster.conf reads beyond that."""


def _check_nats_config(
    environment: dict[str, str], config: str = "nats-server.conf"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(nats_server_binary()), "-t", "-c", config],
        cwd=DEPLOY / "nats",
        env={"PATH": os.environ.get("PATH", ""), **environment},
        capture_output=True,
        text=True,
        timeout=30,
    )


def _server_environment(accounts: ModuleType, directory: Path) -> dict[str, str]:
    """What make-env.sh gives the server: every user's public key, a certificate by make-tls.sh."""
    tls = make_tls(directory / "tls")
    keys = accounts.write_nkeys(directory / "nkeys", accounts.users())
    return {
        **dict(line.split("=", 1) for line in keys),
        "NATS_SERVER_NAME": "test",
        "NATS_TLS_CERT": str(tls / "server.pem"),
        "NATS_TLS_KEY": str(tls / "server-key.pem"),
        "NATS_TLS_CA": str(tls / "ca.pem"),
        "NATS_ROUTE_PASSWORD": "not-a-secret",
    }


def test_nats_server_accepts_the_configuration(accounts: ModuleType, tmp_path: Path) -> None:
    result = _check_nats_config(_server_environment(accounts, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_nats_server_accepts_the_cluster_configuration_with_tls_routes(
    accounts: ModuleType, tmp_path: Path
) -> None:
    result = _check_nats_config(_server_environment(accounts, tmp_path), "nats-cluster.conf")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verify: true" in (DEPLOY / "nats" / "nats-cluster.conf").read_text(encoding="utf-8")


def test_nats_server_accepts_the_kubernetes_configuration(
    accounts: ModuleType, tmp_path: Path
) -> None:
    environment = _server_environment(accounts, tmp_path)
    environment["NATS_MONITOR_LISTEN"] = "10.1.2.3:8222"
    result = _check_nats_config(environment, "nats-kubernetes.conf")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_nats_monitoring_port_listens_on_the_loopback_only() -> None:
    """/varz, /connz and /jsz ask no credentials: nothing off the machine (or the container)
    may reach them unless a deployment says so (nats-kubernetes.conf)."""
    conf = (DEPLOY / "nats" / "nats-server.conf").read_text(encoding="utf-8")
    settings = re.findall(r"^\s*(https?(?:_port)?|monitor(?:_port)?)\s*[:=]\s*(\S+)", conf, re.M)
    assert settings == [("http", "127.0.0.1:8222")]
    cluster = (DEPLOY / "nats" / "nats-cluster.conf").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(https?|monitor)(_port)?\s*[:=]", cluster, re.MULTILINE)


def _monitor_host(address: str, monitor_port: int) -> str | None:
    """The host the monitoring port says it listens on, asked at ``address``; None if closed."""
    try:
        url = f"http://{address}:{monitor_port}/varz"
        with urllib.request.urlopen(url, timeout=2) as answer:
            return str(json.load(answer)["http_host"])
    except OSError:
        return None


def _start_nats(directory: Path, config: str, environment: dict[str, str], *arguments: str) -> Any:
    return subprocess.Popen(
        [str(nats_server_binary()), "-c", config, "-p", str(free_port()), *arguments],
        cwd=directory,
        env={**os.environ, **environment, "JS_DIR": str(directory / "jetstream")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for_monitor(address: str, monitor_port: int) -> str | None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if (host := _monitor_host(address, monitor_port)) is not None:
            return host
        time.sleep(0.2)
    return None


@pytest.mark.integration
def test_a_nats_server_of_the_configuration_serves_monitoring_on_the_loopback_address_only(
    accounts: ModuleType, tmp_path: Path
) -> None:
    monitor_port = free_port()
    cluster = f"nats://127.0.0.1:{free_port()}"
    server = _start_nats(
        cluster_configuration_copy(tmp_path),
        "nats-cluster.conf",
        _server_environment(accounts, tmp_path),
        *("-m", str(monitor_port), "--cluster", cluster),
    )
    try:
        assert _wait_for_monitor("127.0.0.1", monitor_port) == "127.0.0.1"
        # another address of the machine (here the loopback's 127.0.0.2) is refused
        assert _monitor_host("127.0.0.2", monitor_port) is None
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.integration
def test_a_nats_server_of_the_kubernetes_configuration_serves_monitoring_on_the_pod_address(
    accounts: ModuleType, tmp_path: Path
) -> None:
    monitor_port = free_port()
    environment = _server_environment(accounts, tmp_path)
    # 127.0.0.2 stands in for the pod's IP
    environment["NATS_MONITOR_LISTEN"] = f"127.0.0.2:{monitor_port}"
    cluster = f"nats://127.0.0.1:{free_port()}"
    server = _start_nats(
        cluster_configuration_copy(tmp_path),
        "nats-kubernetes.conf",
        environment,
        *("--cluster", cluster),
    )
    try:
        assert _wait_for_monitor("127.0.0.2", monitor_port) == "127.0.0.2"
    finally:
        server.terminate()
        server.wait(timeout=30)


def cluster_configuration_copy(directory: Path) -> Path:
    """deploy/nats's files in ``directory`` with JetStream stored under ``$JS_DIR`` (the file's
    /data/jetstream is each pod's volume), all else as is."""
    for name in ("nats-cluster.conf", "nats-kubernetes.conf", "accounts.conf"):
        shutil.copy(DEPLOY / "nats" / name, directory / name)
    server = (DEPLOY / "nats" / "nats-server.conf").read_text(encoding="utf-8")
    stored = server.replace('store_dir: "/data/jetstream"', "store_dir: $JS_DIR")
    assert stored != server
    (directory / "nats-server.conf").write_text(stored, encoding="utf-8")
    return directory


def jetstream_cluster_size(monitor_port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{monitor_port}/jsz", timeout=2) as answer:
            meta = json.load(answer).get("meta_cluster", {})
    except OSError:
        return 0
    return int(meta.get("cluster_size", 0)) if meta.get("leader") else 0


@pytest.mark.integration
def test_three_servers_of_the_cluster_configuration_form_one_jetstream_cluster_over_tls(
    accounts: ModuleType, tmp_path: Path
) -> None:
    environment = _server_environment(accounts, tmp_path)
    config = cluster_configuration_copy(tmp_path)
    route_ports = [free_port() for _ in range(3)]
    monitor_ports = [free_port() for _ in range(3)]
    # the file's routes name the pods of Kubernetes; here they are loopback ports
    routes = ",".join(f"nats://127.0.0.1:{port}" for port in route_ports)
    servers = []
    try:
        for member, (route_port, monitor_port) in enumerate(
            zip(route_ports, monitor_ports, strict=True)
        ):
            arguments = ["-c", "nats-cluster.conf", "-p", str(free_port())]
            arguments += ["-m", str(monitor_port), "--routes", routes]
            arguments += ["--cluster", f"nats://127.0.0.1:{route_port}"]
            member_environment = {
                "NATS_SERVER_NAME": f"member-{member}",
                "JS_DIR": str(tmp_path / f"jetstream-{member}"),
            }
            servers.append(
                subprocess.Popen(
                    [str(nats_server_binary()), *arguments],
                    cwd=config,
                    env={**os.environ, **environment, **member_environment},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        deadline = time.monotonic() + 60
        sizes = [0, 0, 0]
        while time.monotonic() < deadline and sizes != [3, 3, 3]:
            time.sleep(0.5)
            sizes = [jetstream_cluster_size(port) for port in monitor_ports]
        assert sizes == [3, 3, 3]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


def test_nats_server_refuses_to_start_without_the_public_keys(
    accounts: ModuleType, tmp_path: Path
) -> None:
    environment = _server_environment(accounts, tmp_path)
    result = _check_nats_config({k: v for k, v in environment.items() if not k.endswith("_NKEY")})
    assert result.returncode != 0
    assert "_NKEY" in result.stdout + result.stderr


def test_nats_server_requires_tls_of_its_clients() -> None:
    conf = (DEPLOY / "nats" / "nats-server.conf").read_text(encoding="utf-8")
    assert "cert_file: $NATS_TLS_CERT" in conf
    assert "allow_non_tls" not in conf


def test_nats_server_stores_jetstream_on_the_data_volume(compose: dict[str, Any]) -> None:
    conf = (DEPLOY / "nats" / "nats-server.conf").read_text(encoding="utf-8")
    assert 'store_dir: "/data/jetstream"' in conf
    for name in COMPOSE_NATS:
        assert f"{name}-data:/data" in compose["services"][name]["volumes"]


def test_every_service_has_a_nats_user(nats_users: dict[str, Any]) -> None:
    assert set(SERVICES) <= set(nats_users)


def test_market_data_may_publish_market_data_only(nats_users: dict[str, Any]) -> None:
    user = nats_users["market-data"]
    assert may(user, "publish", "md.chain.NIFTY.20261124")
    assert may(user, "publish", "md.vix.INDIAVIX")
    for subject in ("greeks.chain.NIFTY.20261124", "control.killswitch", "exec.order.X", "dlq.md"):
        assert not may(user, "publish", subject), subject


def test_greeks_may_read_market_data_and_publish_greeks_and_dead_letters(
    nats_users: dict[str, Any],
) -> None:
    user = nats_users["greeks"]
    assert may(user, "subscribe", "md.chain.NIFTY.20261124")
    assert may(user, "publish", "greeks.chain.NIFTY.20261124")
    assert may(user, "publish", "dlq.md.chain.NIFTY.20261124")
    for subject in ("md.chain.NIFTY.20261124", "control.killswitch", "risk.decision.X"):
        assert not may(user, "publish", subject), subject


def test_greeks_may_pull_and_ack_from_its_own_durable_only(nats_users: dict[str, Any]) -> None:
    user = nats_users["greeks"]
    assert may(user, "publish", "$JS.API.CONSUMER.INFO.MD.greeks")
    assert may(user, "publish", "$JS.API.CONSUMER.MSG.NEXT.MD.greeks")
    assert may(user, "publish", "$JS.ACK.MD.greeks.1.42.42.1763769600000000000.0")
    assert not may(user, "publish", "$JS.API.CONSUMER.MSG.NEXT.MD.persistence-md-md")
    assert not may(user, "publish", "$JS.ACK.MD.persistence-md-md.1.42.42.1763769600000000000.0")


def test_a_service_may_hear_only_its_own_consumers_max_deliveries_advisories(
    nats_users: dict[str, Any],
) -> None:
    advisory = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"
    user = nats_users["greeks"]
    assert may(user, "subscribe", f"{advisory}.MD.greeks")
    assert not may(user, "subscribe", f"{advisory}.MD.persistence-md-md")


def test_a_service_may_read_a_message_by_sequence_from_the_streams_it_consumes_only(
    nats_users: dict[str, Any],
) -> None:
    user = nats_users["greeks"]
    assert may(user, "publish", "$JS.API.STREAM.MSG.GET.MD")
    assert not may(user, "publish", "$JS.API.STREAM.MSG.GET.TRADING")


def test_persistence_may_pull_from_every_stream_through_its_own_durables(
    accounts: ModuleType, nats_users: dict[str, Any]
) -> None:
    from optbus.subjects import STREAMS

    user = nats_users["persistence"]
    consumers = [(c.stream, c.durable) for c in topology_of("persistence").consumers]
    assert {stream for stream, _ in consumers} == {spec.name for spec in STREAMS}
    for stream, durable in consumers:
        assert may(user, "publish", f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}")
        assert may(user, "publish", f"$JS.ACK.{stream}.{durable}.1.7.7.1763769600000000000.0")
    assert not may(user, "publish", "$JS.API.CONSUMER.MSG.NEXT.MD.greeks")


def test_persistence_publishes_nothing_but_dead_letters(nats_users: dict[str, Any]) -> None:
    user = nats_users["persistence"]
    plain = [pattern for pattern in user.publish if not pattern.startswith("$JS.")]
    assert plain == ["dlq.>"]


def test_persistence_may_subscribe_to_every_stream(nats_users: dict[str, Any]) -> None:
    from optbus.subjects import STREAMS

    user = nats_users["persistence"]
    for spec in STREAMS:
        for subject in spec.subjects:
            assert may(user, "subscribe", subject.replace(">", "any.thing"))


def test_trading_services_may_pull_and_ack_from_their_own_durables_only(
    accounts: ModuleType, nats_users: dict[str, Any]
) -> None:
    inputs = {
        topology.service: [(c.stream, c.subject, c.durable) for c in topology.consumers]
        for topology in map(topology_of, ("strategy", "risk", "execution"))
    }
    assert {durable for _, _, durable in inputs["risk"]} >= {"risk-killswitch"}
    assert {durable for _, _, durable in inputs["execution"]} >= {"execution-killswitch"}
    for service, own in inputs.items():
        user = nats_users[service]
        for stream, _, durable in own:
            assert durable.startswith(f"{service}-"), durable
            assert may(user, "publish", f"$JS.API.CONSUMER.INFO.{stream}.{durable}")
            assert may(user, "publish", f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}")
            assert may(user, "publish", f"$JS.ACK.{stream}.{durable}.1.7.7.1763769600000000000.0")
        for other, theirs in inputs.items():
            if other == service:
                continue
            for stream, _, durable in theirs:
                ack = f"$JS.ACK.{stream}.{durable}.1.7.7.1763769600000000000.0"
                assert not may(user, "publish", ack), (service, durable)


def test_trading_services_may_read_the_trading_log_from_the_start(
    nats_users: dict[str, Any],
) -> None:
    for service, filters in (
        ("strategy", ("exec.position.>", "risk.decision.>")),
        ("risk", ("risk.decision.>", "exec.>")),
        ("execution", ("strategy.intent.>", "risk.decision.>", "exec.>")),
    ):
        user = nats_users[service]
        for subject in filters:
            create = f"$JS.API.CONSUMER.CREATE.TRADING.k3Jd9xQ2.{subject}"
            assert may(user, "publish", create), (service, subject)
        assert may(user, "publish", "$JS.API.CONSUMER.MSG.NEXT.TRADING.k3Jd9xQ2"), service
        assert not may(user, "publish", "$JS.API.CONSUMER.CREATE.MD.k3Jd9xQ2.md.>"), service


def test_each_trading_service_publishes_only_its_own_events(nats_users: dict[str, Any]) -> None:
    strategy, risk, execution = (nats_users[s] for s in ("strategy", "risk", "execution"))
    assert may(strategy, "publish", "strategy.signal.SHORT_STRANGLE.NIFTY")
    assert may(strategy, "publish", "strategy.intent.SHORT_STRANGLE")
    assert may(risk, "publish", "risk.decision.SHORT_STRANGLE")
    assert may(risk, "publish", "risk.circuit_breaker")
    assert may(risk, "publish", "strategy.intent.SHORT_STRANGLE")  # the monitor's closes
    assert may(execution, "publish", "exec.order.new")
    assert may(execution, "publish", "exec.fill")
    assert may(execution, "publish", "strategy.intent.SHORT_STRANGLE")  # a flatten's closes
    for user in (strategy, risk, execution):
        assert may(user, "publish", "dlq.greeks.chain.NIFTY.20261124"), user.name
    assert not may(strategy, "publish", "risk.decision.SHORT_STRANGLE")
    assert not may(strategy, "publish", "exec.fill")
    assert not may(risk, "publish", "exec.fill")
    assert not may(execution, "publish", "risk.decision.SHORT_STRANGLE")
    for user in (strategy, risk, execution):
        assert not may(user, "publish", "md.chain.NIFTY.20261124"), user.name


def test_only_risk_announces_the_kill_switch_and_writes_its_state(
    nats_users: dict[str, Any],
) -> None:
    state = "$KV.optbus_control.killswitch"
    for subject in ("control.killswitch.engaged", "control.killswitch.released", state):
        allowed = {name for name, user in nats_users.items() if may(user, "publish", subject)}
        assert allowed == {"risk"}, subject


def test_execution_and_the_operator_may_read_the_kill_switch_state(
    nats_users: dict[str, Any],
) -> None:
    for name in ("risk", "execution", "operator"):
        user = nats_users[name]
        assert may(user, "publish", "$JS.API.STREAM.INFO.KV_optbus_control"), name
        direct = "$JS.API.DIRECT.GET.KV_optbus_control.$KV.optbus_control.killswitch"
        assert may(user, "publish", direct), name
        assert may(user, "publish", "$JS.API.STREAM.MSG.GET.KV_optbus_control"), name


def test_only_the_default_operator_may_publish_the_plain_kill_switch_subject(
    nats_users: dict[str, Any],
) -> None:
    allowed = {
        name for name, user in nats_users.items() if may(user, "publish", "control.killswitch")
    }
    assert allowed == {"operator"}


def test_only_execution_may_engage_as_reconciliation(nats_users: dict[str, Any]) -> None:
    """Execution engages the switch as operator ``reconciliation`` when a broker and the log
    differ, on that operator's own subject; releasing stays risk's decision."""
    allowed = {
        name
        for name, user in nats_users.items()
        if may(user, "publish", "control.killswitch.reconciliation")
    }
    assert allowed == {"execution"}


def test_a_named_operator_may_publish_on_its_own_kill_switch_subject_only(
    accounts: ModuleType,
) -> None:
    named = {user.name: user for user in accounts.users(("alice", "bob"))}
    alice = named["operator-alice"]
    assert may(alice, "publish", "control.killswitch.alice")
    assert not may(alice, "publish", "control.killswitch.bob")
    assert not may(alice, "publish", "control.killswitch")
    assert not may(named["operator"], "publish", "control.killswitch.alice")


def test_the_operator_may_read_dead_letters_but_not_market_data(
    nats_users: dict[str, Any],
) -> None:
    user = nats_users["operator"]
    assert may(user, "publish", "$JS.API.STREAM.MSG.GET.DLQ")
    assert may(user, "subscribe", "dlq.md.chain.NIFTY.20261124")
    assert not may(user, "publish", "$JS.API.STREAM.MSG.GET.MD")
    assert not may(user, "publish", "md.chain.NIFTY.20261124")


def test_nobody_may_delete_or_purge_a_stream(nats_users: dict[str, Any]) -> None:
    from optbus.subjects import STREAM_NAMES

    for user in nats_users.values():
        for verb in ("DELETE", "PURGE"):
            for stream in STREAM_NAMES:
                assert not may(user, "publish", f"$JS.API.STREAM.{verb}.{stream}"), user.name


def test_every_user_receives_jetstream_replies_on_its_inbox(nats_users: dict[str, Any]) -> None:
    for user in nats_users.values():
        assert may(user, "subscribe", "_INBOX.abc123.def"), user.name


def test_only_the_migrator_may_create_or_update_a_stream_or_bucket(
    nats_users: dict[str, Any],
) -> None:
    from optbus.subjects import STREAM_NAMES

    for stream in (*STREAM_NAMES, "KV_optbus_control", "OBJ_optbus_models"):
        for verb in ("CREATE", "UPDATE"):
            subject = f"$JS.API.STREAM.{verb}.{stream}"
            allowed = {name for name, user in nats_users.items() if may(user, "publish", subject)}
            assert allowed == {"migrator"}, subject


def test_only_the_migrator_may_create_or_update_a_declared_durable(
    nats_users: dict[str, Any],
) -> None:
    for service in SERVICES:
        for c in topology_of(service).consumers:
            for subject in (
                f"$JS.API.CONSUMER.CREATE.{c.stream}.{c.durable}",
                f"$JS.API.CONSUMER.CREATE.{c.stream}.{c.durable}.{c.subject}",
                f"$JS.API.CONSUMER.DURABLE.CREATE.{c.stream}.{c.durable}",
            ):
                allowed = {n for n, user in nats_users.items() if may(user, "publish", subject)}
                assert allowed == {"migrator"}, subject


def test_every_service_may_read_the_info_of_the_durables_it_checks_at_start(
    nats_users: dict[str, Any],
) -> None:
    for service in SERVICES:
        for c in topology_of(service).consumers:
            assert may(
                nats_users[service], "publish", f"$JS.API.CONSUMER.INFO.{c.stream}.{c.durable}"
            )


def test_every_service_may_read_the_info_of_the_streams_it_checks_at_start(
    nats_users: dict[str, Any],
) -> None:
    for service in SERVICES:
        for spec in topology_of(service).streams:
            assert may(nats_users[service], "publish", f"$JS.API.STREAM.INFO.{spec.name}")


def test_the_operator_may_ask_for_end_of_day_training(nats_users: dict[str, Any]) -> None:
    assert may(nats_users["operator"], "publish", "control.eod")


# --- no secrets ------------------------------------------------------------------------------

# the value on the same line: a YAML key holding a mapping (a projected volume's `secret:`) is
# no literal
_ASSIGNED_SECRET = re.compile(
    r"(?i)(?<![\w${])(?:[a-z0-9]+_)*(?:password|passwd|secret|token)\b\s*[:=][ \t]*"
    r"(?P<value>[^\s,;]+)"
)
"""A secret's name, then its value on the same line (a YAML key whose value is a mapping on
the next lines, such as a volume's ``secret:``, assigns nothing)."""
_URL_PASSWORD = re.compile(r"://[^:/@\s]+:(?P<value>[^@\s]+)@")
_PSQL_VARIABLE = re.compile(r":'\w+'")
_REFERENCE = re.compile(r"""^["']?(\$|<|\{\{)""")


def secret_literals(text: str) -> list[str]:
    """Passwords written as values rather than as references ($VAR, ${VAR}, $(VAR), <...>)."""
    text = _PSQL_VARIABLE.sub("$psql", text)
    found = []
    for pattern in (_ASSIGNED_SECRET, _URL_PASSWORD):
        for match in pattern.finditer(text):
            if not _REFERENCE.match(match.group("value")):
                found.append(match.group(0))
    return found


def test_the_secret_check_finds_a_literal_password() -> None:
    assert secret_literals("POSTGRES_PASSWORD: hunter2")
    assert secret_literals("url: postgresql://app:hunter2@db:5432/optbus")
    assert not secret_literals("POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set it}")
    assert not secret_literals("value: nats://greeks:$(NATS_PASSWORD)@$(NATS_ADDRESS)")


@pytest.mark.parametrize(
    "path",
    sorted(
        p
        for p in [*DEPLOY.rglob("*"), *GRAFANA.rglob("*")]
        if p.is_file() and p.suffix != ".json" and p.name != ".env" and "__pycache__" not in p.parts
    ),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_deploy_file_holds_a_secret_value(path: Path) -> None:
    assert secret_literals(path.read_text(encoding="utf-8")) == []


# --- Grafana ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dashboards() -> ModuleType:
    return load_script(GRAFANA / "generate.py")


def test_committed_dashboards_are_what_the_generator_makes_now(dashboards: ModuleType) -> None:
    for path, text in dashboards.rendered().items():
        assert path.exists(), f"{path} is missing: run `make dashboards`"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run `make dashboards`"


def test_no_dashboard_file_is_left_over_from_an_old_generator(dashboards: ModuleType) -> None:
    committed = set((GRAFANA / "dashboards").glob("*.json"))
    assert committed == set(dashboards.rendered())


def test_the_pipeline_dashboard_shows_what_operators_watch(dashboards: ModuleType) -> None:
    import json

    board = json.loads(dashboards.render(dashboards.pipeline()))
    assert board["title"] == "optbus pipeline"
    exprs = " ".join(t["expr"] for p in board["panels"] for t in p.get("targets", []))
    for needle in (
        "optbus_messages_handled_total",
        "optbus_dead_letters_total",
        "histogram_quantile(0.5, sum by (service, consumer, le) (rate(optbus_handler_seconds",
        "histogram_quantile(0.99, sum by (service, consumer, le) (rate(optbus_handler_seconds",
        "histogram_quantile(0.99, sum by (le) (rate(optbus_greeks_chain_pricing_seconds_bucket",
        "sum by (service, type) (rate(optbus_events_published_total",
        'up{job="greeks"}',
        "sum by (broker, le) (rate(optbus_market_data_feed_latency_seconds_bucket",
        "sum by (broker, reason) (increase(optbus_market_data_feed_dropped_total",
        "optbus_market_data_feed_reconnects_total",
        "optbus_market_data_feed_gaps_total",
        "optbus_market_data_feed_stale_contracts_total",
        "optbus_market_data_feed_subscriptions",
    ):
        assert needle in exprs, needle


def test_the_trading_dashboard_shows_the_kill_switch_and_the_flow(dashboards: ModuleType) -> None:
    import json

    board = json.loads(dashboards.render(dashboards.trading()))
    assert board["title"] == "optbus trading"
    exprs = " ".join(t["expr"] for p in board["panels"] for t in p.get("targets", []))
    for needle in (
        'optbus_killswitch_engaged{service="risk"}',
        'optbus_killswitch_engaged{service="execution"}',
        "optbus_killswitch_invalid_commands_total",
        'type=~"Signal|OrderIntent|RiskDecision',
        'type=~"Order|OrderAccepted|OrderRejected|OrderCancelled|Fill"',
    ):
        assert needle in exprs, needle


def test_grafana_loads_the_dashboards_from_where_compose_mounts_them(
    compose: dict[str, Any],
) -> None:
    provider = _yaml(GRAFANA / "provisioning" / "dashboards" / "optbus.yaml")["providers"][0]
    mounts = dict(v.rsplit(":", 2)[:2] for v in compose["services"]["grafana"]["volumes"])
    assert mounts["../grafana/dashboards"] == provider["options"]["path"]
    assert mounts["../grafana/provisioning"] == "/etc/grafana/provisioning"


def test_grafana_queries_the_compose_prometheus(compose: dict[str, Any]) -> None:
    (source,) = _yaml(GRAFANA / "provisioning" / "datasources" / "prometheus.yaml")["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    assert "prometheus" in compose["services"]


# --- backtest sweep --------------------------------------------------------------------------

SWEEP_JOB = K8S / "backtest-sweep-job.yaml"


def _sweep_job() -> tuple[dict[str, Any], dict[str, Any]]:
    (job,) = _yaml_documents(SWEEP_JOB)
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return job, container


def _option_values(args: list[str], option: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args) if arg == option]


def test_the_sweep_job_is_indexed_with_one_completion_per_grid_point() -> None:
    from optbus_backtest.options import BacktestOptions
    from optbus_backtest.sweep import expand_grid, parse_axis

    job, container = _sweep_job()
    axes = [parse_axis(text) for text in _option_values(container["args"], "--sweep")]

    points = expand_grid(BacktestOptions(), axes)

    assert job["kind"] == "Job"
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["completions"] == len(points) > 1
    assert 1 <= job["spec"]["parallelism"] <= len(points)


def test_each_sweep_pod_runs_the_grid_point_of_its_completion_index_and_stores_it() -> None:
    _, container = _sweep_job()
    args = container["args"]
    env = {item["name"]: item for item in container["env"]}

    assert args[0] == "backtest"
    assert _option_values(args, "--sweep-index") == ["$(JOB_COMPLETION_INDEX)"]
    assert "--store" in args
    annotation = env["JOB_COMPLETION_INDEX"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert annotation == "metadata.annotations['batch.kubernetes.io/job-completion-index']"


def test_the_sweep_job_writes_its_files_to_the_writable_tmp_and_stores_as_the_writer() -> None:
    _, container = _sweep_job()
    (out_dir,) = _option_values(container["args"], "--out-dir")
    env = {item["name"]: item for item in container["env"]}

    assert out_dir.startswith("/tmp/")
    assert [m["mountPath"] for m in container["volumeMounts"]] == ["/tmp"]
    assert env["DATABASE_URL"]["value"].startswith("postgresql://optbus_persistence:$(")
    assert env["DATABASE_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "persistence"


def test_the_trainer_may_publish_its_reports_and_models_but_not_trade(
    nats_users: dict[str, Any],
) -> None:
    user = nats_users["trainer"]

    assert may(user, "publish", "control.dq")
    assert may(user, "publish", "model.trained")
    assert may(user, "publish", "model.promoted")
    assert may(user, "publish", "$O.optbus_models.C.lgbm-20261122T035309")
    assert not may(user, "publish", "strategy.intent.short_strangle")


def test_the_operators_file_lists_names_and_ignores_comments(
    accounts: ModuleType, tmp_path: Path
) -> None:
    listed = tmp_path / "operators.txt"
    listed.write_text("# who may engage\nalice\n\nbob  # the night desk\n", encoding="utf-8")

    assert accounts.read_operators(listed) == ("alice", "bob")


@pytest.mark.parametrize("name", ["operator", "reconciliation", "engaged", "a.b"])
def test_the_operators_file_may_not_name_optbus_own_identities_risks_events_or_a_non_token(
    accounts: ModuleType, tmp_path: Path, name: str
) -> None:
    listed = tmp_path / "operators.txt"
    listed.write_text(f"{name}\n", encoding="utf-8")

    with pytest.raises(ValueError, match=r"optbus uses it|subject token|risk's events"):
        accounts.read_operators(listed)
