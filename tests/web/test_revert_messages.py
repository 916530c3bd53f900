"""Every custom error a contract can revert with has a message in the pages' wallet module.

wallet.js turns a decoded revert into words a collector or artist understands; a new custom error
(or an OpenZeppelin one reached through a new path) without a message would show a raw selector.
"""

import re

from backend.chain.abi import contract_abi
from backend.config import PROJECT_ROOT


def messages_in_wallet_js() -> dict[str, str]:
    source = (PROJECT_ROOT / "frontend" / "js" / "wallet.js").read_text()
    block = re.search(r"const REVERTS = \{(.*?)\n\};", source, re.S)
    assert block, "wallet.js has no REVERTS table"
    return dict(re.findall(r'^\s+(\w+): "([^"]+)",$', block.group(1), re.M))


def test_every_custom_error_of_the_contracts_has_a_message():
    messages = messages_in_wallet_js()
    errors = {entry["name"] for name in ("StyleMint", "StyleRegistry", "OracleQuorum", "MinterSetPrice",
                                                "MinterDAExpSettlement")
              for entry in contract_abi(name)
              if entry["type"] == "error"}
    assert len(errors) > 40  # the ABI was read, OpenZeppelin's errors included
    assert sorted(errors - messages.keys()) == []
    assert sorted(messages.keys() - errors) == []  # and no message for an error that no longer exists
    assert all(len(text) > 10 and text.endswith((".", "!")) for text in messages.values())
