"""Property tests: the split never loses a wei; editions never exceed the cap; token ids never collide."""

import ape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.contracts.conftest import MANIFEST_HASH



def chain_settings(max_examples: int) -> settings:
    """Fixtures are module-scoped contracts; each example isolates its own chain changes."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


@chain_settings(300)
@given(price=st.one_of(st.integers(0, 10**6), st.integers(0, 2**128 - 1), st.integers(2**128, 2**256 - 1)))
def test_split_adds_up_to_the_price(stylemint, price):
    artist_share, platform_share = stylemint.splitPrice(price)
    assert artist_share + platform_share == price
    assert platform_share == price * 1000 // 10_000
    assert artist_share >= price * 9 // 10


# One step of a random session: ("mint", account index) or ("cap", new max editions).
steps = st.lists(
    st.one_of(
        st.tuples(st.just("mint"), st.integers(0, 3)),
        st.tuples(st.just("cap"), st.integers(0, 8)),
    ),
    min_size=1,
    max_size=14,
)


@chain_settings(40)
@given(max_editions=st.integers(1, 6), price=st.integers(0, 10**18), session=steps)
def test_editions_never_exceed_the_cap(chain, stylemint, accounts, artist, platform, max_editions, price, session):
    with chain.isolate():
        receipt = stylemint.createProject("prop", "bafyprop", MANIFEST_HASH, price, max_editions, sender=artist)
        pid = receipt.decode_logs(stylemint.ProjectCreated)[0].projectId
        stylemint.setProjectPaused(pid, False, sender=artist)
        cap, minted_ids = max_editions, []
        for action, value in session:
            if action == "mint":
                if len(minted_ids) < cap:
                    receipt = stylemint.mint(pid, sender=accounts[5 + value], value=price)
                    minted_ids.append(receipt.decode_logs(stylemint.Mint)[0].tokenId)
                else:
                    with ape.reverts(stylemint.SoldOut):
                        stylemint.mint(pid, sender=accounts[5 + value], value=price)
            elif len(minted_ids) <= value <= cap:
                stylemint.setProjectMaxEditions(pid, value, sender=artist)
                cap = value
            else:
                with ape.reverts(stylemint.InvalidMaxEditions):
                    stylemint.setProjectMaxEditions(pid, value, sender=artist)
            info = stylemint.projectInfo(pid)
            assert info.invocations == len(minted_ids) <= info.maxEditions == cap <= max_editions
        assert len(set(minted_ids)) == len(minted_ids)
        assert minted_ids == [pid * 1_000_000 + i for i in range(len(minted_ids))]
        assert stylemint.balance == stylemint.creditOf(artist) + stylemint.creditOf(platform) == price * len(minted_ids)
