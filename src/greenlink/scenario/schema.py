"""JSON Schema of the scenario file, generated from the pydantic models (docs/scenario.schema.json)."""

from __future__ import annotations

from typing import Any

from greenlink.scenario.model import Scenario


def scenario_json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "greenlink scenario (TOML file, schema_version 1)"
    return schema
