"""The requests residents can make (``catalogue/forms/requests.yml``): which details each needs.

Loaded and checked at start-up like the service catalogue; a mistake names the file, the entry
and the field. Nothing here imports Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from community import yaml_data
from community.catalogue import CatalogueError
from community.field_types import FIELD_TYPES, PERSONAL_TYPES

KIND_FIELD = "request_kind"
CONFIRM_FIELD = "request_confirmed"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    label: str
    ask: str
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)
    when: dict[str, str] = field(default_factory=dict)

    @property
    def personal(self) -> bool:
        return self.type in PERSONAL_TYPES

    def applies(self, values: dict[str, Any]) -> bool:
        return all(values.get(k) == v for k, v in self.when.items())


@dataclass(frozen=True)
class FormSpec:
    kind: str
    title: str
    due_days: int
    intents: tuple[str, ...]
    keywords: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    summary_who: str = ""

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    def active_fields(self, values: dict[str, Any]) -> list[FieldSpec]:
        return [f for f in self.fields if f.applies(values)]


@dataclass(frozen=True)
class Forms:
    kinds: dict[str, FormSpec]

    def __getitem__(self, kind: str) -> FormSpec:
        return self.kinds[kind]

    def get(self, kind: str | None) -> FormSpec | None:
        return self.kinds.get(kind or "")

    @cached_property
    def field_names(self) -> list[str]:
        """Every field of every kind (each is a Rasa slot)."""
        names: list[str] = []
        for spec in self.kinds.values():
            names += [f.name for f in spec.fields if f.name not in names]
        return names

    def personal_fields(self) -> frozenset[str]:
        return self._personal

    @cached_property
    def _personal(self) -> frozenset[str]:
        # Read on every form answer: computed once.
        return frozenset(f.name for spec in self.kinds.values() for f in spec.fields if f.personal)

    def for_intent(self, intent: str) -> FormSpec | None:
        return next((s for s in self.kinds.values() if intent in s.intents), None)

    def for_text(self, text: str) -> FormSpec | None:
        """The kind whose keyword appears in ``text`` (longest keyword first)."""
        pairs = sorted(((k, s) for s in self.kinds.values() for k in s.keywords), key=lambda p: -len(p[0]))
        return next((s for k, s in pairs if k in text), None)


def _fail(file: str, entry: str | None, name: str | None, problem: str) -> CatalogueError:
    return CatalogueError(file, entry, name, problem)


def _field_spec(name: str, data: Any, file: str) -> FieldSpec:
    if not isinstance(data, dict):
        raise _fail(file, f"fields.{name}", None, "must be a mapping with type, label and ask")
    ftype = data.get("type")
    if ftype not in FIELD_TYPES:
        raise _fail(file, f"fields.{name}", "type", f"must be one of {sorted(FIELD_TYPES)}, got {ftype!r}")
    for key in ("label", "ask"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise _fail(file, f"fields.{name}", key, "is required and must be text")
    options: dict[str, tuple[str, ...]] = {}
    if ftype == "choice":
        raw = data.get("options")
        if not isinstance(raw, dict) or len(raw) < 2:
            raise _fail(file, f"fields.{name}", "options", "a choice needs at least two options")
        for label, words in raw.items():
            if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
                raise _fail(file, f"fields.{name}", f"options.{label}", "must be a list of words")
            options[str(label)] = tuple(words)
    return FieldSpec(name, ftype, data["label"].strip(), data["ask"].strip(), options)


def _kind_fields(kind: str, raw: Any, fields: dict[str, FieldSpec], file: str) -> tuple[FieldSpec, ...]:
    if not isinstance(raw, list) or not raw:
        raise _fail(file, f"kinds.{kind}", "fields", "must be a non-empty list")
    out: list[FieldSpec] = []
    for item in raw:
        override: Any = None
        if isinstance(item, dict) and len(item) == 1:
            name, override = next(iter(item.items()))
        elif isinstance(item, str):
            name = item
        else:
            raise _fail(file, f"kinds.{kind}", "fields", f"bad entry {item!r}")
        base = fields.get(name)
        if base is None:
            raise _fail(file, f"kinds.{kind}", "fields", f"unknown field {name!r} (define it under fields:)")
        ask, when = base.ask, {}
        if isinstance(override, str):
            ask = override
        elif isinstance(override, dict):
            ask = override.get("ask", ask)
            when = {str(k): str(v) for k, v in (override.get("when") or {}).items()}
            for key in when:
                if key not in {f.name for f in out}:
                    raise _fail(
                        file, f"kinds.{kind}", f"fields.{name}.when", f"{key!r} must be an earlier field"
                    )
        out.append(FieldSpec(base.name, base.type, base.label, ask, base.options, when))
    return tuple(out)


def load_forms(path: str | Path) -> Forms:
    path = Path(path)
    file = path.name
    try:
        data = yaml_data.load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise _fail(file, None, None, f"cannot be read: {err}") from err
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("fields"), dict)
        or not isinstance(data.get("kinds"), dict)
    ):
        raise _fail(file, None, None, "must have 'fields' and 'kinds' mappings")
    fields = {name: _field_spec(name, spec, file) for name, spec in data["fields"].items()}
    kinds: dict[str, FormSpec] = {}
    for kind, spec in data["kinds"].items():
        if not isinstance(spec, dict):
            raise _fail(file, f"kinds.{kind}", None, "must be a mapping")
        if not isinstance(spec.get("title"), str) or not spec["title"].strip():
            raise _fail(file, f"kinds.{kind}", "title", "is required")
        due = spec.get("due_days", 3)
        if not isinstance(due, int) or due < 1:
            raise _fail(file, f"kinds.{kind}", "due_days", "must be a whole number of days ≥ 1")
        kinds[kind] = FormSpec(
            kind=kind,
            title=spec["title"].strip(),
            due_days=due,
            intents=tuple(spec.get("intents") or ()),
            keywords=tuple(spec.get("keywords") or ()),
            fields=_kind_fields(kind, spec.get("fields"), fields, file),
            summary_who=str(spec.get("summary_who") or ""),
        )
    return Forms(kinds)


def forms_path(catalogue_dir: Path) -> Path:
    """The community's own forms file if its catalogue has one, else the project's."""
    own = Path(catalogue_dir) / "forms" / "requests.yml"
    return (
        own
        if own.exists()
        else Path(__file__).resolve().parent.parent / "catalogue" / "forms" / "requests.yml"
    )
