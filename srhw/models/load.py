"""The one way to load a checkpoint into its zoo model: `load_model(path, spec=None, scale=None)`.

The file side (safetensors only, the JSON sidecar, state-dict checks) is srhw.core.checkpoint; this adds
what needs the zoo: the sidecar's spec and scale checked against what the caller asked for (one check,
one wording), the model built with the sidecar's `model_args`, and the weights loaded (a sum-product
conv's quant_state and frozen codes are persistent buffers, so a frozen ternary model loads frozen).
"""

from pathlib import Path

from srhw.core.checkpoint import check_state_dict, load_checkpoint
from srhw.core.errors import SrhwError


def check_channels(meta, spec, path):
    """Refuse a checkpoint whose sidecar says another channel count than `spec` has (RGB vs Y models)."""
    from srhw.models import channels_of  # the package imports this module

    got, want = meta.get("channels"), channels_of(spec)
    if got is None and meta.get("spec"):
        got = channels_of(meta["spec"])
    if got is not None and int(got) != want:
        kind = {1: "1-channel (Y)", 3: "3-channel (RGB)"}
        raise SrhwError(f"{path} is a {kind.get(int(got), got)} model ({meta.get('spec')}), but {spec} is a "
                        f"{kind[want]} model")


def checkpoint_spec(path, meta: dict, spec: str | None = None, scale: int | None = None) -> tuple[str, int]:
    """(canonical spec, scale) of a checkpoint: the caller's, which must agree with the sidecar's, else the sidecar's."""
    from srhw.models.zoo import canonical

    got, got_scale = meta.get("spec"), meta.get("scale")
    if spec and spec != "bicubic":
        check_channels(meta, spec, path)  # RGB vs Y first: the clearest line for that mistake
    if spec and got and canonical(spec) != canonical(got):
        want, have = canonical(spec), canonical(got)
        why = " (its r does not match --r)" if have.split("(")[0] == want.split("(")[0] == "st_bl" else ""
        raise SrhwError(f"{path} was trained as {have}, not {want}{why}: --model disagrees with the checkpoint's spec {got}")
    if scale and got_scale and int(scale) != int(got_scale):
        raise SrhwError(f"{path} is a x{got_scale} checkpoint, not x{scale}: --scale {scale} disagrees with the "
                        f"checkpoint's scale {got_scale}")
    spec, scale = spec or got, scale or got_scale
    if not spec or not scale:
        raise SrhwError(f"{path}: no sidecar with spec/scale; give --model and --scale")
    return canonical(spec), int(scale)


def load_model(path, spec: str | None = None, scale: int | None = None):
    """(model, meta): the zoo model of checkpoint `path` with its weights loaded (CPU, eval mode untouched)."""
    from srhw.models.zoo import build

    path = Path(path)
    sd, meta = load_checkpoint(path)
    spec, scale = checkpoint_spec(path, meta, spec, scale)
    model = build(spec, scale, **(meta.get("model_args") or {}))
    check_state_dict(model, sd, spec, scale)
    model.load_state_dict(sd)
    return model, meta
