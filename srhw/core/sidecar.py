"""The checkpoint sidecar's schema (JSON Schema, checked with jsonschema) and one clear line per bad field.

A sidecar is a JSON object. Known fields have types; unknown fields are kept (commands add their own records).
"""

import jsonschema

from srhw.core.errors import SrhwError

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "spec": {"type": "string", "minLength": 1},
        "scale": {"type": "integer", "minimum": 1},
        "model_args": {"type": ["object", "null"]},
        "quant": {"type": ["string", "null"]},
        "step": {"type": ["integer", "null"], "minimum": 0},
        "data": {"type": ["string", "null"]},
        "metrics": {"type": ["object", "null"]},
        "golden": {"type": "string", "minLength": 1},
        "quant_config": {"type": ["object", "null"]},
        "ternary": {"type": "string", "minLength": 1},
        "source_checkpoint": {"type": "string"},
        "train_config": {"type": "object"},
    },
}
_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

_WORDS = {"integer": "an integer", "string": "a string", "object": "a JSON object", "null": "null",
          "array": "a list", "number": "a number", "boolean": "true or false"}


def _json_type(v) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number", type(None): "null"}.get(type(v), type(v).__name__)


def _say(err) -> str:
    field = ".".join(str(p) for p in err.absolute_path)
    if err.validator == "type":
        want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        need = " or ".join(_WORDS.get(t, t) for t in want)
        if not field:
            return f"must be a JSON object, not {_json_type(err.instance)}"
        return f"field '{field}' must be {need} (got {err.instance!r})"
    if err.validator == "minimum":
        return f"field '{field}' must be >= {err.validator_value} (got {err.instance!r})"
    if err.validator == "minLength":
        return f"field '{field}' must not be empty"
    return f"field '{field}': {err.message}"


def validate_sidecar(meta, where) -> dict:
    """Return `meta` if it fits SCHEMA; else raise SrhwError naming `where` and every bad field, in one line."""
    errors = sorted(_VALIDATOR.iter_errors(meta), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise SrhwError(f"{where}: bad sidecar: " + "; ".join(_say(e) for e in errors))
    return meta
