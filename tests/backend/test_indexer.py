"""The token index on a real anvil node: owners, projects and traits from the logs; it survives a
reorg (rows from replaced blocks are undone) and a restart (it goes on where it stopped)."""

import json

import pytest
from ape import accounts

from backend.chain.client import StyleMintClient
from backend.chain.indexer import TokenIndex
from backend.dev import ape_contract as core
from tests.oracle.conftest import sample_chain, env  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e


def rpc(client, method, *params):
    reply = client.w3.provider.make_request(method, list(params))
    assert "error" not in reply, reply
    return reply["result"]


def fulfill_with_traits(sample, store, token_id, colour):
    document = {"name": f"token {token_id}", "attributes": [{"trait_type": "Colour", "value": colour},
                                                           {"trait_type": "Project", "value": "Sample"}]}
    cid = store.add(json.dumps(document).encode())
    core.fulfill(sample.contract, token_id, bytes([token_id % 250 + 1]) * 32, cid, accounts.test_accounts[1])


def index_for(env, sample, store):  # noqa: F811
    client = StyleMintClient(sample.deployment.rpc_url, sample.deployment.address)
    metadata = lambda cid: json.loads(store.get(cid)) if store.has(cid) else None  # noqa: E731
    return client, TokenIndex(env / "index.sqlite", client, start_block=sample.deployment.block_number,
                              chunk=7, metadata=metadata)


def assert_matches_chain(index, client, sample):
    """Every token the chain has is indexed with its owner, and nothing else is."""
    minted = int(client.project_info(sample.project_id)["invocations"])
    indexed, total = index.project_tokens(sample.project_id, limit=1_000)
    on_chain = {}
    for invocation in range(minted):
        token_id = sample.project_id * 1_000_000 + invocation
        try:
            on_chain[token_id] = client.view("ownerOf", token_id).lower()
        except Exception:  # noqa: BLE001 - burned
            continue
    assert {t["token_id"]: t["owner"] for t in indexed} == on_chain and total == len(on_chain)


def test_owners_projects_and_traits_follow_the_chain(sample_chain, env):  # noqa: F811
    node, sample, store = sample_chain
    alice, bob, carol = accounts.test_accounts[4:7]
    mints = [core.mint(sample.contract, who, sample.project_id) for who in (alice, bob, alice)]
    mints.append(core.mint(sample.contract, bob, sample.project_id, to=carol))  # bob pays, carol owns
    sample.contract.transferFrom(alice, bob, mints[0].token_id, sender=alice)
    for mint, colour in zip(mints[:3], ("red", "blue", "red")):
        fulfill_with_traits(sample, store, mint.token_id, colour)
    client, index = index_for(env, sample, store)
    applied = index.sync()
    # Mint and Transfer per token, one transfer, three fulfilments with their SaleSettled each
    assert applied == 4 + 4 + 1 + 3 + 3
    ids = [m.token_id for m in mints]
    assert index.tokens_of(alice.address) == [ids[2]]
    assert index.tokens_of(bob.address.upper().replace("0X", "0x")) == [ids[0], ids[1]]
    red, total = index.project_tokens(sample.project_id, traits={"Colour": "red"})
    assert [t["token_id"] for t in red] == [ids[0], ids[2]] and total == 2
    assert index.trait_values(sample.project_id)["Colour"] == {"blue": 1, "red": 2}
    token = index.token(ids[3])
    assert token["owner"] == carol.address.lower() and token["fulfilled_block"] is None and token["traits"] == {}
    price = int(client.project_price(sample.project_id)[1])
    # The purchase: the price escrowed and who paid it; no sale settled before fulfilment.
    assert (token["price_wei"], token["payer"], token["sale"]) == (price, bob.address.lower(), None)
    settled = [log["args"] for log in client.contract_logs(0, client.head(), ("SaleSettled",))]
    assert len(settled) == 3
    for args in settled:
        sale = index.token(int(args["tokenId"]))["sale"]
        assert sale == {"price_wei": price, "artist_wei": int(args["artistAmount"]),
                        "platform_wei": int(args["platformAmount"])}
        assert 0 < sale["platform_wei"] < sale["artist_wei"] <= price
    assert index.token(ids[1])["payer"] == bob.address.lower()
    assert index.token(ids[0])["traits"] == {"Colour": "red", "Project": "Sample"}
    page, total = index.project_tokens(sample.project_id, limit=2, offset=2)
    assert [t["token_id"] for t in page] == ids[2:] and total == 4
    assert_matches_chain(index, client, sample)


def test_a_reorg_is_undone_and_a_restart_goes_on(sample_chain, env):  # noqa: F811
    node, sample, store = sample_chain
    alice, bob = accounts.test_accounts[4:6]
    first = core.mint(sample.contract, alice, sample.project_id)
    client, index = index_for(env, sample, store)
    index.sync()
    snapshot = rpc(client, "evm_snapshot")
    # On the branch that will be replaced: two more mints, a transfer and a fulfillment.
    dropped = [core.mint(sample.contract, bob, sample.project_id) for _ in range(2)]
    sample.contract.transferFrom(alice, bob, first.token_id, sender=alice)
    fulfill_with_traits(sample, store, dropped[0].token_id, "red")
    index.sync()
    assert index.tokens_of(bob.address) == [first.token_id, *[d.token_id for d in dropped]]
    # The reorg: back to the snapshot, then a different history of more blocks.
    rpc(client, "evm_revert", snapshot)
    client.mine_dev_blocks(15)
    replacement = core.mint(sample.contract, alice, sample.project_id)  # takes the dropped token's id
    assert replacement.token_id == dropped[0].token_id
    index.sync()
    assert index.tokens_of(bob.address) == []
    assert index.tokens_of(alice.address) == [first.token_id, replacement.token_id]
    assert index.token(replacement.token_id)["fulfilled_block"] is None
    assert index.token(replacement.token_id)["traits"] == {}
    assert index.token(dropped[1].token_id) is None
    assert_matches_chain(index, client, sample)
    # A restart reads only what is new.
    next_block = index.next_block()
    index.close()
    client, index = index_for(env, sample, store)
    assert index.next_block() == next_block and index.sync() == 0
    core.mint(sample.contract, bob, sample.project_id)
    assert index.sync() == 2  # its Mint and Transfer, nothing read twice
    assert_matches_chain(index, client, sample)


def test_an_index_file_belongs_to_one_contract(sample_chain, env):  # noqa: F811
    node, sample, store = sample_chain
    client, index = index_for(env, sample, store)
    index.close()
    other = StyleMintClient(node.url, "0x" + "11" * 20)
    with pytest.raises(ValueError, match="indexes contract"):
        TokenIndex(env / "index.sqlite", other)


def test_an_index_of_an_older_schema_is_read_again(sample_chain, env):  # noqa: F811
    """A file written before the purchase columns existed is emptied and rebuilt from the chain,
    not left failing on a missing column (or answering without prices)."""
    import sqlite3

    node, sample, store = sample_chain
    alice = accounts.test_accounts[4]
    token_id = core.mint(sample.contract, alice, sample.project_id).token_id
    client, index = index_for(env, sample, store)
    index.sync()
    index.close()
    old = sqlite3.connect(env / "index.sqlite", isolation_level=None)
    old.execute("DELETE FROM meta WHERE key = 'schema'")  # as version 1 wrote it
    old.execute("ALTER TABLE tokens DROP COLUMN payer")
    old.close()
    client, index = index_for(env, sample, store)
    assert index.next_block() == sample.deployment.block_number
    assert index.token(token_id) is None
    assert index.sync() == 2
    assert index.token(token_id)["payer"] == alice.address.lower()
