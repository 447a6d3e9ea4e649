"""The playbook JSON Schema (2020-12), generated from the models of :mod:`provisioner.playbook.model`.

``make schema`` (``python -m provisioner.playbook.schema``) writes it to :data:`SHIPPED`; a test checks that both
files equal :func:`render` byte for byte. At run time the loader reads the shipped copy (:func:`schema`), so
loading a playbook does not generate anything.

Post-processing of pydantic's ``model_json_schema``: optional fields (default ``None``) are simply not required
rather than nullable; default sections are written as ``{}`` (their fields carry the defaults); sections used
once are written in place (only ``secret`` and ``value`` stay under ``$defs``); descriptions are single lines;
the top level gets ``$schema``, ``$id`` and the ``if``/``then`` that makes ``tenant``, ``btp``, ``cf`` and
``steps`` required unless ``tenants`` lists them.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:cloudalm-provisioner:schema:playbook:1"
"""Stable and host-free (no web site is published): editors take the schema from a modeline path or URL, not
from its ``$id``; the last part is the playbook format version."""
TITLE = "provisioner playbook"
SHIPPED = ("provisioner/data/playbook.schema.json", "schemas/playbook.schema.json")
"""Where the schema is shipped, relative to the repository root."""
_DEF_NAMES = {"SecretRef": "secret", "Value": "value"}


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The playbook JSON Schema shipped in the package (``schemas/playbook.schema.json`` is the same file)."""
    data: dict[str, Any] = json.loads(resources.files("provisioner").joinpath("data/playbook.schema.json")
                                      .read_text("utf-8"))
    return data


def generate() -> dict[str, Any]:
    """The playbook JSON Schema, generated from :class:`~provisioner.playbook.file.PlaybookFile`."""
    from pydantic import BaseModel
    from pydantic.json_schema import GenerateJsonSchema
    from pydantic_core import core_schema

    from provisioner.playbook.file import PlaybookFile


    class Generator(GenerateJsonSchema):
        def nullable_schema(self, schema: core_schema.NullableSchema) -> dict[str, Any]:
            return self.generate_inner(schema["schema"])  # None stands for "not given", never written

        def default_schema(self, schema: core_schema.WithDefaultSchema) -> dict[str, Any]:
            if schema.get("default", 0) is None:
                return self.generate_inner(schema["schema"])
            return super().default_schema(schema)

        def field_title_should_be_set(self, schema: Any) -> bool:
            return True  # sections too: they are written in place

        def encode_default(self, dft: Any) -> Any:
            if isinstance(dft, BaseModel):  # a default section: its own fields' defaults say the rest
                return dft.model_dump(mode="json", exclude_defaults=True)
            return super().encode_default(dft)

    raw = PlaybookFile.model_json_schema(schema_generator=Generator, ref_template="#/$defs/{model}")
    defs = raw.pop("$defs", {})
    uses = Counter(_refs(raw) + [r for d in defs.values() for r in _refs(d)])
    keep = {name for name in defs if uses[name] > 1}
    body = _inline(raw, defs, keep)
    body.pop("title", None)
    required = body.pop("required", [])
    out: dict[str, Any] = {"$schema": DIALECT, "$id": SCHEMA_ID, "title": TITLE,
                           "description": body.pop("description")}
    out.update(type=body.pop("type"), additionalProperties=body.pop("additionalProperties"))
    out["required"] = [k for k in required if k == "version"]
    out["if"] = {"not": {"required": ["tenants"]}}
    out["then"] = {"required": [k for k in required if k != "version"]}
    out.update(body)
    out["$defs"] = {_DEF_NAMES.get(name, name): _inline(defs[name], defs, keep) for name in sorted(keep)}
    tidy: dict[str, Any] = _tidy(out)
    return tidy


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"].rsplit("/", 1)[-1]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _inline(node: Any, defs: dict[str, Any], keep: set[str]) -> Any:
    """Replace references to definitions used once by the definition itself (the referring keys win)."""
    if isinstance(node, list):
        return [_inline(v, defs, keep) for v in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.rsplit("/", 1)[-1] not in keep:
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return _inline({**defs[ref.rsplit("/", 1)[-1]], **siblings}, defs, keep)
    out = {k: _inline(v, defs, keep) for k, v in node.items()}
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        out["$ref"] = f"#/$defs/{_DEF_NAMES.get(name, name)}"
    return out


def _tidy(node: Any) -> Any:
    """Descriptions on one line."""
    if isinstance(node, list):
        return [_tidy(v) for v in node]
    if not isinstance(node, dict):
        return node
    return {k: " ".join(v.split()) if k == "description" and isinstance(v, str) else _tidy(v)
            for k, v in node.items()}


def render() -> str:
    """The generated schema as shipped: JSON, two-space indentation, UTF-8 kept, final newline."""
    return json.dumps(generate(), indent=2, ensure_ascii=False) + "\n"


def write(root: Path) -> list[Path]:
    """Write the generated schema to every :data:`SHIPPED` path under ``root`` (the repository); return them.
    Raises :class:`OSError` when a file cannot be written."""
    text = render()
    paths = [root / rel for rel in SHIPPED]
    for path in {p.resolve(): p for p in paths}.values():  # schemas/ may link to provisioner/data/
        path.write_text(text, encoding="utf-8")
    return paths


if __name__ == "__main__":
    for written in write(Path(sys.argv[1] if len(sys.argv) > 1 else ".")):
        print(f"wrote {written}")
