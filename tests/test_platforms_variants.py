"""Every exporter takes a list of variants: with two (as issue 15 will give), each platform
holds both, where it draws from (a Moodle category, a Canvas group, variant_seed, config)."""

import io
import json
import xml.etree.ElementTree as ET
import zipfile

import pytest

import symderiv.platforms as platforms
from symderiv.platforms import Variant
from symderiv.solve import solve_set
from symderiv.spec import load

KEY = """
[meta]
title = "One gate"

[[problem]]
id = "g1"
kind = "graph"
points = 2
statement = "Let $f = 3 x^2$. Find $\\\\partial f/\\\\partial x$ at $x = {x}$."
inputs = ["x"]
output = "f"
wrt = ["x"]
[problem.nodes]
f = "3*x**2"
[problem.values]
x = {x}
"""


@pytest.fixture
def two_variants(write_toml, monkeypatch):
    first = write_toml(KEY.format(x=2), "gate.toml")
    second = write_toml(KEY.format(x=3), "gate-v2.toml")

    def variants(path, problem_set, solutions):
        other = load(second)
        return [Variant("1", problem_set, tuple(solutions)),
                Variant("2", other, tuple(solve_set(other, None)))]

    monkeypatch.setattr(platforms, "variants", variants)
    return first


def test_moodle_category_holds_both(two_variants):
    from symderiv.platforms.moodle import export_moodle

    (data,) = export_moodle(two_variants).files.values()
    quiz = ET.fromstring(data)
    kinds = [q.get("type") for q in quiz.findall("question")]
    assert kinds == ["category", "stack", "stack"]
    names = [q.find("name/text").text for q in quiz.findall("question[@type='stack']")]
    assert names == ["g1: Question g1 (variant 1)", "g1: Question g1 (variant 2)"]
    tas = [q.find("questionvariables/text").text for q in quiz.findall("question[@type='stack']")]
    assert tas == ["ta1: 12;\nta2: 6*x;", "ta1: 18;\nta2: 6*x;"]
    texts = [q.find("questiontext/text").text for q in quiz.findall("question[@type='stack']")]
    assert r"at \(x = 2\)" in texts[0] and r"at \(x = 3\)" in texts[1]


def test_canvas_group_holds_both(two_variants):
    from symderiv.platforms.canvas import export_canvas

    (data,) = export_canvas(two_variants).files.values()
    archive = zipfile.ZipFile(io.BytesIO(data))
    (name,) = [n for n in archive.namelist() if n != "imsmanifest.xml"]
    q = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
    groups = ET.fromstring(archive.read(name)).find(f".//{q}section").findall(f"{q}section")
    value_group = groups[0]
    assert value_group.find(f".//{q}selection_number").text == "1"
    items = value_group.findall(f"{q}item")
    assert [i.find(f".//{q}varequal").text for i in items] == ["12", "18"]


def test_prairielearn_seed_picks_the_variant(two_variants, tmp_path):
    import importlib.util

    from symderiv.platforms.prairielearn import export_prairielearn

    files = export_prairielearn(two_variants).files
    (server,) = [k for k in files if k.endswith("server.py")]
    path = tmp_path / "server.py"
    path.write_bytes(files[server])
    spec = importlib.util.spec_from_file_location("gate_server", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    got = []
    for seed in (0, 1, 2, 3):
        data = {"params": {}, "correct_answers": {}, "variant_seed": seed}
        module.generate(data)
        got.append((data["params"]["variant"], data["correct_answers"]["ans1"]))
    assert got == [("1", 12.0), ("2", 18.0), ("1", 12.0), ("2", 18.0)]
    info = json.loads(files[server.replace("server.py", "info.json")])
    assert info["singleVariant"] is False


def test_gradescope_config_has_both(two_variants):
    from symderiv.platforms.gradescope import export_gradescope

    (data,) = export_gradescope(two_variants).files.values()
    archive = zipfile.ZipFile(io.BytesIO(data))
    config = json.loads(archive.read("config.json"))
    assert sorted(config["variants"]) == ["1", "2"]
    assert config["variants"]["2"]["key"] == "key/2/gate-v2.toml"
    assert b"x = 3" in archive.read("key/2/gate-v2.toml")
    assert [t["max_score"] for t in config["variants"]["2"]["tests"]] == [1.0, 1.0]
