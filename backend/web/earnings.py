"""What an account earned as an artist and as a style owner, for the artist page.

Money is divided in one place, the contract's `splitSale`; this module reads what was paid (each
token's SaleSettled figures as the token index records them, credits, withdrawals), never a rule
of its own: the styles' part is what the sale's price left after the artist's and the platform's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend.web.catalog import Catalog


def earnings(catalog: "Catalog", address: str, *, sales_per_project: int = 50) -> dict:
    """Per project `address` is the artist of: minted, sales, revenue, the platform's and the
    styles' parts, its own, and the latest sales one by one; per style it owns: mints and what it
    earned; plus what it withdrew and its credit not yet withdrawn."""
    chain = catalog.chain
    address = address.lower()
    projects = []
    for pid in catalog.project_ids():
        info = chain.project_info(pid)
        if info["artist"].lower() != address:
            continue
        sales = revenue = to_styles = platform = 0
        sold = []
        # A Dutch auction with settlement escrows its base price and tops each sale up once settled.
        top_up = int(chain.view("priceTopUp", pid))
        entries, _ = catalog.index().project_tokens(pid, limit=1_000_000)  # refunded (burned) ones are not listed
        for entry in entries:
            settled = entry["sale"]  # the SaleSettled log's figures; None while in escrow (nobody was paid yet)
            price = settled["price_wei"] if settled else entry["price_wei"] + top_up
            sale = {"token_id": entry["token_id"], "edition": entry["edition"],
                    "buyer": chain.w3.to_checksum_address(entry["payer"]),
                    "mint_block": entry["mint_block"], "price_wei": str(price), "state": "escrow"}
            if settled:
                styles_part = price - settled["artist_wei"] - settled["platform_wei"]
                sales, revenue = sales + 1, revenue + price
                platform, to_styles = platform + settled["platform_wei"], to_styles + styles_part
                sale |= {"state": "paid", "platform_wei": str(settled["platform_wei"]), "styles_wei": str(styles_part),
                         "artist_wei": str(settled["artist_wei"])}
            sold.append(sale)
        projects.append({"id": pid, "name": info["name"], "minted": int(info["invocations"]), "sales": sales,
                         "revenue_wei": str(revenue), "platform_wei": str(platform), "styles_wei": str(to_styles),
                         "artist_wei": str(revenue - platform - to_styles),
                         "recent_sales": sorted(sold, key=lambda s: -s["mint_block"])[:sales_per_project]})
    styles = [{"id": s["id"], "name": s["name"], "retired": s["retired"], "mints": s["mints"],
               "earned_wei": s["earned_wei"]} for s in catalog.styles() if s["owner"].lower() == address]
    return {"address": address, "credit_wei": str(chain.view("creditOf", chain.w3.to_checksum_address(address))),
            "withdrawn_wei": str(chain.withdrawn_by(address)), "projects": projects, "styles": styles}
