"""Gas figures of the StyleMint core on a real anvil node; prints `key: value` lines.

    make bench            (or: .venv/bin/python bench/gas.py [--mints 100] [--accounts 5])

Mints come from several accounts (the first mint of an account pays for its balance slot, later
ones do not); each holds its price in escrow until fulfillment, which credits the 90/10 split.
`oz_safemint_gas` is a bare OpenZeppelin ERC721 `_safeMint` to a fresh account, measured in the
same run as the floor. `fulfill_batch10_gas_per_token` is one `fulfillBatch` of ten tokens of one
project divided by ten; `fulfill_batch1_gas` a batch of one (how the oracle sends a lone token)
and `fulfill_batch1_skipped_gas` one whose token was already fulfilled (skipped, no revert); `lifecycle_gas_per_token` is the median mint plus that. The `blend_*`
figures are the same for a project blending two registered styles (30 % of the artist's 90 % to
the styles), where every mint checks both styles and every fulfillment pays their owners by weight.
Every mint goes through the fixed-price minter (`set_price_mint_gas_median` is `mint_gas_median`);
`merkle_mint_gas_median` is an allowlist sale's (a proof, and the per-address count written);
`core_deployed_bytes` is the core's runtime code (the EIP-170 limit is 24,576).
`da_settlement_mint_gas_median` is a purchase at the Dutch auction with settlement (the price read,
the buyer's receipt written, the base price escrowed in the core; the sell-out purchase that
also settles is `da_settlement_sellout_mint_gas`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.config import ensure_toolchain_env  # noqa: E402

ensure_toolchain_env()

from backend.dev import ape_contract as core  # noqa: E402
from backend.dev.anvil import Anvil  # noqa: E402

METADATA_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"  # 59 chars, CIDv1 base32
# A rendered prompt as long as the sample projects' (it travels in calldata and in AigcData).
PROMPT = "one amber triangle on a light ground, stipple style, inkline style"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mints", type=int, default=100)
    parser.add_argument("--accounts", type=int, default=5)
    args = parser.parse_args()

    from ape import accounts, networks

    with Anvil(accounts=max(10, args.accounts + 5)) as node, \
            networks.ethereum.local.use_provider("foundry", provider_settings={"host": node.url}):
        admin, oracle, second, platform, artist, *collectors = accounts.test_accounts[: args.accounts + 5]
        signers = [oracle, second]  # M = 2 of these two oracles sign every settlement
        figures: dict[str, int | float | str] = {"node": f"anvil {node.url}", "oracle_quorum": "2 of 2"}

        registry = admin.deploy(core.ape_project().StyleRegistry)
        figures["style_registry_deploy_gas"] = registry.creation_metadata.receipt.gas_used
        stylemint = core.deploy(admin, payout=platform, oracles=signers, threshold=2, style_registry=registry)
        figures["deploy_gas"] = stylemint.creation_metadata.receipt.gas_used
        figures["oracle_quorum_deploy_gas"] = core.oracle_quorum(stylemint).creation_metadata.receipt.gas_used

        minter = core.set_price_minter(stylemint)
        figures["minter_set_price_deploy_gas"] = minter.creation_metadata.receipt.gas_used
        code = stylemint.chain_manager.provider.web3.eth.get_code(stylemint.address)
        figures["core_deployed_bytes"] = len(code)
        receipt = stylemint.createProject(
            "Bench", METADATA_CID, b"\x11" * 32, 1_000_000, sender=artist
        )  # manifest hash 0x11..11: the mints below name it
        figures["create_project_gas"] = receipt.gas_used
        project_id = receipt.decode_logs(stylemint.ProjectCreated)[0].projectId
        stylemint.setProjectMinter(project_id, minter, sender=artist)
        minter.setPrice(project_id, 10**16, sender=artist)
        stylemint.setProjectPaused(project_id, False, sender=artist)
        figures["approve_project_gas"] = stylemint.approveProject(project_id, b"\x11" * 32, stylemint.stylesConfigHash(project_id), sender=admin).gas_used

        mint_gas, records = [], []
        for i in range(args.mints):
            record = core.mint(stylemint, collectors[i % len(collectors)], project_id)
            records.append(record)
            mint_gas.append(record.gas_used)
        figures["mint_gas_first"] = mint_gas[0]
        figures["mint_gas_median"] = statistics.median(mint_gas)
        figures["set_price_mint_gas_median"] = figures["mint_gas_median"]  # the same mints: MinterSetPrice
        figures["mint_gas_max"] = max(mint_gas)
        figures["mints_measured"] = f"{len(mint_gas)} from {len(collectors)} accounts"

        first = records[0]
        figures["fulfill_gas"] = core.fulfill(stylemint, first.token_id, b"\x22" * 32, METADATA_CID, oracle,
                                              signers=signers, prompt=PROMPT).gas_used
        batch = [core.commitment(stylemint, record.token_id, bytes([i + 1]) * 32, METADATA_CID, [], PROMPT)
                 for i, record in enumerate(records[1:11])]
        batch_gas = core.settle(stylemint, batch, signers, oracle).gas_used
        # The oracles settle every token through a fulfillBatch (a lone token too: a batch skips
        # what a reorg made stale instead of reverting); a batch of one, and one whose entry is
        # skipped (the token fulfilled a moment earlier) are what that costs.
        lone = [core.commitment(stylemint, records[11].token_id, b"\x33" * 32, METADATA_CID, [], PROMPT)]
        figures["fulfill_batch1_gas"] = core.settle(stylemint, lone, signers, oracle).gas_used
        figures["fulfill_batch1_skipped_gas"] = core.settle(stylemint, lone, signers, oracle).gas_used
        figures["fulfill_batch10_gas"] = batch_gas
        figures["fulfill_batch10_gas_per_token"] = batch_gas // len(batch)
        figures["lifecycle_gas_per_token"] = figures["mint_gas_median"] + figures["fulfill_batch10_gas_per_token"]
        figures["lifecycle_single_fulfill_gas_per_token"] = figures["mint_gas_median"] + figures["fulfill_gas"]
        figures["withdraw_gas"] = stylemint.withdraw(sender=artist).gas_used

        owners = collectors[:2]
        style_ids = []
        for i, (owner, trigger) in enumerate(zip(owners, ("stipple", "inkline"))):
            receipt = registry.registerStyle(trigger.title(), trigger, METADATA_CID, bytes([0x33 + i]) * 32, 0,
                                             sender=owner)
            style_ids.append(int(receipt.decode_logs(registry.StyleRegistered)[0].styleId))
        figures["register_style_gas"] = receipt.gas_used
        blend = core.create_project(stylemint, artist, name="Blend", manifest_cid=METADATA_CID,
                                    manifest_hash=b"\x11" * 32, price_wei=10**16, max_editions=1_000,
                                    unpause=True, approve_by=admin, style_ids=tuple(style_ids),
                                    styles_share_bps=3_000)
        blend_mints = [core.mint(stylemint, collectors[i % len(collectors)], blend) for i in range(12)]
        figures["blend_mint_gas_median"] = statistics.median(r.gas_used for r in blend_mints[1:])
        figures["blend_fulfill_gas"] = core.fulfill(stylemint, blend_mints[0].token_id, b"\x22" * 32, METADATA_CID,
                                                   oracle, weights_bps=[6_250, 3_750], signers=signers,
                                                   prompt=PROMPT).gas_used
        batch = [core.commitment(stylemint, record.token_id, bytes([i + 1]) * 32, METADATA_CID,
                                 [5_000 + 100 * i, 5_000 - 100 * i], PROMPT)
                 for i, record in enumerate(blend_mints[1:11])]
        batch_gas = core.settle(stylemint, batch, signers, oracle).gas_used
        figures["blend_fulfill_batch10_gas_per_token"] = batch_gas // len(batch)
        figures["blend_lifecycle_gas_per_token"] = (figures["blend_mint_gas_median"]
                                                    + figures["blend_fulfill_batch10_gas_per_token"])

        # An allowlist sale (MinterSetPrice with a Merkle root, one mint per address by default):
        # each collector, on the list, buys once with its proof.
        from backend.chain import allowlist

        listed = core.create_project(stylemint, artist, name="Allowlist", manifest_cid=METADATA_CID,
                                     manifest_hash=b"\x11" * 32, price_wei=10**16, max_editions=1_000,
                                     unpause=True, approve_by=admin)
        tree = allowlist.build([c.address for c in collectors])
        minter.setMerkleRoot(listed, tree.root, METADATA_CID, sender=artist)
        merkle_gas = [minter.purchaseWithProof(listed, b"\x11" * 32, tree.proof_for(c.address), sender=c,
                                               value=10**16).gas_used for c in collectors]
        figures["merkle_mint_gas_median"] = statistics.median(merkle_gas)
        figures["merkle_list_size"] = len(collectors)

        # A Dutch auction with settlement (MinterDAExpSettlement): each collector buys while the
        # price falls (the first buy of an account writes its receipt), the last one sells out and
        # settles; then every buyer reclaims.
        auction = admin.deploy(core.ape_project().MinterDAExpSettlement, stylemint)
        figures["minter_da_settlement_deploy_gas"] = auction.creation_metadata.receipt.gas_used
        stylemint.setMinterApproved(auction, True, sender=admin)
        sold = 2 * len(collectors)
        falling = stylemint.createProject("Falling", METADATA_CID, b"\x11" * 32, sold, sender=artist)
        falling = falling.decode_logs(stylemint.ProjectCreated)[0].projectId
        stylemint.setProjectMinter(falling, auction, sender=artist)
        start = stylemint.chain_manager.blocks.head.timestamp + 10
        auction.setAuction(falling, 2**10 * 10**13, 10**13, start, 60, sender=artist)
        stylemint.setProjectPaused(falling, False, sender=artist)
        stylemint.approveProject(falling, b"\x11" * 32, stylemint.stylesConfigHash(falling), sender=admin)
        web3 = stylemint.chain_manager.provider.web3
        web3.provider.make_request("evm_increaseTime", [10])
        da_gas = []
        for i in range(sold):
            web3.provider.make_request("evm_increaseTime", [30])
            _, price = auction.priceInfo(falling)
            buyer = collectors[i % len(collectors)]
            da_gas.append(auction.purchase(falling, b"\x11" * 32, sender=buyer, value=price).gas_used)
        figures["da_settlement_mint_gas_median"] = statistics.median(da_gas[:-1])  # the last one also settles
        figures["da_settlement_sellout_mint_gas"] = da_gas[-1]
        figures["da_reclaim_gas"] = auction.reclaim(falling, sender=collectors[0]).gas_used

        bare = admin.deploy(core.ape_project().BareERC721)
        figures["oz_safemint_gas"] = bare.safeMint(collectors[0], 1, sender=admin).gas_used
        figures["oz_safemint_gas_second"] = bare.safeMint(collectors[0], 2, sender=admin).gas_used
        figures["mint_minus_oz_floor"] = figures["mint_gas_median"] - figures["oz_safemint_gas_second"]

    for key, value in figures.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
