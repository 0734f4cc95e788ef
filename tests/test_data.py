"""srhw.data: MATLAB-exact imresize, folder layouts, training patches."""

import numpy as np
import pytest
from PIL import Image

from srhw.data import (
    benchmark_folder, default_data_dir, div2k_folder, hr_only_folder, imresize, modcrop, read_image,
)
from srhw.data.imresize import contributions
from srhw.data.patches import ITERS_PER_EPOCH, PatchDataset, batch_indices, get_batch
from srhw.core.errors import SrhwError

DATA = default_data_dir()
needs_data = pytest.mark.skipif(not (DATA / "Set5").is_dir(), reason=f"benchmark data not found at {DATA} (set SRHW_DATA)")


# --- imresize -----------------------------------------------------------------------------------------------


@needs_data
@pytest.mark.parametrize("set_name", ["Set5", "Set14"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_imresize_reproduces_matlab_lr_files_bit_exactly(set_name, scale):
    """Set5/Set14 LR files are MATLAB imresize output (MANIFEST): ours must equal every one of them."""
    hr_files = sorted((DATA / set_name / "HR").glob("*.png"))
    assert len(hr_files) == {"Set5": 5, "Set14": 14}[set_name]
    exact = []
    for f in hr_files:
        lr = np.asarray(Image.open(DATA / set_name / "LR_bicubic" / f"X{scale}" / f"{f.stem}x{scale}.png"))
        ours = imresize(modcrop(np.asarray(Image.open(f)), scale), 1 / scale)
        exact.append(ours.shape == lr.shape and np.array_equal(ours, lr))
    assert all(exact), f"not bit-exact: {[f.stem for f, e in zip(hr_files, exact) if not e]}"


def test_imresize_weights_sum_to_one_and_mirror_indices():
    for scale in (1 / 4, 1 / 3, 1 / 2, 2, 3, 4):
        w, ind = contributions(10, int(np.ceil(10 * scale)), scale)
        np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
        assert ind.min() >= 0 and ind.max() <= 9
    # first x2-down output pixel of a length-10 row: taps reach 3 px to the left -> mirrored 2,1,0 (0-based)
    w, ind = contributions(10, 5, 0.5)
    assert list(ind[0][:4]) == [2, 1, 0, 0]  # MATLAB aux = [1:n, n:-1:1]: index 0 -> 1, -1 -> 2, ...


def test_imresize_sizes_constant_and_modes():
    img = np.full((13, 22, 3), 77, np.uint8)
    assert imresize(img, 1 / 4).shape == (4, 6, 3)  # ceil(13/4), ceil(22/4) as MATLAB
    assert imresize(img, 3).shape == (39, 66, 3)
    assert (imresize(img, 1 / 3) == 77).all() and (imresize(img, 4) == 77).all()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (30, 40), dtype=np.uint8)
    f = imresize(x.astype(np.float64), 1 / 2)
    assert f.dtype == np.float64 and not np.allclose(f, np.round(f))  # float mode: no rounding
    assert np.abs(f - imresize(x, 1 / 2).astype(np.float64)).max() <= 1.0  # uint8 mode rounds each pass
    assert np.abs(f - imresize(x, 1 / 2, output="float")).max() == 0
    # same kernel on both axes: resizing the transpose is the transpose of the resize (float mode)
    np.testing.assert_allclose(imresize(x.T.astype(np.float64), 1 / 2).T, f, atol=1e-9)
    np.testing.assert_array_equal(imresize(x, 1.0), x)  # scale 1: cubic taps at integers = identity


def test_imresize_replicate_differs_only_near_border():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    a, b = imresize(x, 1 / 4), imresize(x, 1 / 4, boundary="replicate")
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a[2:-2, 2:-2], b[2:-2, 2:-2])  # MANIFEST: only the outer 2 LR px differ


# --- folders ------------------------------------------------------------------------------------------------


@needs_data
def test_benchmark_folders_lr_source_gray_and_modcrop():
    s14 = benchmark_folder(DATA, "Set14", 3)
    assert len(s14) == 14 and s14.lr_source == "disk"
    bridge = s14[s14.hr_files.index(s14.hr_dir / "bridge.png")]
    assert bridge.gray and bridge.hr.shape == (510, 510) and bridge.lr_rgb.shape == (170, 170, 3)
    assert (bridge.lr_rgb[..., 0] == bridge.lr_rgb[..., 2]).all()
    comic = s14[s14.hr_files.index(s14.hr_dir / "comic.png")]  # 250x361 -> modcrop to 249x360
    assert comic.hr.shape == (360, 249, 3) and comic.lr_rgb.shape == (120, 83, 3) and comic.lr_source == "disk"
    b100 = benchmark_folder(DATA, "B100", 2)
    assert b100.lr_source == "imresize" and len(b100) == 100
    item = b100[0]
    np.testing.assert_array_equal(item.lr_rgb, imresize(item.hr, 1 / 2))
    t91 = hr_only_folder(DATA / "T91" / "HR", 4)
    assert len(t91) == 91 and t91.lr_source == "imresize" and t91.hr_files[0].suffix == ".bmp"
    it = t91[0]
    assert it.hr.shape[0] == it.lr_rgb.shape[0] * 4 and it.hr.shape[1] == it.lr_rgb.shape[1] * 4


