"""What the page tests share: the wallets the browser tests use, waiting for a fulfilment."""

import time

COLLECTOR = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"  # anvil account 4
ARTIST = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"  # anvil account 3


def wait_fulfilled(contract, token_id, timeout=90):
    deadline = time.monotonic() + timeout
    while not contract.isFulfilled(token_id):
        assert time.monotonic() < deadline, f"token {token_id} was not fulfilled in {timeout} s"
        time.sleep(0.2)
