"""Reading the project's own YAML data files (catalogue, residents' words, forms, training
data) with libyaml's C loader when PyYAML was built with it: the same safe constructors and the
same ``yaml.YAMLError`` on bad input, about five times faster than the pure-Python loader
(the catalogue loads in every process that answers residents)."""

from __future__ import annotations

from typing import Any

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str) -> Any:
    """``yaml.safe_load(text)``, with libyaml when available."""
    return yaml.load(text, Loader=LOADER)  # noqa: S506 — a safe loader (CSafeLoader/SafeLoader)