def _div2k_tree(root, scale=2):
    rng = np.random.default_rng(0)
    (root / "DIV2K_train_HR").mkdir(parents=True)
    (root / "DIV2K_train_LR_bicubic" / f"X{scale}").mkdir(parents=True)
    for name, (h, w) in {"0001": (20, 30), "0002": (25, 17)}.items():
        hr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        Image.fromarray(hr).save(root / "DIV2K_train_HR" / f"{name}.png")
        lr = imresize(modcrop(hr, scale), 1 / scale)
        Image.fromarray(lr).save(root / "DIV2K_train_LR_bicubic" / f"X{scale}" / f"{name}x{scale}.png")
    return root


def test_div2k_layout(tmp_path):
    root = _div2k_tree(tmp_path)
    f = div2k_folder(root, 2)
    assert len(f) == 2 and f.lr_source == "disk"
    a, b = f[0], f[1]
    assert (a.name, a.hr.shape, a.lr_rgb.shape) == ("0001", (20, 30, 3), (10, 15, 3))
    assert (b.name, b.hr.shape, b.lr_rgb.shape) == ("0002", (24, 16, 3), (12, 8, 3))  # 25x17 modcropped
    (root / "DIV2K_train_LR_bicubic" / "X2" / "0002x2.png").unlink()
    assert f.lr_source == "mixed" and f[1].lr_source == "imresize"
    np.testing.assert_array_equal(f[1].lr_rgb, b.lr_rgb)  # made by the same imresize
    assert div2k_folder(root, 3).lr_source == "imresize"  # no X3 folder: everything from imresize


def test_bad_files_raise_one_line_srhw_error(tmp_path):
    root = _div2k_tree(tmp_path)
    lr = root / "DIV2K_train_LR_bicubic" / "X2" / "0001x2.png"
    Image.fromarray(np.zeros((9, 15, 3), np.uint8)).save(lr)  # should be 10x15
    with pytest.raises(SrhwError, match=r"0001x2\.png: LR is 15x9, expected floor\(HR/2\) = 15x10"):
        div2k_folder(root, 2)[0]
    bad = root / "DIV2K_train_HR" / "0002.png"
    bad.write_bytes(bad.read_bytes()[:60])  # truncated PNG
    with pytest.raises(SrhwError, match="0002.png: cannot read image") as e:
        read_image(bad)
    assert "\n" not in str(e.value)
    with pytest.raises(SrhwError, match="does not exist"):
        benchmark_folder(tmp_path, "Set5", 2)


def test_div2k_mean_constant():
    from srhw.models.common import DIV2K_RGB_MEAN

    np.testing.assert_allclose(DIV2K_RGB_MEAN, (114.444, 111.4605, 103.02))


# --- patches ------------------------------------------------------------------------------------------------


def _nearest_pairs(scale, n=3):
    """HR = LR with each pixel repeated s x s: every flip/rotation then maps HR patch <-> LR patch exactly."""
    rng = np.random.default_rng(2)
    pairs = []
    for h, w in [(60, 70), (50, 90), (48, 48)][:n]:
        lr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        pairs.append((np.kron(lr, np.ones((scale, scale, 1), np.uint8)), lr))
    return pairs


@pytest.mark.parametrize("scale", [2, 3])
def test_patches_match_and_are_augmented(scale):
    ds = PatchDataset(_nearest_pairs(scale), scale, patch=48, seed=5)
    seen = set()
    for i in range(200):
        lr_p, hr_p = ds.sample(i)
        assert lr_p.shape == (48, 48, 3) and hr_p.shape == (48 * scale, 48 * scale, 3)
        np.testing.assert_array_equal(hr_p, np.kron(lr_p, np.ones((scale, scale, 1), np.uint8)))
        seen.add(lr_p[:2, :2].tobytes())
    assert len(seen) > 100  # different crops
    lr_t, hr_t = ds[0]
    assert lr_t.dtype.is_floating_point and tuple(lr_t.shape) == (3, 48, 48) and float(lr_t.max()) <= 255


def test_patches_cover_all_eight_symmetries():
    lr = np.arange(48 * 48, dtype=np.int64).reshape(48, 48, 1)  # unique values: orientation is recoverable
    ds = PatchDataset([(np.kron(lr, np.ones((2, 2, 1), np.int64)), lr)], 2, patch=48, seed=0)
    orient = {ds.sample(i)[0][0, 0, 0] * 10**7 + ds.sample(i)[0][0, 1, 0] for i in range(64)}
    assert len(orient) == 8


def test_patches_deterministic_and_resumable():
    pairs = _nearest_pairs(2)
    a, b = PatchDataset(pairs, 2, seed=7), PatchDataset(pairs, 2, seed=7)
    ba, bb = get_batch(a, 3, 4), get_batch(b, 3, 4)
    assert all(bool((x == y).all()) for x, y in zip(ba, bb))
    assert not bool((get_batch(PatchDataset(pairs, 2, seed=8), 3, 4)[0] == ba[0]).all())
    assert list(batch_indices(3, 4)) == [12, 13, 14, 15]
    assert list(batch_indices(3, 4, rank=1, world_size=2)) == [28, 29, 30, 31]
    assert len(a) == ITERS_PER_EPOCH * 16


@needs_data
def test_t91_patch_dataset():
    ds = PatchDataset.from_folder(hr_only_folder(DATA / "T91" / "HR", 2), patch=48, seed=0)
    assert len(ds.pairs) + ds.skipped == 91 and ds.skipped <= 2
    lr, hr = get_batch(ds, 0, 16)
    assert tuple(lr.shape) == (16, 3, 48, 48) and tuple(hr.shape) == (16, 3, 96, 96)
