"""Fixtures for the contract tests: ape's in-process provider, named roles and a deployed core.

ape snapshots the chain around every fixture scope, so each test starts from the state its
fixtures built and nothing leaks between tests.
"""

import hashlib
from contextlib import contextmanager

import pytest

from backend.chain import settlement
from backend.chain.settlement import Commitment
from backend.dev import ape_contract as core
from backend.ipfs.cid import raw_digest

PRICE = 10**17  # 0.1 ETH
MAX_EDITIONS = 5
MANIFEST_CID = "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
MANIFEST_HASH = hashlib.sha256(b"sample manifest").digest()
PLACEHOLDER = "ipfs://bafkreiplaceholder"
METADATA_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
METADATA_DIGEST = raw_digest(METADATA_CID)
SEED = bytes(range(1, 33))


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
    return deploy_core(admin, platform, oracle)


RANDOMNESS_DELAY = 2
REFUND_DELAY = 20


def deploy_core(admin, platform, oracle, *, deployer=None, admin_delay=0, randomness_delay=RANDOMNESS_DELAY,
                refund_delay=REFUND_DELAY, weak=True, placeholder=PLACEHOLDER, style_registry=None, oracles=None,
                threshold=1):
    """The in-process test chain (py-evm) has prevrandao 0, which the contract rightly refuses
    unless told the chain's randomness is weak; the anvil tests deploy without the flag."""
    return core.deploy(deployer or admin, admin=admin, payout=platform, oracle=oracle, placeholder=placeholder,
                       randomness_delay=randomness_delay, refund_delay=refund_delay,
                       admin_transfer_delay=admin_delay, accept_weak_randomness=weak, style_registry=style_registry,
                       oracles=oracles, threshold=threshold)


@pytest.fixture(scope="module")
def minter(stylemint):
    """The deployment's fixed-price minter (approved by the admin at deployment)."""
    return core.set_price_minter(stylemint)


def open_project(stylemint, minter, artist, admin, *, price=PRICE, max_editions=MAX_EDITIONS,
                 manifest_hash=MANIFEST_HASH, name="Tidal Glass", unpause=True, approve=True) -> int:
    """A project sold by `minter` at `price`, unpaused and approved unless told otherwise."""
    receipt = stylemint.createProject(name, MANIFEST_CID, manifest_hash, max_editions, sender=artist)
    pid = receipt.decode_logs(stylemint.ProjectCreated)[0].projectId
    stylemint.setProjectMinter(pid, minter, sender=artist)
    minter.setPrice(pid, price, sender=artist)
    if unpause:
        stylemint.setProjectPaused(pid, False, sender=artist)
    if approve:
        stylemint.approveProject(pid, manifest_hash, stylemint.stylesConfigHash(pid), sender=admin)
    return pid


def create_project(contract, artist, name, cid, manifest_hash, price, max_editions):
    """`createProject`, then the fixed-price minter at `price`: what opening a priced project takes."""
    receipt = contract.createProject(name, cid, manifest_hash, max_editions, sender=artist)
    pid = receipt.decode_logs(contract.ProjectCreated)[0].projectId
    minter = core.set_price_minter(contract)
    contract.setProjectMinter(pid, minter, sender=artist)
    minter.setPrice(pid, price, sender=artist)
    return receipt


def set_price(contract, project_id, price, artist):
    """The artist's new price on the project's minter."""
    return core.project_minter(contract, project_id).setPrice(project_id, price, sender=artist)


@pytest.fixture
def project_id(stylemint, minter, artist, admin):
    """An open (unpaused) project: PRICE, MAX_EDITIONS editions."""
    return open_project(stylemint, minter, artist, admin)


@pytest.fixture
def minted(stylemint, project_id, collector):
    """The first token of the open project."""
    return mint_token(stylemint, project_id, collector)


def mint_token(stylemint, project_id, sender, *, value=PRICE, manifest_hash=MANIFEST_HASH) -> int:
    """Buy the next edition from the project's minter, paying `value`."""
    receipt = core.project_minter(stylemint, project_id).purchase(project_id, manifest_hash, sender=sender, value=value)
    return int(receipt.decode_logs(stylemint.Mint)[0].tokenId)


def randomness_block(stylemint, chain, token_id) -> tuple[int, bytes]:
    """(number, hash) of the token's randomness block, mining up to it first: what `fulfill` names."""
    number = stylemint.escrowOf(token_id)[0] + stylemint.RANDOMNESS_DELAY()
    if chain.blocks.head.number < number:
        chain.mine(number - chain.blocks.head.number)
    return number, bytes(chain.blocks[number].hash)


PROMPT = "a study of tidal glass at dawn"


def commit(stylemint, chain, token_id, *, seed=SEED, digest=METADATA_DIGEST, weights=(), prompt=PROMPT,
           randomness_hash=None, mint_hash=None) -> Commitment:
    """The token's commitment as its oracles would sign it (mining up to its randomness block)."""
    number, block_hash = randomness_block(stylemint, chain, token_id)
    if mint_hash is None:
        mint_hash = bytes(chain.blocks[number - stylemint.RANDOMNESS_DELAY()].hash)
    return Commitment.of(token_id, seed, digest, prompt, weights, mint_hash, randomness_hash or block_hash)


def signatures(stylemint, commitments, signers) -> list[bytes]:
    """Each signer's signature over the settlement of `commitments`, ascending by signer as the contract wants."""
    domain = core.settlement_domain(stylemint)
    return settlement.in_signer_order({str(s.address): settlement.sign(s.private_key, domain, commitments)
                                       for s in signers})


def submit(stylemint, commitments, signers, sender=None):
    """`fulfillBatch` of `commitments` signed by `signers`, sent by `sender` (default: the first signer)."""
    return stylemint.fulfillBatch([c.request() for c in commitments], signatures(stylemint, commitments, signers),
                                  sender=sender or signers[0])


def proof_of(stylemint, commitments, index, signed) -> bytes:
    """The ERC-7007 proof of `commitments[index]` in the settlement `signed` covers."""
    hashes = [bytes(stylemint.fulfilmentHash(c.request())) for c in commitments]
    return settlement.proof(commitments, index, signed, hashes)


def fulfill(stylemint, chain, oracle, token_id, *, seed=SEED, digest=METADATA_DIGEST, weights=(), signers=None,
            sender=None):
    """Settle one token, signed by `signers` (default: the deployment's one oracle)."""
    commitment = commit(stylemint, chain, token_id, seed=seed, digest=digest, weights=weights)
    return submit(stylemint, [commitment], signers or [oracle], sender or oracle)


def sell(stylemint, chain, oracle, project_id, sender, *, value=PRICE) -> int:
    """Mint and fulfill: the sale is complete and its split credited."""
    token_id = mint_token(stylemint, project_id, sender, value=value)
    fulfill(stylemint, chain, oracle, token_id)
    return token_id


@contextmanager
def isolated(chain):
    """Undo a block of chain changes afterwards. ape's `chain.isolate()` does this too, but it also
    swallows every exception raised inside it (ape 0.8): a failing assertion there passes."""
    snapshot = chain.snapshot()
    try:
        yield
    finally:
        chain.restore(snapshot)


def credits_total(stylemint, payees):
    return sum(stylemint.creditOf(p) for p in payees)
