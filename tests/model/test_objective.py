"""The training objective each architecture declares reaches training, the saved model and the render.

stylemint-gen predicts v on a schedule rescaled to zero terminal SNR and renders from t = 999 (pure
noise, so colour and layout come from the words); the earlier models predict epsilon and (DPM-Solver++, 20 steps) start at
t = 941. A style trained on a base must use that base's objective, read from the saved model."""

import pytest

from backend.model import tiny
from backend.model.train import _diffusion_loss


class _Echo:
    """A stand-in UNet that answers with a fixed tensor (the loss's target or anything else)."""

    def __init__(self, answer):
        self.answer = answer

    def __call__(self, sample, timesteps, states):
        return type("Out", (), {"sample": self.answer})()


def _target(scheduler, latents, noise, timesteps):
    return scheduler.get_velocity(latents, noise, timesteps) if scheduler.config.prediction_type == "v_prediction" else noise


@pytest.mark.parametrize("arch", [tiny.TEXT_THROUGH_ATTENTION, tiny.GENERATIVE], ids=["epsilon", "v"])
def test_the_loss_is_the_architectures_objective(arch):
    import torch

    scheduler = tiny.train_scheduler(arch)
    latents = torch.randn(4, 4, 16, 16, generator=torch.Generator().manual_seed(1))

    def loss_answering(answer_of):
        # The loss draws noise, then timesteps, from the generator: replay them to build the answer.
        replay = torch.Generator().manual_seed(9)
        noise = torch.randn(latents.shape, generator=replay)
        timesteps = torch.randint(0, tiny.TRAIN_TIMESTEPS, (len(latents),), generator=replay)
        answer = answer_of(scheduler, latents, noise, timesteps)
        return float(_diffusion_loss(_Echo(answer), None, latents, scheduler, torch.Generator().manual_seed(9)))

    assert loss_answering(_target) == pytest.approx(0.0, abs=1e-10)
    other = (lambda s, x, n, t: n) if arch.prediction == "v_prediction" else (lambda s, x, n, t: s.get_velocity(x, n, t))
    assert loss_answering(other) > 0.1


def test_the_generative_schedule_ends_at_zero_signal_and_the_first_does_not():
    generative, first = tiny.train_scheduler(tiny.GENERATIVE), tiny.train_scheduler(tiny.FIRST)
    assert float(generative.alphas_cumprod[-1]) == 0.0 and generative.config.prediction_type == "v_prediction"
    assert float(first.alphas_cumprod[-1]) > 0.0 and first.config.prediction_type == "epsilon"


@pytest.mark.parametrize("arch, first_step", [(tiny.TEXT_THROUGH_ATTENTION, 941), (tiny.GENERATIVE, 999)])
def test_a_render_starts_where_the_objective_allows(arch, first_step):
    """The renderer builds the manifest's scheduler from the model's saved config (renderer.py):
    DPM-Solver++ at 20 steps starts from pure noise on stylemint-gen, at t = 941 on the others."""
    from diffusers import DPMSolverMultistepScheduler

    render = DPMSolverMultistepScheduler.from_config(tiny.render_scheduler(arch).config)
    render.set_timesteps(20)
    assert int(render.timesteps[0]) == first_step
    assert render.config.prediction_type == arch.prediction


def test_a_style_trains_with_its_bases_saved_objective(tmp_path):
    tiny.render_scheduler(tiny.GENERATIVE).save_pretrained(tmp_path / "v" / "scheduler")
    tiny.render_scheduler(tiny.FIRST).save_pretrained(tmp_path / "eps" / "scheduler")
    v, eps = tiny.train_scheduler_of(tmp_path / "v"), tiny.train_scheduler_of(tmp_path / "eps")
    assert v.config.prediction_type == "v_prediction" and float(v.alphas_cumprod[-1]) == 0.0
    assert eps.config.prediction_type == "epsilon" and float(eps.alphas_cumprod[-1]) > 0.0


def test_the_shipped_models_declare_the_objective_they_were_trained_with():
    """stylemint-gen's saved config (what renders and its styles' training read) is v at zero
    terminal SNR from t = 999; stylemint-tiny-2's is epsilon, unchanged (its tokens keep verifying)."""
    from backend.render import shipped

    gen, tiny2 = (tiny.train_scheduler_of(shipped.MODELS[m].directory) for m in (shipped.GEN_MODEL.id, "stylemint-tiny-2"))
    assert gen.config.prediction_type == "v_prediction" and float(gen.alphas_cumprod[-1]) == 0.0
    assert tiny2.config.prediction_type == "epsilon" and float(tiny2.alphas_cumprod[-1]) > 0.0
