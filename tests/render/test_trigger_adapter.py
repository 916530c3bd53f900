"""Trigger-scoped adapters (backend/render/trigger_adapter.py, RENDER_SPEC §15): a style acts only
through its trigger's key and value positions, so a prompt without the trigger renders the base
model's bytes, a row of a batch without it is untouched, and a malformed file is refused."""

import numpy as np
import pytest
import torch

from backend.render import trigger_adapter
from backend.render.manifest import ManifestError, parse_manifest
from backend.render.renderer import RenderError, Renderer
from backend.render.samples import tiny_manifest
from backend.render.seed import initial_latents
from tests.support.trigger_styles import random_trigger_adapter, style_entry

SEED = bytes(range(32))
BASE_PROMPT = tiny_manifest(None).prompt


@pytest.fixture(scope="module")
def adapters():
    pipe = Renderer(device="cpu", threads=2, attribute=False).pipeline(tiny_manifest(None))
    return {trigger: random_trigger_adapter(pipe, trigger, seed=index) for index, trigger in enumerate(["stipple", "haze"])}


@pytest.fixture(scope="module")
def renderer(adapters):
    from backend.ipfs.cid import cid_of

    store = {cid_of(data): data for data in adapters.values()}
    return Renderer(device="cpu", threads=2, fetch_adapter=store.__getitem__)


def scoped(adapters, *triggers, **changes):
    styles = [style_entry(adapters[t], t) for t in triggers]
    changes.setdefault("prompt", BASE_PROMPT + "".join(f", {t} style" for t in triggers))
    return tiny_manifest(None, styles=styles, attribution="attention", **changes)


def test_without_its_trigger_a_loaded_style_renders_the_base_models_bytes(renderer, adapters):
    manifest = scoped(adapters, "stipple")
    untriggered = manifest.model_copy(update={"prompt": BASE_PROMPT})  # as a bench renders it; no manifest allows it
    assert renderer.render(untriggered, SEED).png == renderer.render(tiny_manifest(None), SEED).png


def test_with_its_trigger_the_style_changes_the_image_the_word_alone_does_not(renderer, adapters):
    word_only = tiny_manifest(None, prompt=BASE_PROMPT + ", stipple style")
    styled = renderer.render(scoped(adapters, "stipple"), SEED)
    assert styled.png != renderer.render(word_only, SEED).png
    (style,) = styled.attribution["styles"]
    assert style["weight_bps"] == 10_000 and style["score"] > 0


def test_a_row_without_the_trigger_is_untouched_in_a_batch_with_one_that_has_it(renderer, adapters):
    pipe = renderer.pipeline(scoped(adapters, "stipple"))
    (adapter, scale), = pipe.stylemint_trigger_adapters
    latents = torch.from_numpy(np.stack([initial_latents(bytes([i]) * 32, (4, 16, 16)) for i in (1, 2)]))
    plain, styled = "one red circle on a dark ground", "one red circle on a dark ground, stipple style"

    def run(prompts, adapters):
        rows = trigger_adapter.batch_rows(pipe.tokenizer, prompts, None, True)
        with torch.inference_mode(), trigger_adapter.applied(pipe.unet, adapters, rows):
            return pipe(prompt=prompts, num_inference_steps=4, guidance_scale=3.0, latents=latents.clone(),
                        output_type="np", height=64, width=64).images

    with_style, base = run([styled, plain], [(adapter, scale)]), run([styled, plain], [])
    assert np.array_equal(with_style[1], base[1])  # the plain row: the base model's, bit for bit
    assert not np.array_equal(with_style[0], base[0])


def test_two_styles_act_on_their_own_positions_and_recording_keeps_the_bytes(adapters):
    from backend.ipfs.cid import cid_of

    store = {cid_of(data): data for data in adapters.values()}
    manifest = scoped(adapters, "stipple", "haze")
    recorded = Renderer(device="cpu", threads=2, fetch_adapter=store.__getitem__).render(manifest, SEED)
    unrecorded = Renderer(device="cpu", threads=2, fetch_adapter=store.__getitem__, attribute=False).render(manifest, SEED)
    assert recorded.png == unrecorded.png
    weights = [s["weight_bps"] for s in recorded.attribution["styles"]]
    assert sum(weights) == 10_000 and all(w > 0 for w in weights)
    only_stipple = manifest.model_copy(update={"styles": manifest.styles[:1]})
    assert Renderer(device="cpu", threads=2, fetch_adapter=store.__getitem__).render(only_stipple, SEED).png != recorded.png


