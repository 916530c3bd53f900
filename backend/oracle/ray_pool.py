"""Renders on a Ray actor pool: many canonical batch-1 renders in flight, on one machine or a cluster.

Throughput comes from concurrency: each token is rendered alone (batch shape 1), so its bytes
depend on its seed, manifest and recorded environment only, never on which tokens it was rendered
beside (an operator could otherwise pick a favourite image by choosing a token's companions). The
exception is a project that commits batches (RENDER_SPEC §5a): each committed batch is one task
on one actor, and its provenance records the batch. Each actor holds one loaded pipeline and is placed with a CPU slot or a
fraction of a GPU (`gpus_per_worker=1/k` puts k renders in flight on one card). An actor that
dies is restarted and its task retried by Ray (`max_restarts`, `max_task_retries`).

Exactly-once is not this module's concern and cannot be broken by it: the oracle driver (one
process) owns the durable job state and checks the chain before it signs. A retried or
duplicated render task yields the same bytes, and the driver stores a job's render once.
"""

from __future__ import annotations

import logging
import math
import os
from typing import Sequence

from backend.render import shipped
from backend.render.manifest import StyleManifest
from backend.render.renderer import Progress, Renderer, RenderResult

log = logging.getLogger("stylemint.oracle")


class RenderActorCore:
    """What one actor does, as a plain class (tested without Ray): one Renderer at batch 1, with
    the style adapters (LoRA files) the driver sent (the actor needs no IPFS access of its own)."""

    def __init__(self, renderer_options: dict):
        self._adapters: dict[str, bytes] = {}
        self.renderer = Renderer(batch_size=1, fetch_adapter=self._adapters.__getitem__, **renderer_options)

    def render(self, manifest_bytes: bytes, adapters: dict[str, bytes], seed: bytes) -> RenderResult:
        from backend.render.manifest import parse_manifest

        self._adapters.update(adapters)
        return self.renderer.render(parse_manifest(manifest_bytes), seed)

    def render_committed(self, manifest_bytes: bytes, adapters: dict[str, bytes], seeds: list[bytes]) -> list[RenderResult]:
        from backend.render.manifest import parse_manifest

        self._adapters.update(adapters)
        return self.renderer.render_committed(parse_manifest(manifest_bytes), seeds)

    def pid(self) -> int:
        return os.getpid()


