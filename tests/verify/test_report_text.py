"""The text `stylemint verify` prints is read by people: values in words, agreeing evidence once."""

from backend.cli import _print_report
from backend.verify.verifier import Check, Report


def test_evidence_reads_as_words_and_an_agreeing_attribution_is_printed_once(capsys):
    attribution = {"method": "attention", "styles": [{"trigger": "stipple", "weight_bps": 10_000}]}
    report = Report(token_id=1_000_000, outcome="exact", reason="exact", checks=[
        Check("settlement", True, "settled", {"signers": ["0xA", "0xB"], "weights_bps": [], "block": None}),
        Check("manifest", True, "hashes", {"committed_environment": {"device": "cpu", "threads": 2}}),
        Check("attribution", True, "attention attribution re-computed identically: stipple 100.00 %",
              {"recorded": attribution, "recomputed": attribution}),
        Check("attribution", False, "not the render's", {"recorded": attribution, "recomputed": {}}),
    ])
    _print_report(report)
    out = capsys.readouterr().out
    assert "signers: 0xA, 0xB" in out and "weights_bps: none" in out and "block: none" in out
    assert "committed_environment: device=cpu, threads=2" in out
    assert out.count("stipple") == 2  # the passed check's detail, the failed check's recorded evidence
    assert "recorded: as recomputed" in out and "recomputed: none" in out
    assert "{'" not in out and "['" not in out
