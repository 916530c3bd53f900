"""Fixtures for the contract tests: ape's in-process provider, named roles and a deployed core.

ape snapshots the chain around every fixture scope, so each test starts from the state its
fixtures built and nothing leaks between tests.
"""

import hashlib

import pytest

PRICE = 10**17  # 0.1 ETH
MAX_EDITIONS = 5
MANIFEST_CID = "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
MANIFEST_HASH = hashlib.sha256(b"sample manifest").digest()
PLACEHOLDER = "ipfs://bafkreiplaceholder"
METADATA_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"


@pytest.fixture(scope="session")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def oracle(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def platform(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def artist(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def collector(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def stranger(accounts):
    return accounts[5]


@pytest.fixture(scope="module")
def stylemint(project, admin, platform, oracle, artist, collector, stranger):
    # Every role is requested here so that ape's isolation sees them before any module fixture.
    return admin.deploy(project.StyleMint, admin, platform, oracle, PLACEHOLDER)


@pytest.fixture
def project_id(stylemint, artist):
    """An open (unpaused) project: PRICE, MAX_EDITIONS editions."""
    receipt = stylemint.createProject("Tidal Glass", MANIFEST_CID, MANIFEST_HASH, PRICE, MAX_EDITIONS, sender=artist)
    pid = receipt.decode_logs(stylemint.ProjectCreated)[0].projectId
    stylemint.setProjectPaused(pid, False, sender=artist)
    return pid


@pytest.fixture
def minted(stylemint, project_id, collector):
    """The first token of the open project."""
    stylemint.mint(project_id, sender=collector, value=PRICE)
    return project_id * 1_000_000


@pytest.fixture
def mint_position(minted, chain):
    """(block number, block hash) of the `minted` token's mint: what `fulfill` names."""
    head = chain.blocks.head
    return head.number, bytes(head.hash)


def credits_total(stylemint, payees):
    return sum(stylemint.creditOf(p) for p in payees)