def ray_init(address: str | None, *, num_cpus: int | None = None) -> None:
    """Join the cluster at `address`, or start a quiet local one bound to 127.0.0.1 (no dashboard,
    no usage report: nothing leaves this machine)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_enable_metrics_collection", "0")  # no metrics agent to fail to reach
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")  # CPU actors see the devices as they are
    import ray

    if ray.is_initialized():
        return
    if address:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False,
                 _node_ip_address="127.0.0.1")


class TooManyWorkers(ValueError):
    """More CPU render actors than the cores can run at the committed thread count."""


def cpu_worker_limit(threads: int, cores: int | None = None) -> int:
    """How many CPU render actors fit: workers x threads <= cores (at least one).

    Measured (bench/oracle.py, this 2-core machine, 2 committed threads): one actor fulfilled
    360.8 tokens/min, two 79.4: two renders of 2 threads each on 2 cores fight over them, far
    worse than one after the other. So renders beyond the cores wait in the job queue instead."""
    return max(1, (cores or os.cpu_count() or 1) // max(1, threads))


def size_cpu_workers(requested: int, threads: int, cores: int | None = None) -> int:
    """`requested` CPU actors, refused with the reason when the cores cannot run them at once."""
    cores = cores or os.cpu_count() or 1
    limit = cpu_worker_limit(threads, cores)
    if requested > limit:
        raise TooManyWorkers(
            f"--workers {requested}: each CPU render runs {threads} threads (the thread count the project's "
            f"environment class commits), and this machine has {cores} cores, so at most {limit} render(s) fit at "
            f"once; more would share cores and run slower than one after the other (2 actors on 2 cores: 4.5x "
            f"slower, bench/oracle.py). Use --workers {limit} (the rest wait in the queue), or a GPU "
            f"(--gpus-per-worker).")
    return requested


class RayRenderPool:
    """The oracle's renderer (`render_batch`, `fingerprint`, ...) over `workers` Ray actors.

    `local` is a Renderer configured like the actors (device, threads; batch 1): it answers
    everything but rendering (the fingerprint the oracle checks against a project's committed
    environment) and never loads a model. `fetch_adapter` reads style adapters by CID for the
    actors (the oracle's content store)."""

    def __init__(self, workers: int, *, local: Renderer, fetch_adapter=None, address: str | None = None,
                 gpus_per_worker: float | None = None, cpus_per_worker: float = 1.0):
        import ray

        if workers < 1:
            raise ValueError("workers must be at least 1")
        if local.batch_size != 1:
            raise ValueError("a render pool renders each token alone (batch size 1)")
        ray_init(address, num_cpus=None if address else max(math.ceil(workers * cpus_per_worker), os.cpu_count() or 1))
        self.local = local
        self.fetch_adapter = fetch_adapter
        options = {"device": local.device, "threads": local.threads, "models_dir": local.models_dir}
        actor = ray.remote(max_restarts=-1, max_task_retries=-1)(RenderActorCore)
        placement = {"num_gpus": gpus_per_worker} if gpus_per_worker else {"num_cpus": cpus_per_worker}
        self.actors = [actor.options(**placement).remote(options) for _ in range(workers)]
        self._next = 0
        log.info("event=render_pool workers=%d %s threads=%d cores=%d address=%s (CPU: workers x threads <= cores; "
                 "renders beyond the workers wait in the queue)", workers,
                 " ".join(f"{k}={v}" for k, v in placement.items()), local.threads, os.cpu_count() or 1,
                 address or "local")

    def __getattr__(self, name):  # fingerprint, device, threads, ...: the actors' configuration
        return getattr(self.local, name)

    def _adapters_for(self, manifest: StyleManifest) -> dict[str, bytes]:
        """Every non-shipped style weight the manifest loads, read once here for all actors."""
        needed = [manifest.style_weights] if manifest.style_weights else list(manifest.styles)
        missing = [w.cid for w in needed if shipped.style_for_cid(w.cid) is None]
        if missing and self.fetch_adapter is None:
            raise ValueError("this render pool has no way to fetch style adapters by CID")
        return {cid: self.fetch_adapter(cid) for cid in missing}

    def render_batch(self, manifest: StyleManifest, seeds: Sequence[bytes | str],
                     progress: Progress | None = None) -> list[RenderResult]:
        """Each seed as its own task, spread over the actors; results in the seeds' order."""
        import ray

        from backend.render.seed import as_bytes32

        self.local.checked_model_dir(manifest)  # built (the reference model) and hash-checked once, here
        if progress:
            progress(0, manifest.steps)  # the steps run in the actors; the page shows the render started
        manifest_bytes = ray.put(manifest.canonical_bytes())
        adapters = ray.put(self._adapters_for(manifest))
        refs = []
        for seed in seeds:
            actor = self.actors[self._next % len(self.actors)]
            self._next += 1
            refs.append(actor.render.remote(manifest_bytes, adapters, as_bytes32(seed, "seed")))
        results = ray.get(refs)
        if progress:
            progress(manifest.steps, manifest.steps)
        return results

    def render_committed(self, manifest: StyleManifest, seeds: Sequence[bytes | str],
                         progress: Progress | None = None) -> list[RenderResult]:
        """One committed batch, as one task on one actor (its rows are rendered together)."""
        import ray

        from backend.render.seed import as_bytes32

        self.local.checked_model_dir(manifest)
        if progress:
            progress(0, manifest.steps)
        actor = self.actors[self._next % len(self.actors)]
        self._next += 1
        results = ray.get(actor.render_committed.remote(manifest.canonical_bytes(), self._adapters_for(manifest),
                                                        [as_bytes32(seed, "seed") for seed in seeds]))
        if progress:
            progress(manifest.steps, manifest.steps)
        return results

    def actor_pids(self) -> list[int]:
        import ray

        return ray.get([actor.pid.remote() for actor in self.actors])

    def shutdown(self) -> None:
        import ray

        for actor in self.actors:
            ray.kill(actor)
        self.actors = []
