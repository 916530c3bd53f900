"""What an account earned as an artist and as a style owner, for the artist page.

Money is divided in one place, the contract's `splitSale`; this module reads what was paid
(StylesPaid logs, credits, withdrawals) and uses its Python mirror (backend/chain/split.py) for
the parts no log states, never a rule of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backend.chain.split import split_sale

if TYPE_CHECKING:
    from backend.web.catalog import Catalog


def earnings(catalog: "Catalog", address: str, *, sales_per_project: int = 50) -> dict:
    """Per project `address` is the artist of: minted, sales, revenue, the platform's and the
    styles' parts, its own, and the latest sales one by one; per style it owns: mints and what it
    earned; plus what it withdrew and its credit not yet withdrawn."""
    chain = catalog.chain
    address = address.lower()
    paid = chain.all_styles_paid()
    projects = []
    for pid in catalog.project_ids():
        info = chain.project_info(pid)
        if info["artist"].lower() != address:
            continue
        sales = revenue = to_styles = platform = 0
        sold = []
        entries, _ = catalog.index().project_tokens(pid, limit=1_000_000)  # refunded (burned) ones are not listed
        for entry in entries:
            price = catalog.price_of(entry["mint_tx"])
            sale = {"token_id": entry["token_id"], "edition": entry["edition"],
                    "buyer": chain.w3.to_checksum_address(entry["minter"]),
                    "mint_block": entry["mint_block"], "price_wei": str(price), "state": "escrow"}
            if entry["fulfilled_block"] is not None:  # in escrow, nobody was paid yet
                styles_part = sum((paid.get(entry["token_id"]) or {"amounts": []})["amounts"])
                split = split_sale(price)  # the platform's part does not depend on the styles
                sales, revenue = sales + 1, revenue + price
                platform, to_styles = platform + split.platform_wei, to_styles + styles_part
                sale |= {"state": "paid", "platform_wei": str(split.platform_wei), "styles_wei": str(styles_part),
                         "artist_wei": str(split.artist_wei - styles_part)}
            sold.append(sale)
        projects.append({"id": pid, "name": info["name"], "minted": int(info["invocations"]), "sales": sales,
                         "revenue_wei": str(revenue), "platform_wei": str(platform), "styles_wei": str(to_styles),
                         "artist_wei": str(revenue - platform - to_styles),
                         "recent_sales": sorted(sold, key=lambda s: -s["mint_block"])[:sales_per_project]})
    styles = [{"id": s["id"], "name": s["name"], "retired": s["retired"], "mints": s["mints"],
               "earned_wei": s["earned_wei"]} for s in catalog.styles() if s["owner"].lower() == address]
    return {"address": address, "credit_wei": str(chain.view("creditOf", chain.w3.to_checksum_address(address))),
            "withdrawn_wei": str(chain.withdrawn_by(address)), "projects": projects, "styles": styles}
