"""The one slug scheme (srhw.core.names): shipped checkpoints, build folders, training and study runs."""

from pathlib import Path

from srhw.core.names import run_folder, shipped_checkpoint, slug

REPO = Path(__file__).resolve().parents[1]


def test_slug_names_the_shipped_checkpoints():
    assert slug("st_bl(r=2c_out)", 2) == "st_bl_r_2c_out-x2"
    assert slug("blrn-e(r=2)[rb]") == "blrn-e_r_2__rb"
    for spec in ("bl", "st_bl(r=2c_out)", "blrn-e(r=2)[rb]"):
        assert shipped_checkpoint(spec, 2) == REPO / "models" / f"{slug(spec, 2)}.safetensors"
        assert shipped_checkpoint(spec, 2).is_file(), spec
    assert not shipped_checkpoint("bl", 3).exists() and not shipped_checkpoint("st_bl(r=4c_out)", 2).exists()


def test_run_folder_resumes_a_run_of_the_older_naming(tmp_path):
    assert run_folder(tmp_path, "blrn-e(r=2)[rg+u]", 3) == tmp_path / "blrn-e_r_2__rg_u-x3"
    old = tmp_path / "blrn-e_r2_rg+u_x3"
    old.mkdir()
    assert run_folder(tmp_path, "blrn-e(r=2)[rg+u]", 3) == old  # only the old one exists: resume it
    (tmp_path / "blrn-e_r_2__rg_u-x3").mkdir()
    assert run_folder(tmp_path, "blrn-e(r=2)[rg+u]", 3) == tmp_path / "blrn-e_r_2__rg_u-x3"
