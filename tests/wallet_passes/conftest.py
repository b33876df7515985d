"""Fixtures for the wallet_passes tests: a development certificate chain, a signer."""

from __future__ import annotations

from pathlib import Path

import pytest

from wallet_passes.apple import PassSigner
from wallet_passes.dev_certs import DevChain, make_dev_chain

PASS_TYPE_ID = "pass.al.happy.card"
TEAM_ID = "HAPPYDEV00"


@pytest.fixture(scope="session")
def dev_chain(tmp_path_factory: pytest.TempPathFactory) -> DevChain:
    return make_dev_chain(tmp_path_factory.mktemp("certs"), PASS_TYPE_ID, TEAM_ID)


@pytest.fixture(scope="session")
def signer(dev_chain: DevChain) -> PassSigner:
    return PassSigner.from_pem(
        dev_chain.pass_cert.read_bytes(),
        dev_chain.pass_key.read_bytes(),
        dev_chain.wwdr_cert.read_bytes(),
    )


@pytest.fixture
def certs_dir(dev_chain: DevChain) -> Path:
    return dev_chain.root_cert.parent
