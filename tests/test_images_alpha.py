"""RGBA, LA and palette images: one rule in srhw.data.read_image, so eval, compare and training agree.

Opaque alpha or a palette: read as RGB/grey with a one-line note on stderr. Any transparent pixel: refused in
one line (exit 2 from the CLI), nothing written.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srhw.core.errors import SrhwError
from srhw.data import read_image
from srhw.data.imresize import imresize

REPO = Path(__file__).resolve().parents[1]


def rgb(h=24, w=28, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_opaque_rgba_and_palette_are_read_with_a_note(tmp_path, capsys):
    x = rgb()
    Image.fromarray(np.dstack([x, np.full(x.shape[:2], 255, np.uint8)]), "RGBA").save(tmp_path / "a.png")
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), x)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "a.png: RGBA image read as RGB" in err[0]
    pal = Image.fromarray(x).quantize(16)
    pal.save(tmp_path / "p.png")
    got = read_image(tmp_path / "p.png")
    np.testing.assert_array_equal(got, np.asarray(pal.convert("RGB")))
    assert "p.png: P image read as RGB (its palette" in capsys.readouterr().err
    g = x[..., 0]
    Image.fromarray(np.dstack([g, np.full(g.shape, 255, np.uint8)]), "LA").save(tmp_path / "la.png")
    np.testing.assert_array_equal(read_image(tmp_path / "la.png"), g)
    assert "read as grey" in capsys.readouterr().err
    Image.fromarray(x).save(tmp_path / "plain.png")
    read_image(tmp_path / "plain.png")
    assert capsys.readouterr().err == "", "plain RGB needs no note"


def test_transparent_pixels_are_refused(tmp_path):
    x = rgb()
    a = np.full(x.shape[:2], 255, np.uint8)
    a[3, 4] = 0
    Image.fromarray(np.dstack([x, a]), "RGBA").save(tmp_path / "t.png")
    with pytest.raises(SrhwError, match=r"t\.png: RGBA image with 1 transparent pixel"):
        read_image(tmp_path / "t.png")
    pal = Image.fromarray(x).quantize(16)
    pal.info["transparency"] = 0
    pal.save(tmp_path / "pt.png", transparency=0)
    with pytest.raises(SrhwError, match="transparent pixel"):
        read_image(tmp_path / "pt.png")


def _set(root, hr_img, name="Tiny"):
    (root / name / "HR").mkdir(parents=True)
    hr_img.save(root / name / "HR" / "a.png")
    return root


@pytest.mark.parametrize("command", ["eval", "compare", "train"])
def test_the_same_rule_in_eval_compare_and_training(tmp_path, command):
    x = rgb(40, 44)
    a = np.full(x.shape[:2], 255, np.uint8)
    a[0, 0] = 10
    root = _set(tmp_path / "data", Image.fromarray(np.dstack([x, a]), "RGBA"))
    args = {"eval": ["eval", "--model", "bicubic", "--scale", "2", "--data", root, "--sets", "Tiny"],
            "compare": ["compare", "--image", "Tiny/a", "--scale", "2", "--models", "bicubic", "--crop", "0,0,16,16", "--data", root,
                        "--out", tmp_path / "cmp.png"],
            "train": ["train", "--model", "bl", "--model-args", '{"num_feat": 16, "num_group": 1, "num_block": 1}',
                      "--train-set", "Tiny", "--data", root, "--iters", "1", "--patch", "8", "--batch", "1",
                      "--val-every", "-1", "--threads", "1", "--out", tmp_path / "run"]}[command]
    r = subprocess.run([sys.executable, "-m", "srhw", *map(str, args)], capture_output=True, text=True, cwd=REPO,
                       timeout=300, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "transparent pixel" in lines[0], r.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"], "nothing written"
