"""stylemint-tiny and stylemint-tiny-2: the architecture of the shipped text-to-image models, in the Stable Diffusion layout.

A model whose words steer its pictures, small enough to train from scratch on a 2-core CPU and to
render a 64x64 image in well under a second there, while loading with the stock
`StableDiffusionPipeline.from_pretrained` like any production model (so the renderer, oracle and
verifier treat it exactly as they would SD 1.5):
- VAE: `AutoencoderKL`, 64x64x3 <-> 16x16x4 (factor 4), trained on all four rendering treatments
  so that the style adapters can be decoded too.
- UNet: `UNet2DConditionModel` on 16x16 latents, cross-attention at 8x8 and 4x4 only (attention at
  16x16 measured about 4x slower per step here), and the caption pooled into the timestep embedding
  (`addition_embed_type="text"`: the stock pipeline feeds it from the same text states, no extra
  inputs), which is what makes colour and shape words act on every resolution. stylemint-tiny-2
  (`TEXT_THROUGH_ATTENTION`) drops the pooled caption and adds cross-attention at 16x16 instead,
  so that a word acts only through the attention paid to it (see `Architecture`).
- Text: a 2-layer, width-64 `CLIPTextModel` over a word-level CLIP BPE vocabulary: every caption
  word is one token (its merges are generated), any other text falls back to single bytes.
- Scheduler: DDIM over the cosine (`squaredcos_cap_v2`) training schedule, epsilon prediction,
  "leading" timestep spacing. The cosine schedule ends at zero signal (alpha_bar(999) = 2.4e-9),
  where an epsilon model's x0 estimate divides by sqrt(alpha_bar): "trailing" spacing starts
  there and turned every render into coloured noise (measured); "leading" starts at t = 951 (20
  steps) or 901 (10 steps), where sqrt(alpha_bar) is 0.08..0.15, and renders clean shapes.
"""

from __future__ import annotations

from backend.model import procedural

from dataclasses import dataclass

IMAGE_SIZE = procedural.SIZE
LATENT_SIZE = 16
LATENT_CHANNELS = 4
MAX_TOKENS = 20
TRAIN_TIMESTEPS = 1000
BETA_SCHEDULE = "squaredcos_cap_v2"



@dataclass(frozen=True)
class Architecture:
    """What differs between the shipped stylemint-tiny (`FIRST`) and its successor under training.

    `TEXT_THROUGH_ATTENTION` (issue 28): no pooled caption in the timestep embedding, so text
    reaches the image only through cross-attention (where the attention measures can see it);
    cross-attention at the 16x16 grid too, without self-attention there (`only_cross_attention`:
    measured 1.29 s a step of 32 against 1.50 with a full transformer block, one thread); and a
    32-token window, since a word outside the vocabulary costs a token per letter."""

    pooled_caption: bool = True
    attention_at_16: bool = False
    max_tokens: int = 20
    # What it draws and at what size: the procedural scenes at 64 px through a factor-4 VAE, or
    # (GENERATIVE, issue 32) the generative compositions at 128 px through a factor-8 VAE onto the
    # same 16x16 latent grid, so the UNet's cost is unchanged (measured: 0.43 CPU s an image at
    # 128 px against 0.40 at 64 px, random weights, 10 steps, guidance 3, 2 threads).
    subjects: str = "scenes"
    image_size: int = 64
    vae_blocks: tuple[int, ...] = (32, 48, 64)
    # GENERATIVE's UNet is a quarter of stylemint-tiny-2's (0.91 M parameters against 3.48 M) and
    # its files are stored in float16 (rendered in the manifest's dtype): the weights of every shipped
    # model share one 40 MB budget in git, of which the two earlier models and their styles take 35.6.
    unet_blocks: tuple[int, ...] = (64, 64, 96)
    stored_dtype: str = "float32"
    # The training objective. The earlier models predict epsilon on the cosine schedule, whose last
    # step keeps signal where sampling starts (t = 941 for DPM-Solver++ at 20 steps, alpha_bar 0.008): a model
    # trained so reads the canvas's colour from the first step's noise, not from the caption
    # (measured on stylemint-gen's first weights: the named palette read right in 0.28 of renders).
    # GENERATIVE predicts v on the schedule rescaled to zero terminal SNR (Lin et al. 2024), and
    # renders from t = 999 ("trailing"), where the input is pure noise and colour can only come
    # from the words.
    prediction: str = "epsilon"
    zero_terminal_snr: bool = False


FIRST = Architecture()
TEXT_THROUGH_ATTENTION = Architecture(pooled_caption=False, attention_at_16=True, max_tokens=32)
GENERATIVE = Architecture(pooled_caption=False, attention_at_16=True, max_tokens=32, subjects="compositions",
                          image_size=128, vae_blocks=(32, 48, 64, 64), unet_blocks=(32, 32, 48), stored_dtype="float16",
                          prediction="v_prediction", zero_terminal_snr=True)


def vocabulary(arch: Architecture = FIRST) -> list[str]:
    """The words the architecture's captions and style prompts use (each one token)."""
    if arch.subjects == "compositions":
        from backend.model import compositions

        return sorted(set(compositions.vocabulary()) | set(procedural.STYLES) | {"style"})
    return procedural.vocabulary()


def _byte_alphabet() -> list[str]:
    from tokenizers import pre_tokenizers

    return sorted(pre_tokenizers.ByteLevel.alphabet())


