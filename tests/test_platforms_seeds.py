"""The four seed files export to all four platforms, byte-identical on a second run."""

import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from symderiv.platforms.canvas import export_canvas
from symderiv.platforms.gradescope import export_gradescope
from symderiv.platforms.moodle import export_moodle
from symderiv.platforms.prairielearn import export_prairielearn

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "problems").glob("*.toml"))

# what each seed gives each platform, counted by hand from `symderiv solve`: Moodle questions
# (problems with an answer in Maxima), Canvas items (numbers, numeric matrices entry by entry,
# expressions without pieces), PrairieLearn folders, Gradescope tests (every label). E.g.
# nndl_hw1 on Canvas: σ′ and softplus′ (Q1; the softmax Jacobian is a matrix of expressions),
# Q4's closed form and its two finite step counts (the third is ∞): 5.
EXPECTED = {
    "ama564_a1": {"moodle": 3, "canvas": 33, "prairielearn": 3, "gradescope": 24},
    "cs189_hw": {"moodle": 4, "canvas": 4, "prairielearn": 3, "gradescope": 21},
    "dsga1008_hw1": {"moodle": 3, "canvas": 5, "prairielearn": 3, "gradescope": 48},
    "nndl_hw1": {"moodle": 2, "canvas": 5, "prairielearn": 2, "gradescope": 21},
}
# solving a seed takes 1-2 s of CPU: one seed in the quick loop, the others marked slow
PARAMS = [pytest.param(p, marks=() if p.stem == "cs189_hw" else pytest.mark.slow, id=p.stem)
          for p in SEEDS]


def _count(platform, files):
    if platform == "moodle":
        (data,) = files.values()
        quiz = ET.fromstring(data)
        return len([q for q in quiz.findall("question") if q.get("type") != "category"])
    if platform == "canvas":
        (data,) = files.values()
        archive = zipfile.ZipFile(io.BytesIO(data))
        (name,) = [n for n in archive.namelist() if n != "imsmanifest.xml"]
        ET.fromstring(archive.read("imsmanifest.xml"))
        return len(list(ET.fromstring(archive.read(name)).iter(
            "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}item")))
    if platform == "prairielearn":
        return sum(name.endswith("/server.py") for name in files)
    (data,) = files.values()
    import json
    config = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("config.json"))
    return len(config["variants"]["1"]["tests"])


@pytest.mark.parametrize("seed", PARAMS)
def test_seed_exports_everywhere(seed):
    exporters = {"moodle": export_moodle, "canvas": export_canvas,
                 "prairielearn": export_prairielearn, "gradescope": export_gradescope}
    counts = {}
    for platform, run in exporters.items():
        first = run(seed)
        assert first.files and all(first.files.values())
        assert not [s for s in first.skipped if s.reason.startswith("not solved")]
        assert run(seed).files == first.files  # byte-identical
        counts[platform] = _count(platform, first.files)
    assert counts == EXPECTED[seed.stem]
