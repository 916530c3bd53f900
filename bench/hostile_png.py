"""Memory of the verifier's image step for an honest token and a hostile one; prints `key: value`.

    .venv/bin/python bench/hostile_png.py

Each case runs in a fresh Python process that imports the verifier module and reads the PNG from
a file, then takes the image step on the bytes: the PNG header check against the
manifest's size, then the decode. `hostile_unchecked` decodes the hostile PNG without the check,
which is what a 10000 x 10000 PNG of about 100 KB cost before. Peak RSS from getrusage.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STEP = """
import resource, sys
sys.path.insert(0, {root!r})
from backend.render.png_header import PngRefused, check_png
from backend.verify.verifier import _pixels
case = {case!r}
data = open({path!r}, "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcome = "decoded"
try:
    if case != "hostile_unchecked":
        check_png(data, 64, 64)
    _pixels(data)
except PngRefused:
    outcome = "refused"
print(len(data), outcome, before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def png(size: tuple[int, int], mode: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format="PNG")
    return buffer.getvalue()


def measure(case: str, directory: Path) -> tuple[int, str, int, int]:
    """Made here, read there: the child's memory is the image step's alone."""
    path = directory / f"{case}.png"
    path.write_bytes(png((64, 64), "RGB") if case == "honest" else png((10_000, 10_000), "L"))
    done = subprocess.run([sys.executable, "-c", STEP.format(root=str(ROOT), case=case, path=str(path))],
                          capture_output=True, text=True, check=True)
    size, outcome, before, peak = done.stdout.split()
    return int(size), outcome, int(before), int(peak)


def main() -> None:
    figures = {}
    with tempfile.TemporaryDirectory() as directory:
        results = {case: measure(case, Path(directory)) for case in ("honest", "hostile", "hostile_unchecked")}
    for case, (size, outcome, before, peak) in results.items():
        figures[f"{case}_png_bytes"] = size
        figures[f"{case}_outcome"] = outcome
        figures[f"{case}_peak_rss_mb"] = round(peak / 1024, 1)
        figures[f"{case}_step_rss_growth_mb"] = round((peak - before) / 1024, 1)
    figures["hostile_over_honest_peak"] = round(figures["hostile_peak_rss_mb"] / figures["honest_peak_rss_mb"], 3)
    for key, value in figures.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
