"""Style manifests: canonical bytes, hashes, and a clear error for every kind of bad manifest."""

import hashlib
import json

import pytest

from backend.render.manifest import MAX_MANIFEST_BYTES, ManifestError, StyleManifest, parse_manifest
from backend.render.samples import sample_manifest


def document(**changes):
    doc = json.loads(sample_manifest().canonical_bytes())
    for key, value in changes.items():
        if value is KeyError:
            doc.pop(key)
        else:
            doc[key] = value
    return doc


def test_canonical_bytes_are_sorted_compact_and_hash_as_stored():
    manifest = sample_manifest()
    raw = manifest.canonical_bytes()
    assert raw == json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert list(json.loads(raw)) == sorted(json.loads(raw))
    assert manifest.sha256() == hashlib.sha256(raw).digest()
    assert parse_manifest(raw) == manifest
    assert parse_manifest(raw).canonical_bytes() == raw


def test_defaults_are_written_out():
    doc = document()
    doc.pop("dtype")
    doc.pop("negative_prompt")
    parsed = parse_manifest(json.dumps(doc))
    assert json.loads(parsed.canonical_bytes())["dtype"] == "float32"
    assert json.loads(parsed.canonical_bytes())["negative_prompt"] == ""


def test_hash_is_checked_over_the_received_bytes():
    raw = sample_manifest().canonical_bytes()
    assert parse_manifest(raw, expected_sha256=hashlib.sha256(raw).hexdigest()) == sample_manifest()
    assert parse_manifest(raw, expected_sha256=hashlib.sha256(raw).digest()) == sample_manifest()
    with pytest.raises(ManifestError, match="hash mismatch"):
        parse_manifest(raw + b" ", expected_sha256=hashlib.sha256(raw).digest())


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"steps": 0}, "steps: Input should be greater than or equal to 1"),
        ({"steps": 151}, "steps: Input should be less than or equal to 150"),
        ({"steps": True}, "steps: Input should be a valid integer"),
        ({"steps": "8"}, "steps: Input should be a valid integer"),
        ({"width": 100}, "width: Value error, must be a multiple of 8"),
        ({"height": 4096}, "height: Input should be less than or equal to 2048"),
        ({"guidance_scale": -1}, "guidance_scale: Input should be greater than or equal to 0"),
        ({"scheduler": {"name": "ancestral-chaos"}}, "unknown scheduler 'ancestral-chaos'"),
        ({"scheduler": {"name": "euler", "config": {"eta": 1.0}}}, "unknown scheduler options ['eta']"),
        ({"model": {"id": "reference", "sha256": "abc"}}, "model.sha256: Value error, must be 64 lowercase hex"),
        ({"model": {"id": "reference"}}, "model.sha256: Field required"),
        ({"dtype": "int8"}, "dtype: Input should be 'float32', 'float16' or 'bfloat16'"),
        ({"prompt": "a {colour} sea"}, "prompt uses undefined variables ['colour']"),
        ({"prompt": "a sea"}, "variables not used by the prompt"),
        ({"prompt": "a {hour!r} {palette}"}, "prompt placeholders are plain {name}"),
        ({"prompt": "a {hour"}, "prompt template"),
        ({"variables": {"hour": [], "palette": ["x"]}}, "1..256 options"),
        ({"version": 2}, "version: Input should be 1"),
        ({"name": KeyError}, "name: Field required"),
        ({"style_weights": {"kind": "textual_inversion", "cid": "bafy", "sha256": "0" * 64}}, "needs the token"),
        ({"style_weights": {"kind": "hypernetwork", "cid": "bafy", "sha256": "0" * 64}}, "style_weights.kind"),
    ],
)
def test_each_manifest_error_is_named(changes, message):
    with pytest.raises(ManifestError) as caught:
        parse_manifest(json.dumps(document(**changes)))
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"{}" + b" " * MAX_MANIFEST_BYTES, "the limit is"),
    ],
)
def test_unparseable_manifests(raw, message):
    with pytest.raises(ManifestError, match=message):
        parse_manifest(raw)


def test_manifest_is_immutable():
    with pytest.raises(Exception):
        sample_manifest().steps = 3  # type: ignore[misc]
    assert isinstance(sample_manifest(), StyleManifest)


def test_a_story_is_written_only_when_there_is_one_and_never_changes_other_hashes():
    from backend.render.manifest import parse_manifest
    from backend.render.samples import sample_manifest

    plain = sample_manifest()
    assert b'"story"' not in plain.canonical_bytes()  # every manifest pinned before stories keeps its hash
    told = parse_manifest(json.dumps({**json.loads(plain.canonical_bytes()), "story": {
        "description": "Ferns.", "statement": "", "licence": "CC0 1.0", "cover_cid": None}}).encode())
    assert told.story.description == "Ferns." and b'"story":{' in told.canonical_bytes()
    assert told.sha256() != plain.sha256()
    for bad in ({"description": "x" * 2001}, {"cover_cid": "QmNotACIDv1"}, {"colour": "red"}):
        with pytest.raises(ManifestError):
            parse_manifest(json.dumps({**json.loads(plain.canonical_bytes()), "story": bad}).encode())


LIGHT = {"by": "hour", "options": {"dawn": ["low sun"], "dusk": ["long shadows", "afterglow"]}}


@pytest.mark.parametrize(
    "variables, prompt, message",
    [
        ({"light": {"by": "mood", "options": {"dawn": ["low sun"]}}}, None, "chosen by 'mood', which must be a variable with a list"),
        ({"light": {"by": "hour", "options": {"dawn": ["low sun"], "teatime": ["x"]}}}, None, "['teatime'] are not options of 'hour'"),
        ({"light": {"by": "hour", "options": {"dawn": []}}}, None, "variable 'light': 1..256 options"),
        ({"light": {"by": "hour", "options": {}}}, None, "light.OptionsBy.options"),
        ({"light": LIGHT, "glow": {"by": "light", "options": {"low sun": ["gold"]}}},
         "at {hour}, {light}, {glow}, {palette}", "chosen by 'light', which must be a variable with a list"),
        ({"light": LIGHT}, "a study at {hour} in {light}, {palette}", "{light} has no choice for some tokens"),
        ({"light": LIGHT}, "at {hour}, {light}, {palette} and {light}", "{light} has no choice for some tokens"),
        ({"light": {**LIGHT, "colour": "red"}}, None, "Extra inputs are not permitted"),
        ({"light": "low sun"}, None, "variable 'light': a list of choices, or {\"by\": variable"),
    ],
)
def test_a_variable_chosen_by_another_names_a_list_variable_its_options_and_a_removable_placeholder(variables, prompt, message):
    with pytest.raises(ManifestError) as caught:
        parse_manifest(json.dumps(document(variables={**sample_manifest().variables, **variables},
                                           prompt=prompt or "a study of tidal glass at {hour}, {light}, {palette}")))
    assert message in str(caught.value)


def test_a_variable_chosen_by_another_for_every_option_may_sit_anywhere_and_round_trips():
    every = {"by": "hour", "options": {hour: [f"{hour} light"] for hour in sample_manifest().variables["hour"]}}
    manifest = parse_manifest(json.dumps(document(variables={**sample_manifest().variables, "light": every},
                                                  prompt="{light} on tidal glass at {hour}, {palette}")))
    assert parse_manifest(manifest.canonical_bytes()) == manifest
    assert json.loads(manifest.canonical_bytes())["variables"]["light"] == every
