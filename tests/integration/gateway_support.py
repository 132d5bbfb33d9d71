"""The whole system in the test process on the real broker (the test's own
vhost, a fresh store), the gateway on a free local port, and staff accounts
with known passwords made through the staff service itself."""
from __future__ import annotations

import re
import socket

import pytest
import requests

import contracts
from services import catalogue
from services.gateway.service import GatewayService

PASSWORD = "Desk-pass-2026!"
STAFF = {  # staff id -> (name, roles)
    "wang.fang": ("王芳", ["clerk"]),
    "zhou.min": ("周敏", ["clerk"]),
    "li.cai": ("李彩", ["finance"]),
    "zhao.shen": ("赵审", ["auditor"]),
    "root.admin": ("管理员", ["admin"]),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def csrf_of(response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert found, f"no CSRF token in the page {response.url}"
    return found.group(1)


class System:
    def __init__(self, url, store_uri, rpc_as):
        self.url, self.store_uri, self._rpc_as = url, store_uri, rpc_as

    def head(self) -> int:
        from services.eventstore import open_store
        with open_store(self.store_uri) as store:
            return store.head().position

    def api(self, path, body=None, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.post(self.url + path, json=body, headers=headers, timeout=30, **kwargs)

    def token(self, staff_id, desk="main-gate") -> str:
        response = self.api("/api/login", {"staff_id": staff_id, "password": PASSWORD, "desk": desk})
        assert response.status_code == 200, response.text
        return response.json()["token"]

    def browser(self, staff_id=None, desk="main-gate", language=None) -> requests.Session:
        """A cookie jar like a browser's, logged in as ``staff_id`` unless None."""
        session = requests.Session()
        if language:
            session.cookies.set("vsc_lang", language)
        if staff_id:
            page = session.get(self.url + "/login", timeout=30)
            response = session.post(self.url + "/login", data={
                "csrf_token": csrf_of(page), "staff_id": staff_id, "password": PASSWORD, "desk": desk,
                "next": "/"}, timeout=30)
            assert response.status_code == 200 and response.url.rstrip("/") == self.url, response.text[-500:]
        return session


def start_system(runner_factory, service_config, rpc_as, **settings) -> System:
    port = free_port()
    config = dict(service_config, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", GATEWAY_RPC_TIMEOUT_SECONDS=20,
                  **{key: value for key, value in settings.items()})
    runner = runner_factory(config, *catalogue.serving(contracts.registry.rpcs), GatewayService)
    runner.start()
    system = System(f"http://127.0.0.1:{port}", service_config["EVENT_STORE_URI"], rpc_as)
    with rpc_as("admin", staff_id="admin", name="管理员") as rpc:
        for staff_id, (name, roles) in STAFF.items():
            one_time = rpc.staff.add_staff({"staff_id": staff_id, "display_name": name, "roles": roles})
            first = requests.post(system.url + "/api/login", json={"staff_id": staff_id,
                                                                 "password": one_time["one_time_password"]},
                                  timeout=30).json()
            changed = requests.post(system.url + "/api/staff/change_own_password",
                                    json={"current_password": one_time["one_time_password"],
                                          "new_password": PASSWORD},
                                    headers={"Authorization": f"Bearer {first['token']}"}, timeout=30)
            assert changed.status_code == 200, changed.text
    return system


@pytest.fixture
def system(runner_factory, service_config, rpc_as):
    return start_system(runner_factory, service_config, rpc_as)