def test_occurrences_are_whole_and_do_not_overlap():
    assert trigger_adapter.occurrences([5, 7, 8, 7, 8, 1], (7, 8)) == [1, 3]
    assert trigger_adapter.occurrences([7, 7, 7], (7, 7)) == [0]
    assert trigger_adapter.occurrences([1, 2, 7], (7, 8)) == []  # cut by truncation: not an occurrence


def test_a_file_that_does_not_fit_the_model_is_refused(renderer, adapters):
    import safetensors.torch

    tensors = safetensors.torch.load(adapters["stipple"])
    name = next(iter(tensors))
    broken = {
        "missing tensor": {k: v for k, v in tensors.items() if k != name},
        "extra tensor": {**tensors, "unet.conv_in.weight": torch.zeros(1)},
        "wrong width": {**tensors, name: torch.zeros(1, 3)},
        "two vectors for a one-token trigger": {**tensors, name: torch.zeros(2, tensors[name].shape[1])},
        "float16": {**tensors, name: tensors[name].half()},
        "not finite": {**tensors, name: tensors[name] * float("inf")},
    }
    pipe = renderer.pipeline(tiny_manifest(None))
    for why, bad in broken.items():
        with pytest.raises(trigger_adapter.AdapterFormatError) as refused:
            trigger_adapter.TriggerAdapter.parse(safetensors.torch.save(bad), trigger="stipple", unet=pipe.unet,
                                                 tokenizer=pipe.tokenizer)
        # Only the count of vectors is a trigger's mistake; the rest are files of another model.
        assert isinstance(refused.value, trigger_adapter.TriggerLengthError) == (why == "two vectors for a one-token trigger"), why
    with pytest.raises(trigger_adapter.AdapterFormatError, match="not a safetensors"):
        trigger_adapter.TriggerAdapter.parse(b"nonsense", trigger="stipple", unet=pipe.unet, tokenizer=pipe.tokenizer)
    bad = safetensors.torch.save(broken["wrong width"])
    store = {style_entry(bad, "stipple")["cid"]: bad}
    with pytest.raises(RenderError, match="expected float32"):
        Renderer(device="cpu", threads=2, fetch_adapter=store.__getitem__).render(
            tiny_manifest(None, prompt=BASE_PROMPT + ", stipple style", styles=[style_entry(bad, "stipple")]), SEED)


def test_a_style_named_by_another_trigger_than_it_was_trained_with_is_told_so(renderer, adapters):
    """A one-word style registered under two words (or stylemint-gen's two-word ones under one) fits
    the model's modules but not the trigger: the artist is told to use the trained trigger, not
    that the style belongs to another model."""
    misnamed = tiny_manifest(None, prompt=BASE_PROMPT + ", stipple style", attribution="attention",
                             styles=[style_entry(adapters["stipple"], "stipple style")])
    [problem] = renderer.adapter_problems(misnamed)
    assert "'stipple style'" in problem and "a trigger of 1 token(s)" in problem and "is 2 on this model" in problem
    assert "not trained on" not in problem
    assert renderer.adapter_problems(scoped(adapters, "stipple")) == []


def test_a_trigger_scoped_adapter_is_only_a_style_never_unattributed_weights(adapters):
    document = tiny_manifest(None).model_dump(mode="json")
    entry = style_entry(adapters["stipple"], "stipple")
    document["style_weights"] = {k: v for k, v in entry.items() if k != "trigger"}
    with pytest.raises(ManifestError, match="acts only through its trigger"):
        parse_manifest(__import__("json").dumps(document).encode())


def test_a_prompt_that_would_cut_a_trigger_off_is_refused(renderer, adapters):
    """stylemint-tiny-2 reads 32 tokens: a trigger past them would render and be paid as if absent."""
    long = scoped(adapters, "stipple", prompt="one {colour} {shape} in the centre on a {ground} ground and one red circle "
                                              "in the centre and one blue square on the left and one green stripe at "
                                              "the top, stipple style")
    with pytest.raises(RenderError, match="the trigger 'stipple' is cut off"):
        renderer.render(long, SEED)


def test_a_template_whose_longest_traits_would_cut_a_trigger_off_is_refused_before_any_mint(renderer, adapters):
    """Which traits a token gets is the seed's choice, so a template that cuts a trigger off for one
    choice would fail that mint at render: the pin check (`adapter_problems`) says so first."""
    long_word = "q" * 28  # a word the model does not know: one token a letter
    risky = scoped(adapters, "stipple", prompt="one {colour} circle on a dark ground, stipple style",
                   variables={"colour": ["red", long_word]})
    [problem] = renderer.adapter_problems(risky)
    assert "with its longest traits" in problem and "the trigger 'stipple' is cut off" in problem and long_word in problem
    assert renderer.adapter_problems(risky.model_copy(update={"variables": {"colour": ["red", "blue"]}})) == []
