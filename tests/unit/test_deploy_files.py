"""The production shape as files: docker-compose.yml refuses to run without
its secrets, pins every image exactly, caps its logs and turns MongoDB's
authentication on; the production image gets the runtime pins only."""
import os
import re
import shutil
import subprocess
import sys
import tomllib

import pytest
import yaml

from tests.conftest import ROOT

SECRETS = ["RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS", "MONGO_INITDB_ROOT_USERNAME",
           "MONGO_INITDB_ROOT_PASSWORD", "PRINCIPAL_PUBLIC_KEY_FILE", "PRINCIPAL_SIGNING_KEY_FILE",
           "PRIVACY_MASTER_KEY_FILE"]
DUMMY = {name: f"ci-{name.lower()}" for name in SECRETS}
TEST_ONLY = ["pytest", "hypothesis", "mongomock", "playwright", "eventsourcing"]


def read(name: str) -> str:
    with open(os.path.join(ROOT, name), encoding="utf-8") as handle:
        return handle.read()


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(read("docker-compose.yml"))


def pins(name: str) -> dict[str, str]:
    found = {}
    for line in read(name).splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            package, version = line.split("==")
            found[package.strip().lower()] = version.strip()
    return found


def test_every_secret_is_required_and_none_has_a_default():
    text = read("docker-compose.yml")
    uses = re.findall(r"\$\{(" + "|".join(SECRETS) + r")([^}]*)\}", text)
    assert {name for name, _ in uses} == set(SECRETS)
    assert [(name, rest) for name, rest in uses if not rest.startswith(":?")] == []
    assert "change-me" not in text


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")
@pytest.mark.parametrize("missing", [None, *SECRETS])
def test_compose_validates_with_every_secret_and_refuses_without_any_one(missing, tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in SECRETS}
    env.update({name: value for name, value in DUMMY.items() if name != missing})
    (tmp_path / "empty.env").write_text("")  # keeps a developer's .env out of it
    result = subprocess.run(["docker-compose", "-f", "docker-compose.yml", "--env-file", str(tmp_path / "empty.env"),
                             "config", "-q"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    if missing is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0 and missing in result.stderr


def test_every_image_is_pinned_to_an_exact_version_and_the_app_to_the_project_version(compose):
    version = tomllib.loads(read("pyproject.toml"))["project"]["version"]
    images = {name: service["image"] for name, service in compose["services"].items()}
    for name, image in images.items():
        assert re.fullmatch(r"[a-z0-9./-]+:\d+\.\d+\.\d+(-[a-z0-9.-]+)?", image), (name, image)
    app = {name: image for name, image in images.items() if image.startswith("visitor-service-center:")}
    assert set(app) >= {"duty_log", "lost_and_found", "forms", "relay", "tests"}
    assert {image.split(":")[1] for name, image in app.items() if name != "tests"} == {version}
    assert app["tests"] == f"visitor-service-center:{version}-tests"
    assert re.search(r"^FROM python:3\.11\.\d+-slim", read("Dockerfile"), re.M)


def test_every_container_caps_its_log(compose):
    for name, service in compose["services"].items():
        logging = service.get("logging", {})
        assert logging.get("driver") == "json-file", name
        assert logging["options"].get("max-size") and logging["options"].get("max-file"), name


def test_mongodb_runs_with_authentication_and_the_app_connects_with_credentials(compose):
    mongo = compose["services"]["mongo"]
    assert "--keyFile" in mongo["command"]
    assert set(mongo["environment"]) == {"MONGO_INITDB_ROOT_USERNAME", "MONGO_INITDB_ROOT_PASSWORD"}
    for name in ("duty_log", "lost_and_found", "forms", "relay"):
        uri = compose["services"][name]["environment"]["EVENT_STORE_URI"]
        assert re.match(r"mongodb://\$\{MONGO_INITDB_ROOT_USERNAME:\?[^}]*\}:\$\{MONGO_INITDB_ROOT_PASSWORD:\?[^}]*\}@",
                        uri), name
        assert "authSource=admin" in uri and "replicaSet=rs0" in uri


def test_the_production_stage_gets_the_runtime_pins_only():
    runtime, test_only = pins("requirements.lock"), pins("requirements-test.lock")
    assert not set(runtime) & set(test_only)
    assert [name for name in TEST_ONLY if name in runtime] == []
    assert all(name in test_only for name in TEST_ONLY)
    stages = re.split(r"^FROM ", read("Dockerfile"), flags=re.M)[1:]
    last = stages[-1]
    assert last.startswith("runtime AS production")
    runtime_stage = next(stage for stage in stages if " AS runtime" in stage.splitlines()[0])
    assert "requirements-test.lock" not in runtime_stage and "requirements-test.lock" not in last


def modules_of_test_only_pins() -> list[str]:
    """The import names of every package pinned in requirements-test.lock
    (and of what only they need), from the installed distributions' metadata."""
    import importlib.metadata as metadata
    pinned = {line.split("==")[0].strip().lower().replace("_", "-")
              for line in read("requirements-test.lock").splitlines() if "==" in line and not line.startswith("#")}
    runtime = {line.split("==")[0].strip().lower().replace("_", "-")
               for line in read("requirements.lock").splitlines() if "==" in line and not line.startswith("#")}
    modules = {module for module, dists in metadata.packages_distributions().items()
               if all(dist.lower().replace("_", "-") in pinned - runtime for dist in dists)}
    return sorted(modules | set(TEST_ONLY))


def runtime_modules() -> list[str]:
    """Every module of the runtime packages (contracts, services), tests and bench aside."""
    found = []
    for package in ("contracts", "services"):
        for folder, _dirs, files in os.walk(os.path.join(ROOT, package)):
            for name in files:
                if name.endswith(".py") and name != "__main__.py":
                    relative = os.path.relpath(os.path.join(folder, name), ROOT)[:-3]
                    found.append(relative.replace(os.sep, ".").removesuffix(".__init__"))
    return sorted(found)


def test_every_process_imports_without_the_test_only_packages():
    blocked = modules_of_test_only_pins()
    assert {"pytest", "hypothesis", "mongomock"} <= set(blocked) and "nameko" not in blocked
    blocker = (
        "import sys, importlib, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        f"        if name.split('.')[0] in {blocked!r}:\n"
        "            raise ModuleNotFoundError('test-only package ' + name)  # as when absent\n"
        "sys.meta_path.insert(0, Block())\n"
        "import eventlet; eventlet.monkey_patch()\n"
        "import nameko.cli.main, nameko.cli.run\n"
        f"for module in {runtime_modules()!r}: importlib.import_module(module)\n"
        "import services.chassis.logging as l; l.configure(); l.get_logger().debug('x')\n"
    )
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", blocker], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def quiet_warnings() -> str:
    sys.path.insert(0, os.path.join(ROOT, "deploy"))
    try:
        import run_local
    finally:
        sys.path.pop(0)
    return run_local.QUIET_WARNINGS


def test_nameko_starts_without_deprecation_banners_but_other_warnings_still_show():
    nameko = [os.path.join(os.path.dirname(sys.executable), "nameko"), "run", "--config",
              os.path.join("deploy", "config.yaml"), "tests.no_such_module"]
    base = {key: value for key, value in os.environ.items() if key != "PYTHONWARNINGS"}
    loud = subprocess.run(nameko, cwd=ROOT, env=base, capture_output=True, text=True, timeout=60)
    assert "Eventlet is deprecated" in loud.stderr  # what a newcomer met
    quiet_env = dict(base, PYTHONWARNINGS=quiet_warnings())
    quiet = subprocess.run(nameko, cwd=ROOT, env=quiet_env, capture_output=True, text=True, timeout=60)
    assert "No module named 'tests.no_such_module'" in quiet.stdout  # it did start, and got that far
    assert "deprecated" not in (quiet.stdout + quiet.stderr).lower()
    ours = subprocess.run([sys.executable, "-c", "import warnings; warnings.warn('a warning of ours')"],
                          cwd=ROOT, env=quiet_env, capture_output=True, text=True, timeout=60)
    assert "UserWarning: a warning of ours" in ours.stderr


def test_the_services_launcher_starts_without_banners_and_names_a_missing_module():
    # services.chassis.run: nameko's runner without its CLI (which imports pkg_resources)
    base = {key: value for key, value in os.environ.items() if key != "PYTHONWARNINGS"}
    started = subprocess.run([sys.executable, "-m", "services.chassis.run", "--config",
                              os.path.join("deploy", "config.yaml"), "tests.no_such_module"],
                             cwd=ROOT, env=base, capture_output=True, text=True, timeout=60)
    assert started.returncode == 2
    assert started.stderr.strip() == "Error: No module named 'tests.no_such_module'"
    assert "deprecated" not in started.stdout.lower()


def test_every_service_is_started_by_the_launcher_without_nameko_s_cli(compose):
    commands = [service["command"] for service in compose["services"].values()
                if "services.chassis.run" in str(service.get("command"))]
    assert len(commands) >= 5 and all(command[:3] == ["python", "-m", "services.chassis.run"] for command in commands)
    assert not [name for name, service in compose["services"].items() if "nameko" in str(service.get("command"))]


def test_the_image_silences_the_same_warnings_as_the_runner():
    assert f'PYTHONWARNINGS="{quiet_warnings()}"' in read("Dockerfile")


def test_only_the_staff_container_holds_the_principal_signing_key(compose):
    holders = {name for name, service in compose["services"].items()
               if "principal_signing_key" in (service.get("secrets") or [])}
    assert holders == {"staff"}
    assert "PRINCIPAL_SIGNING_KEY_FILE" not in compose["x-app-env"]
    services = {name for name, service in compose["services"].items()
                if "services.chassis.run" in str(service.get("command"))}
    assert services >= {"staff", "duty_log", "lost_and_found", "forms"}
    assert all("principal_public_key" in compose["services"][name]["secrets"] for name in services)
