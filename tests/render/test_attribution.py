"""Style attribution: recorded on the side (bytes unchanged), weights that always sum to 10,000,
deterministic across processes (docs/RENDER_SPEC.md §13)."""

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.config import PROJECT_ROOT
from backend.render.attribution import basis_points, token_positions
from backend.render.manifest import SCHEDULERS, ManifestError
from backend.render.renderer import Renderer
from backend.render.samples import blend_manifest, tiny_manifest
from tests.support.lanes import examples

SEED = bytes(range(32))


@pytest.fixture(scope="module")
def recording():
    return Renderer(device="cpu", threads=2)


@pytest.fixture(scope="module")
def plain():
    return Renderer(device="cpu", threads=2, attribute=False)


@pytest.mark.parametrize("scheduler", sorted(SCHEDULERS))
def test_recording_leaves_the_image_bytes_unchanged(recording, plain, scheduler):
    manifest = blend_manifest({"stipple": 0.5, "haze": 0.5}, scheduler={"name": scheduler, "config": {}},
                              attribution="attention")
    recorded, unrecorded = recording.render(manifest, SEED), plain.render(manifest, SEED)
    assert recorded.png == unrecorded.png
    assert recorded.attribution is not None and unrecorded.attribution is None
    assert [s["trigger"] for s in recorded.attribution["styles"]] == ["stipple", "haze"]
    assert all(s["score"] > 0 for s in recorded.attribution["styles"])


def test_counterfactual_renders_leave_the_token_image_alone(recording, plain):
    manifest = blend_manifest({"stipple": 0.2, "inkline": 0.8}, attribution="counterfactual")
    result = recording.render(manifest, SEED)
    assert result.png == plain.render(manifest, SEED).png
    assert result.attribution["method"] == "counterfactual"
    assert sum(s["weight_bps"] for s in result.attribution["styles"]) == 10_000
    assert set(result.heatmaps) == {s["heatmap_cid"] for s in result.attribution["styles"]}


@pytest.mark.parametrize("method", ["attention", "counterfactual"])
def test_one_style_gets_everything_and_its_heat_map_is_a_canonical_png(recording, method):
    result = recording.render(tiny_manifest("stipple", attribution=method), SEED)
    (style,) = result.attribution["styles"]
    assert style["weight_bps"] == 10_000 and style["trigger"] == "stipple"
    png = result.heatmaps[style["heatmap_cid"]]
    from PIL import Image
    import io

    image = Image.open(io.BytesIO(png))
    assert image.mode == "L" and image.size == (64, 64) and image.getextrema()[1] == 255


@pytest.mark.process
def test_attribution_is_the_same_in_another_process(recording):
    here = [recording.render(blend_manifest({"stipple": 0.3, "inkline": 0.7}, attribution=method), SEED).attribution
            for method in ("attention", "counterfactual")]
    script = ("import json; from backend.render.renderer import Renderer; from backend.render.samples import blend_manifest; "
              "r = Renderer(device='cpu', threads=2); "
              "print(json.dumps([r.render(blend_manifest({'stipple': 0.3, 'inkline': 0.7}, attribution=m), "
              "bytes(range(32))).attribution for m in ('attention', 'counterfactual')]))")
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == here


@pytest.mark.parametrize("scores, weights", [
    ([5.0], [10_000]),
    ([0.0], [10_000]),
    ([0.0, 0.0], [5_000, 5_000]),
    ([1.0, 1.0, 1.0], [3_334, 3_333, 3_333]),  # the spare point to the first of the tie
    ([0.0, 3.0], [0, 10_000]),
    ([2.0, 1.0, 1.0], [5_000, 2_500, 2_500]),
    ([1.0, 2.0, 2.0, 2.0], [1_429, 2_857, 2_857, 2_857]),  # 1428.57, 2857.14 x3: +1 to the largest remainder
    ([float("nan"), 1.0], [5_000, 5_000]),
    ([], []),
])
def test_basis_points_edge_cases(scores, weights):
    assert basis_points(scores) == weights


@settings(max_examples=examples(300))
@given(st.lists(st.floats(min_value=0, max_value=1e12, allow_nan=False), min_size=1, max_size=4))
def test_basis_points_always_sum_to_10000_and_follow_the_scores(scores):
    weights = basis_points(scores)
    assert sum(weights) == 10_000 and all(w >= 0 for w in weights)
    total = sum(scores)
    if total > 0:
        for score, weight in zip(scores, weights):
            assert abs(weight - score * 10_000 / total) < 1.0 + 1e-6


def test_a_trigger_spread_over_tokens_is_found_everywhere(recording):
    tokenizer = recording.pipeline(tiny_manifest("stipple")).tokenizer
    positions = token_positions(tokenizer, "one red circle on a dark ground, stipple style, stipple style", "stipple")
    assert len(positions) == 2 and positions[0] < positions[1]


@pytest.mark.parametrize("change, words", [
    ({"prompt": "one {colour} {shape} on a {ground} ground"}, "not a word of the prompt"),
    ({"prompt": "one {colour} {shape} on a {ground} ground, stippled style"}, "not a word of the prompt"),
])
def test_a_style_must_be_invoked_by_its_trigger(change, words):
    with pytest.raises((ManifestError, ValueError), match=words):
        tiny_manifest("stipple", **change)
