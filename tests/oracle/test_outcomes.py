"""The one map from an error to a job's outcome: nothing a moving chain can cause fails a job."""

from types import SimpleNamespace

import pytest

from backend.chain.errors import ChainNotSettled, ChainUnavailable, ContractRevert, RpcRejected
from backend.ipfs.errors import IpfsUnavailable
from backend.oracle.outcomes import Fail, JobRejected, Retry, Wait, outcome_of

JOB = SimpleNamespace(token_id=1_000_000)


@pytest.mark.parametrize("error, kind", [
    (ChainNotSettled("block 7 vanished"), Wait),
    (ChainUnavailable("RPC down"), Wait),
    (ContractRevert("tokenSeed reverted: TokenNotMinted", "TokenNotMinted"), Wait),  # a reorg between two calls
    (ContractRevert("projectInfo reverted: UnknownProject", "UnknownProject"), Wait),
    (ContractRevert("fulfillBatch reverted: WrongWeightCount", "WrongWeightCount"), Fail),
    (JobRejected("the operator policy refuses this manifest"), Fail),
    (RpcRejected("insufficient funds"), Retry),
    (IpfsUnavailable("node down"), Retry),
    (KeyError("a bug"), Retry),
], ids=lambda value: type(value).__name__ if isinstance(value, Exception) else value.__name__)
def test_each_error_has_one_outcome(error, kind):
    outcome = outcome_of(error, JOB)
    assert isinstance(outcome, kind)
    assert str(error) in outcome.reason
