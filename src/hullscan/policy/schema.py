"""The JSON Schema of a policy bundle (published as ``docs/policy-bundle.schema.json``).

It checks the bundle's shape; what the gate registry knows (gate and trigger names,
parameter types) is checked after it by :mod:`hullscan.policy.load`.
"""

from __future__ import annotations

from typing import Any

SCHEMA_ID = "https://hullscan.dev/schemas/policy-bundle-1.json"

_ID = {"type": "string", "minLength": 1, "pattern": r"^[A-Za-z0-9_.:-]+$"}
_TEXT = {"type": "string"}
_GLOB = {"type": "string", "minLength": 1,
         "description": "A glob pattern: * matches anything, ? one character."}
_SCALAR = {"type": ["string", "number", "boolean", "array"]}

_IMAGE_SELECTOR: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["registry", "repository"],
    "properties": {
        "name": _TEXT,
        "registry": _GLOB,
        "repository": _GLOB,
        "tag": _GLOB,
        "digest": {"type": "string", "pattern": r"^[a-z0-9]+:[a-f0-9]{32,}$"},
        "image": {
            "type": "object", "additionalProperties": False, "required": ["type", "value"],
            "description": "Anchore's form: a tag glob or an exact digest.",
            "properties": {"type": {"enum": ["tag", "digest"]}, "value": {"type": "string"}},
        },
    },
}

_RULE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["gate", "trigger", "action"],
    "properties": {
        "id": _ID,
        "gate": {"type": "string", "minLength": 1},
        "trigger": {"type": "string", "minLength": 1},
        "action": {"enum": ["STOP", "WARN", "GO", "stop", "warn", "go"]},
        "params": {
            "description": "A mapping of parameter names to values, or Anchore's list of "
                           "{name, value} pairs.",
            "oneOf": [
                {"type": "object", "additionalProperties": _SCALAR},
                {"type": "array", "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["name", "value"],
                    "properties": {"name": {"type": "string"}, "value": _SCALAR}}},
            ],
        },
        "recommendation": _TEXT,
    },
}

BUNDLE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "hullscan policy bundle",
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "id", "policies"],
    "properties": {
        "version": {"enum": ["1", 1]},
        "id": _ID,
        "name": _TEXT,
        "description": _TEXT,
        "policies": {
            "type": "array", "minItems": 1,
            "items": {
                "type": "object", "additionalProperties": False, "required": ["id", "rules"],
                "properties": {"id": _ID, "name": _TEXT, "description": _TEXT,
                               "version": _TEXT, "comment": _TEXT,
                               "rules": {"type": "array", "items": _RULE}},
            },
        },
        "allowlists": {
            "type": "array",
            "items": {
                "type": "object", "additionalProperties": False, "required": ["id", "items"],
                "properties": {
                    "id": _ID, "name": _TEXT, "description": _TEXT, "version": _TEXT,
                    "comment": _TEXT,
                    "items": {"type": "array", "items": {
                        "type": "object", "additionalProperties": False,
                        "required": ["id", "gate", "trigger_id", "reason"],
                        "properties": {
                            "id": _ID, "gate": {"type": "string", "minLength": 1},
                            "trigger_id": {"type": "string", "minLength": 1},
                            "reason": {"type": "string", "minLength": 1},
                            "expires_on": {"type": "string", "format": "date"},
                        },
                    }},
                },
            },
        },
        "mappings": {
            "type": "array",
            "description": "Evaluated in order; the first mapping selecting the image wins.",
            "items": {
                "type": "object", "additionalProperties": False,
                "required": ["registry", "repository", "policy_ids"],
                "properties": {
                    **_IMAGE_SELECTOR["properties"],
                    "id": _ID,
                    "policy_ids": {"type": "array", "minItems": 1, "items": _ID},
                    "allowlist_ids": {"type": "array", "items": _ID},
                },
            },
        },
        "allowlisted_images": {"type": "array", "items": _IMAGE_SELECTOR},
        "denylisted_images": {"type": "array", "items": _IMAGE_SELECTOR},
    },
}
