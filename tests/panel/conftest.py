"""Fixtures of the panel's tests: a real ledger world, a LedgerLine, users, the app and a logged-in client."""

from __future__ import annotations

import pytest

from factory.panel import LedgerLine, UserStore, create_app

from panel_world import PASSWORD, USERS, TestClient, build_world, login


@pytest.fixture(scope="module")
def world(config, tmp_path_factory):
    w = build_world(config, tmp_path_factory.mktemp("panel"))
    yield w
    w.ledger.close()


@pytest.fixture(scope="module")
def users(world):
    store = UserStore.open(world.ledger.path)
    for name, role in USERS.items():
        if store.get(name) is None:
            store.add(name, role, PASSWORD, by="test")
    yield store
    store.close()


@pytest.fixture(scope="module")
def line(world):
    return LedgerLine(world.config, world.ledger, clock=world.clock, blanks_in_store={"booklet": 5000, "card": 3000})


@pytest.fixture(scope="module")
def app(world, users, line):
    return create_app(world.config, world.ledger, line, users=users, clock=world.clock,
                      media_dir=world.root / "media", ledger_lock=line.lock)


@pytest.fixture()
def client_for(app):
    clients = []

    def make(name: str | None = None) -> TestClient:
        client = TestClient(app, base_url="http://127.0.0.1")
        clients.append(client)
        if name is not None:
            assert login(client, name).status_code == 303
        return client

    yield make
    for c in clients:
        c.close()