def vocab_and_merges(words: list[str]) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A CLIP BPE vocabulary in which each of `words` is a single token, learned by `tokenizers`.

    CLIP's BPE splits a word into characters (the last one suffixed `</w>`) and applies merges by
    rank; hand-made merge chains conflict between words (measured: "inkline" split by a merge of
    "light"), so the merges come from the library's own BPE trainer run on the word list until
    nothing is left to merge. The byte alphabet stays in the vocabulary: any other text falls
    back to single characters. `tokenizer()` checks every word.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    special = ["<|startoftext|>", "<|endoftext|>"]
    alphabet = _byte_alphabet()
    bpe = Tokenizer(models.BPE(end_of_word_suffix="</w>"))
    bpe.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(
        vocab_size=100_000, min_frequency=1, special_tokens=special, initial_alphabet=alphabet,
        end_of_word_suffix="</w>", show_progress=False,
    )
    bpe.train_from_iterator(words, trainer=trainer)
    learned = __import__("json").loads(bpe.to_str())["model"]
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for char in alphabet:
        vocab[char] = len(vocab)
    for char in alphabet:
        vocab[char + "</w>"] = len(vocab)
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in learned["merges"]]
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    return vocab, merges


def tokenizer(arch: Architecture = FIRST):
    """The word-level tokenizer over the architecture's vocabulary (`vocabulary`)."""
    from transformers import CLIPTokenizer

    words = vocabulary(arch)
    vocab, merges = vocab_and_merges(words)
    tok = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=arch.max_tokens,
                        unk_token="<|endoftext|>", bos_token="<|startoftext|>", eos_token="<|endoftext|>",
                        pad_token="<|endoftext|>")
    for word in words:
        ids = tok(word, add_special_tokens=False)["input_ids"]
        if ids != [vocab[word + "</w>"]]:
            raise RuntimeError(f"tokenizer splits {word!r} into {ids}: the generated merges conflict")
    return tok


def text_encoder(vocab_size: int, arch: Architecture = FIRST):
    from transformers import CLIPTextConfig, CLIPTextModel

    return CLIPTextModel(CLIPTextConfig(
        vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, max_position_embeddings=arch.max_tokens, projection_dim=64,
        bos_token_id=0, eos_token_id=1, pad_token_id=1,
    ))


def unet(arch: Architecture = FIRST):
    from diffusers import UNet2DConditionModel

    first = "CrossAttnDownBlock2D" if arch.attention_at_16 else "DownBlock2D"
    last = "CrossAttnUpBlock2D" if arch.attention_at_16 else "UpBlock2D"
    extra = ({"addition_embed_type": "text", "addition_embed_type_num_heads": 4} if arch.pooled_caption else {})
    if arch.attention_at_16:
        extra["only_cross_attention"] = (True, False, False)
    return UNet2DConditionModel(
        sample_size=LATENT_SIZE,
        in_channels=LATENT_CHANNELS,
        out_channels=LATENT_CHANNELS,
        layers_per_block=1,
        block_out_channels=arch.unet_blocks,
        down_block_types=(first, "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", last),
        cross_attention_dim=64,
        attention_head_dim=4,
        norm_num_groups=16,
        **extra,
    )


def vae(arch: Architecture = FIRST):
    from diffusers import AutoencoderKL

    blocks = len(arch.vae_blocks)
    return AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=LATENT_CHANNELS,
        block_out_channels=arch.vae_blocks, mid_block_add_attention=False,
        down_block_types=("DownEncoderBlock2D",) * blocks,
        up_block_types=("UpDecoderBlock2D",) * blocks,
        layers_per_block=1, norm_num_groups=16, sample_size=arch.image_size,
    )


def train_scheduler(arch: Architecture = FIRST):
    from diffusers import DDPMScheduler

    return DDPMScheduler(num_train_timesteps=TRAIN_TIMESTEPS, beta_schedule=BETA_SCHEDULE, prediction_type=arch.prediction,
                         rescale_betas_zero_snr=arch.zero_terminal_snr, clip_sample=False)


def train_scheduler_of(model_directory) -> object:
    """The training noise schedule and objective of a saved model (its scheduler's config): what a
    style trained on it must use, whichever objective the base was trained with."""
    from diffusers import DDPMScheduler

    return DDPMScheduler.from_config(DDPMScheduler.load_config(model_directory, subfolder="scheduler"), clip_sample=False)


def render_scheduler(arch: Architecture = FIRST):
    from diffusers import DDIMScheduler

    # At zero terminal SNR sampling starts at t = 999 (pure noise): "trailing" spacing (which
    # ignores steps_offset; diffusers warns about any value but 1).
    return DDIMScheduler(num_train_timesteps=TRAIN_TIMESTEPS, beta_schedule=BETA_SCHEDULE, prediction_type=arch.prediction,
                         rescale_betas_zero_snr=arch.zero_terminal_snr, clip_sample=False, set_alpha_to_one=False,
                         timestep_spacing="trailing" if arch.zero_terminal_snr else "leading", steps_offset=1)


def pipeline(*, vae_model, unet_model, text_model, tok, arch: Architecture = FIRST):
    from diffusers import StableDiffusionPipeline

    return StableDiffusionPipeline(
        vae=vae_model, unet=unet_model, text_encoder=text_model, tokenizer=tok, scheduler=render_scheduler(arch),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )


def parameter_count(module) -> int:
    return sum(p.numel() for p in module.parameters())
