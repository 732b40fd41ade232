"""JSON Schema of the scenario file, generated from the pydantic models.

The committed copy is ``docs/scenario.schema.json`` (a test keeps it in step).
"""

from __future__ import annotations

from typing import Any

from greenlink.scenario.model import Scenario


def scenario_json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "greenlink scenario (TOML file, schema_version 1)"
    return schema


def _type_text(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        return str(spec["$ref"]).rsplit("/", 1)[-1]
    if "enum" in spec:
        return " \\| ".join(f"`{v}`" for v in spec["enum"])
    if "const" in spec:
        return f"`{spec['const']}`"
    if "anyOf" in spec:
        return " or ".join(_type_text(s) for s in spec["anyOf"])
    if spec.get("type") == "array":
        return f"list of {_type_text(spec.get('items', {}))}"
    if spec.get("type") == "object" and "additionalProperties" in spec:
        return f"table of {_type_text(spec['additionalProperties'])}"
    return str(spec.get("type", "any"))


def scenario_reference_markdown() -> str:
    """A field-by-field reference of the scenario file, generated from the JSON Schema."""
    schema = scenario_json_schema()
    defs: dict[str, Any] = schema.get("$defs", {})
    lines = ["# Scenario file reference", "",
             "Generated from the pydantic models by `greenlink schema --markdown` "
             "(do not edit by hand; the JSON Schema is `docs/scenario.schema.json`).", ""]
    sections = [("Scenario (top level)", schema), *sorted(defs.items())]
    for name, model in sections:
        lines += [f"## {name}", ""]
        if model.get("description"):
            lines += [" ".join(str(model["description"]).split()), ""]
        required = set(model.get("required", []))
        lines += ["| field | type | required | default | description |", "|---|---|---|---|---|"]
        for field, spec in model.get("properties", {}).items():
            default = spec.get("default", "")
            default_text = f"`{default}`" if default not in ("", None) else ""
            desc = " ".join(str(spec.get("description", "")).split()).replace("|", "\\|")
            lines.append(f"| `{field}` | {_type_text(spec)} | {'yes' if field in required else ''}"
                         f" | {default_text} | {desc} |")
        lines.append("")
    return "\n".join(lines)
