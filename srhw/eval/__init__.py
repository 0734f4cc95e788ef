"""Evaluation: metrics, the evaluation protocol and its upscalers, comparison figures, the study runner."""
