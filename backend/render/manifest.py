"""Style manifests: everything a style project renders with, validated, in canonical bytes.

The contract stores the manifest's CID and sha256; the oracle and auditors render from it. So a
manifest must be unambiguous (no unknown fields, closed sets for schedulers and dtypes, bounded
numbers) and its canonical bytes must be reproducible from the parsed document.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import string
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from backend.errors import PermanentError

MANIFEST_VERSION = 1
MAX_MANIFEST_BYTES = 64 * 1024
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")

# Deterministic (non-ancestral) schedulers: each step is a pure function of the model output, so
# no extra noise is drawn after the initial latents. LMS is not offered: diffusers' LMS needs scipy,
# which stylemint does not install, and every render with it failed (found by rendering them all).
SCHEDULERS = {
    "ddim": "DDIMScheduler",
    "euler": "EulerDiscreteScheduler",
    "dpm++2m": "DPMSolverMultistepScheduler",
    "pndm": "PNDMScheduler",
    "heun": "HeunDiscreteScheduler",
}
# Scheduler settings an artist may override, each with its closed set or bounds: an unbounded
# option is a cost an artist chooses and the oracle pays (solver_order 1e9 allocates linearly).
# The stochastic algorithm types are left out: a render draws no noise after its initial latents.
SCHEDULER_OPTIONS: dict[str, frozenset | tuple] = {
    "timestep_spacing": frozenset({"leading", "trailing", "linspace"}),
    "steps_offset": (int, 0, 10),
    "beta_schedule": frozenset({"linear", "scaled_linear", "squaredcos_cap_v2"}),
    "beta_start": (float, 1e-6, 0.1),
    "beta_end": (float, 1e-4, 0.999),
    "prediction_type": frozenset({"epsilon", "v_prediction", "sample"}),
    "use_karras_sigmas": (bool,),
    "final_sigmas_type": frozenset({"zero", "sigma_min"}),
    "solver_order": (int, 1, 3),
    "algorithm_type": frozenset({"dpmsolver++", "dpmsolver"}),
}


def _check_option(key: str, value) -> None:
    """One scheduler option against its closed set or bounds (ValueError names the rule)."""
    rule = SCHEDULER_OPTIONS[key]
    if isinstance(rule, frozenset):
        if not isinstance(value, str) or value not in rule:
            raise ValueError(f"scheduler option {key} must be one of {sorted(rule)}")
        return
    kind = rule[0]
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"scheduler option {key} must be true or false")
        return
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int and not (isinstance(value, int) and not isinstance(value, bool)):
        raise ValueError(f"scheduler option {key} must be an integer {rule[1]}..{rule[2]}")
    if not numeric or not math.isfinite(value) or not rule[1] <= value <= rule[2]:
        raise ValueError(f"scheduler option {key} must be a finite number {rule[1]}..{rule[2]}")


class ManifestError(ValueError, PermanentError):
    """A manifest that cannot be rendered, with every problem listed."""


def _sha256_hex(value: str) -> str:
    if not SHA256_HEX.match(value):
        raise ValueError("must be 64 lowercase hex digits")
    return value


Sha256Hex = Annotated[str, AfterValidator(_sha256_hex)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ModelRef(_Strict):
    """Which model renders: `reference` (the built-in tiny model), a local directory or a hub id."""

    id: str = Field(min_length=1, max_length=256)
    sha256: Sha256Hex


class SchedulerSpec(_Strict):
    name: str
    config: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in SCHEDULERS:
            raise ValueError(f"unknown scheduler {value!r}; one of {', '.join(sorted(SCHEDULERS))}")
        return value

    @field_validator("config")
    @classmethod
    def _options(cls, value: dict) -> dict:
        unknown = sorted(set(value) - set(SCHEDULER_OPTIONS))
        if unknown:
            raise ValueError(f"unknown scheduler options {unknown}; allowed: {sorted(SCHEDULER_OPTIONS)}")
        for key, option in value.items():
            _check_option(key, option)
        return value


class StyleWeights(_Strict):
    """Extra weights layered on the model, fetched by CID and checked by sha256."""

    # trigger_kv: a trigger-scoped adapter (backend/render/trigger_adapter.py), only as a `styles` entry.
    kind: Literal["lora", "textual_inversion", "trigger_kv"]
    cid: str = Field(min_length=1, max_length=100)
    sha256: Sha256Hex
    scale: float = Field(default=1.0, ge=0.0, le=2.0)
    token: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _token_for_inversion(self) -> "StyleWeights":
        if self.kind == "textual_inversion" and not self.token:
            raise ValueError("textual_inversion needs the token it defines (e.g. '<my-style>')")
        return self


class Style(StyleWeights):
    """A style the project blends and pays by measured contribution: its adapter and the trigger
    word(s) in the prompt that invoke it (docs/RENDER_SPEC.md §13)."""

    trigger: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9]*( [a-z][a-z0-9]*)*$")


ATTRIBUTION_METHODS = ("attention", "counterfactual")
MAX_STYLES = 4

Version = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z.+_-]+$")]


class RenderEnvironment(_Strict):
    """The render environment class the project commits to (docs/RENDER_SPEC.md §5).

    Tokens are rendered in it, and an auditor in it must reproduce them byte for byte. Without a
    commitment the oracle could claim any environment per token and so switch on the verifier's
    tolerance; with one, a claim that differs is itself a lie the verifier names. Bounded, since a
    verifier renders at this batch shape: `batch_size` <= 8.
    """

    device: Literal["cpu", "cuda"]
    device_name: str | None = Field(default=None, min_length=1, max_length=128)
    cpu_capability: str | None = Field(default=None, min_length=1, max_length=32)
    torch: Version
    diffusers: Version
    transformers: Version
    numpy: Version
    threads: int = Field(ge=1, le=64)
    batch_size: int = Field(ge=1, le=8)

    @model_validator(mode="after")
    def _device_fields(self) -> "RenderEnvironment":
        if self.device == "cuda" and (not self.device_name or self.cpu_capability is not None):
            raise ValueError("a cuda environment names its GPU (device_name) and no cpu_capability")
        if self.device == "cpu" and (not self.cpu_capability or self.device_name is not None):
            raise ValueError("a cpu environment names its cpu_capability (e.g. AVX512) and no device_name")
        return self


class ProjectStory(_Strict):
    """What the artist tells collectors about the project; shown on its page, never rendered.
    The cover is an image pinned beside the manifest (its CIDv1, as `POST /api/images` returns)."""

    description: str = Field(default="", max_length=2000)
    statement: str = Field(default="", max_length=2000)
    licence: str = Field(default="", max_length=64)
    cover_cid: str | None = Field(default=None, pattern=r"^baf[a-z2-7]{50,100}$")


class OptionsBy(_Strict):
    """A variable whose choices depend on another variable's (docs/RENDER_SPEC.md §4): `options[value]`
    are its choices where variable `by` chose `value`. Where `by`'s choice has no entry the variable
    has no choice (no trait), and its placeholder leaves the prompt with the ", " before it.

    Why: stylemint-gen's captions name a layout only for the motifs that have one ("flow lines, dense,
    horizontal, in ember colours"), and its renders follow a prompt worded like them. Without the
    layout word, flow lines were read as flow lines in 0.05 of 300 renders; with it, in 1.0."""

    by: str
    options: dict[str, list[str]] = Field(min_length=1, max_length=256)


def all_choices(options: list[str] | OptionsBy) -> list[str]:
    """Every choice a variable can make, whatever the other variables chose."""
    return [choice for choices in options.options.values() for choice in choices] if isinstance(options, OptionsBy) else options


def _check_options(name: str, options: list[str]) -> None:
    if not 1 <= len(options) <= 256 or any(not o or len(o) > 100 for o in options):
        raise ValueError(f"variable {name!r}: 1..256 options of 1..100 characters")


class StyleManifest(_Strict):
    """What a style project renders with. See docs/RENDER_SPEC.md for every field."""

    version: Literal[1] = MANIFEST_VERSION
    name: str = Field(min_length=1, max_length=64)
    model: ModelRef
    prompt: str = Field(min_length=1, max_length=1000)
    variables: dict[str, list[str] | OptionsBy] = Field(default_factory=dict)
    negative_prompt: str = Field(default="", max_length=1000)
    scheduler: SchedulerSpec
    steps: int = Field(ge=1, le=150)
    guidance_scale: float = Field(ge=0.0, le=30.0)
    width: int = Field(ge=64, le=2048)
    height: int = Field(ge=64, le=2048)
    dtype: Literal["float32", "float16", "bfloat16"] = "float32"
    style_weights: StyleWeights | None = None
    # Styles blended and attributed (section 13); `style_weights` is one unattributed adapter.
    styles: list[Style] = Field(default_factory=list, max_length=MAX_STYLES)
    attribution: Literal["attention", "counterfactual"] = "attention"
    environment: RenderEnvironment | None = None
    # Not part of the render. Written only when present, so the bytes (and hashes) of every
    # manifest without a story stay what they were.
    story: ProjectStory | None = None

    @field_validator("guidance_scale", mode="before")
    @classmethod
    def _float(cls, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value

    @field_validator("width", "height")
    @classmethod
    def _multiple_of_8(cls, value: int) -> int:
        if value % 8:
            raise ValueError("must be a multiple of 8")
        return value

    @field_validator("variables", mode="before")
    @classmethod
    def _variable_shapes(cls, value):
        # One message for a variable of neither shape, not one per member of the union.
        for name, options in value.items() if isinstance(value, dict) else ():
            if not isinstance(options, (list, dict, OptionsBy)):
                raise ValueError(f'variable {name!r}: a list of choices, or {{"by": variable, "options": {{choice: list}}}}')
        return value

    @field_validator("variables")
    @classmethod
    def _variables(cls, value: dict[str, list[str] | OptionsBy]) -> dict[str, list[str] | OptionsBy]:
        for name, options in value.items():
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", name):
                raise ValueError(f"variable name {name!r}: lowercase letters, digits, underscore")
            for choices in options.options.values() if isinstance(options, OptionsBy) else [options]:
                _check_options(name, choices)
        for name, options in value.items():
            if isinstance(options, OptionsBy):
                if not isinstance(value.get(options.by), list):
                    raise ValueError(f"variable {name!r} is chosen by {options.by!r}, which must be a variable "
                                     "with a list of options")
                unknown = sorted(set(options.options) - set(value[options.by]))
                if unknown:
                    raise ValueError(f"variable {name!r}: {unknown} are not options of {options.by!r}")
        return value

    def optional_variables(self) -> set[str]:
        """The variables that have no choice for some tokens (an OptionsBy without an entry for every
        option of its `by`)."""
        return {name for name, options in self.variables.items() if isinstance(options, OptionsBy)
                and set(options.options) != set(self.variables[options.by])}

    @model_validator(mode="after")
    def _template_matches_variables(self) -> "StyleManifest":
        fields = set()
        if "{{" in self.prompt or "}}" in self.prompt:
            # str.format would turn {{x}} into {x}: one more rule for every reimplementation. Forbidden.
            raise ValueError("prompt template: literal braces ({{ or }}) are not allowed")
        try:
            for _, field, spec, conversion in string.Formatter().parse(self.prompt):
                if field is not None:
                    if not field or spec or conversion:
                        raise ValueError("prompt placeholders are plain {name}")
                    fields.add(field)
        except ValueError as err:
            raise ValueError(f"prompt template: {err}") from None
        if self.styles and self.style_weights:
            raise ValueError("give either style_weights (one unattributed adapter) or styles, not both")
        if self.style_weights and self.style_weights.kind == "trigger_kv":
            raise ValueError("a trigger_kv adapter acts only through its trigger: list it in styles, with the trigger")
        triggers = [style.trigger for style in self.styles]
        if len(set(triggers)) != len(triggers):
            raise ValueError(f"style triggers must differ: {triggers}")
        for trigger in triggers:
            if not contains_words(self.prompt, trigger):
                raise ValueError(f"style trigger {trigger!r} is not a word of the prompt, so nothing invokes it")
        missing, unused = fields - set(self.variables), set(self.variables) - fields
        if missing:
            raise ValueError(f"prompt uses undefined variables {sorted(missing)}")
        if unused:
            raise ValueError(f"variables not used by the prompt: {sorted(unused)}")
        for name in self.optional_variables():
            # Its placeholder leaves with the ", " before it, so that must be there, every time.
            if self.prompt.count("{" + name + "}") != self.prompt.count(", {" + name + "}"):
                raise ValueError(f"prompt template: {{{name}}} has no choice for some tokens, so each "
                                 f"{{{name}}} must follow \", \" (it is removed with it)")
        return self

    # -- bytes and hashes ---------------------------------------------------------------

    def canonical_bytes(self) -> bytes:
        """Sorted keys, no whitespace, UTF-8; defaults written out, so the bytes say everything
        (but `story` only when there is one)."""
        document = self.model_dump(mode="json")
        if document["story"] is None:
            del document["story"]
        return canonical_json(document)

    def sha256(self) -> bytes:
        return hashlib.sha256(self.canonical_bytes()).digest()

    def sha256_hex(self) -> str:
        return self.sha256().hex()


def contains_words(text: str, words: str) -> bool:
    """Whether `words` occurs in `text` as whole words (not inside a longer word)."""
    return re.search(r"(?<![a-z0-9])" + re.escape(words) + r"(?![a-z0-9])", text) is not None


def canonical_json(document) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON (only finite numbers are)")


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        duplicated = sorted({key for key in keys if keys.count(key) > 1})
        raise ValueError(f"duplicate key(s) {', '.join(map(repr, duplicated))[:100]}: readers disagree on "
                         "which value counts")
    return dict(pairs)


def strict_json(raw: bytes | str):
    """JSON as this project accepts it from others, one reading only: UTF-8 without a byte-order
    mark, finite numbers, each key once per object (Python keeps the last of a duplicated key,
    other readers the first), nothing after the document but whitespace; nesting too deep for the
    parser is a ValueError like any other bad input."""
    if isinstance(raw, (bytes, bytearray)):
        if raw.startswith(b"\xef\xbb\xbf"):
            raise ValueError("a byte-order mark before the document")
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(f"not UTF-8: {err}") from None
    elif raw.startswith("\ufeff"):
        raise ValueError("a byte-order mark before the document")
    try:
        return json.loads(raw, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def parse_manifest(data: bytes | str | dict, *, expected_sha256: bytes | str | None = None) -> StyleManifest:
    """Validate a manifest; with `expected_sha256`, the given bytes must hash to it.

    The hash is checked over the bytes as received (what the contract committed to), before any
    parsing; a document that parses but is not in canonical form is still accepted for rendering
    when its hash matches, since the commitment is to those bytes.
    """
    if isinstance(data, dict):
        raw = canonical_json(data)
    else:
        raw = data.encode() if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"manifest is {len(raw)} bytes; the limit is {MAX_MANIFEST_BYTES}")
    if expected_sha256 is not None:
        expected = expected_sha256 if isinstance(expected_sha256, bytes) else bytes.fromhex(expected_sha256.removeprefix("0x"))
        actual = hashlib.sha256(raw).digest()
        if actual != expected:
            raise ManifestError(f"manifest hash mismatch: bytes hash to {actual.hex()}, expected {expected.hex()}")
    try:
        document = strict_json(raw)
    except ValueError as err:  # not UTF-8, not JSON, NaN/Infinity, too deep, an integer past Python's digit limit
        raise ManifestError(f"manifest is not JSON: {err}") from None
    if not isinstance(document, dict):
        raise ManifestError("manifest must be a JSON object")
    try:
        return StyleManifest.model_validate(document)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(manifest)'}: {e['msg']}" for e in err.errors()
        )
        raise ManifestError(f"invalid manifest: {problems}") from None
