"""What changes a render's bytes besides seed and manifest, pinned where possible and recorded.

Measured (../shared/TOOLCHAIN.md): same torch + same thread count + same CPU instruction set give
byte-identical images; another thread count or ISA moves a few pixels by one level. On CUDA,
deterministic algorithms, no TF32 and no cuDNN autotuning give identical runs on one GPU. So we
pin what we can and write the rest into the provenance, where an auditor finds it.
"""

from __future__ import annotations

import os
import platform
from importlib import metadata

DEFAULT_THREADS = 2  # any auditor's machine can run 2 threads; recorded in the fingerprint


def default_device() -> str:
    """`$STYLEMINT_DEVICE` (cpu, cuda, cuda:N), else cuda when available, else cpu."""
    import torch

    wanted = os.environ.get("STYLEMINT_DEVICE")
    if wanted:
        return wanted
    return "cuda" if torch.cuda.is_available() else "cpu"


def default_threads() -> int:
    return int(os.environ.get("STYLEMINT_RENDER_THREADS", DEFAULT_THREADS))


def configure_determinism(device: str, threads: int) -> None:
    """Pin the thread count; on CUDA, diffusers' `enable_full_determinism` settings."""
    import torch

    torch.set_num_threads(threads)
    if device.startswith("cuda"):
        # Must be set before cuBLAS initialises; harmless if already set.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def fingerprint(device: str, dtype: str, threads: int, batch_size: int) -> dict:
    """The render environment, as recorded in provenance and compared by the verifier."""
    import torch

    if device.startswith("cuda"):
        device_name = torch.cuda.get_device_name(torch.device(device))
        cuda = torch.version.cuda or "unknown"
    else:
        device_name = platform.processor() or platform.machine()
        cuda = None
    return {
        "torch": torch.__version__,
        "diffusers": _version("diffusers"),
        "transformers": _version("transformers"),
        "numpy": _version("numpy"),
        "pillow": _version("pillow"),
        "python": platform.python_version(),
        "device": device,
        "device_name": device_name,
        "cuda": cuda,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": threads,
        "dtype": dtype,
        "batch_size": batch_size,
    }


# The environment class a project commits to in its manifest (`environment`): the fields whose
# value changes a render's bytes. Two machines that agree on all of them render byte-identical
# images (measured, ../shared/TOOLCHAIN.md); dtype is the manifest's own `dtype`. `device_name`
# counts on CUDA only (cuBLAS picks kernels per GPU model), `cpu_capability` on CPU only (the
# instruction set torch dispatches to); the other is recorded as null.
CLASS_FIELDS = ("device", "device_name", "cpu_capability", "torch", "diffusers", "transformers", "numpy",
                "threads", "batch_size")


def environment_class(fingerprint: dict) -> dict:
    """The committed-class view of a fingerprint (what a manifest's `environment` holds)."""
    device = str(fingerprint.get("device", "")).split(":")[0]
    on_cuda = device == "cuda"
    return {
        "device": device,
        "device_name": fingerprint.get("device_name") if on_cuda else None,
        "cpu_capability": None if on_cuda else fingerprint.get("cpu_capability"),
        "torch": fingerprint.get("torch"),
        "diffusers": fingerprint.get("diffusers"),
        "transformers": fingerprint.get("transformers"),
        "numpy": fingerprint.get("numpy"),
        "threads": fingerprint.get("threads"),
        "batch_size": fingerprint.get("batch_size"),
    }


def class_differences(committed: dict, other: dict) -> dict:
    """{field: {"committed": a, "other": b}} for every class field where `other` differs."""
    theirs = environment_class(other) if "python" in other else other
    return {k: {"committed": committed.get(k), "other": theirs.get(k)} for k in CLASS_FIELDS
            if committed.get(k) != theirs.get(k)}


def this_machine_class(device: str = "cpu", threads: int = DEFAULT_THREADS, batch_size: int = 1) -> dict:
    """The class this machine renders in: what a sample project commits to."""
    return environment_class(fingerprint(device, "float32", threads, batch_size))


def recorded_environment(fingerprint: dict) -> dict:
    """What a token's provenance records of its render environment: the class fields and the
    dtype, every one of which a verifier can check (against the committed class, the manifest,
    or its own re-render). The rest of the fingerprint (Python and Pillow versions, a CPU's
    marketing name, the CUDA runtime) cannot be checked by anyone, so it is not published as a
    claim; the oracle still logs it."""
    return {**environment_class(fingerprint), "dtype": fingerprint.get("dtype")}
