"""OpenAPI documents: the framework's routes, plus the direct routes' operations.

A direct route declares its operation with `operation(...)`, naming the pydantic
models it reads and answers; `publish` merges them into the app's document, so
every route of a service is documented by one mechanism and none is declared
twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from ugc.problems import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["title", "status", "detail"],
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}}}


# What the common errors mean, for the routes that may answer them.
MEANING = {
    400: "The body is not JSON (in UTF-8).",
    401: "Missing, expired, badly signed or malformed access token, or a user id in it "
    "that is not one the platform issues.",
    403: "The access token's user may not do this.",
    404: "No such resource.",
    409: "It exists already.",
    413: "The request body is over the limit.",
    415: "Unsupported Content-Type or Content-Encoding.",
    422: "Invalid fields; `errors` names each with the reason.",
    429: "Too many requests from this user; retry after `Retry-After` seconds.",
    503: "A server this API depends on did not answer in time; retry after `Retry-After`.",
}


def problems(*statuses: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """FastAPI `responses` for the problems a route may answer: `statuses` with
    their usual meaning, `described` (`s403="Only the author..."`) with its own."""
    found: dict[int | str, dict[str, Any]] = {s: problem_response(MEANING[s]) for s in statuses}
    for key, text in described.items():
        found[int(key.removeprefix("s"))] = problem_response(text)
    return found


@dataclass(frozen=True, slots=True)
class Operation:
    """One method of one path in OpenAPI, and the models its schema refers to."""

    method: str
    spec: dict[str, Any]
    models: tuple[type[BaseModel], ...] = field(default=())


def operation(
    method: str,
    *,
    summary: str,
    tags: Sequence[str],
    description: str = "",
    path_parameters: Mapping[str, dict[str, Any]] | None = None,
    request_body: dict[str, Any] | None = None,
    answers: Mapping[int, tuple[str, type[BaseModel] | None]],
    problems: Mapping[int, str],
    models: Iterable[type[BaseModel]] = (),
    secured: bool = True,
) -> Operation:
    """An operation: `answers` are successes (status -> description, body model),
    `problems` the errors it may answer, each with the problem schema."""
    responses: dict[str, Any] = {}
    used = list(models)
    for status, (text, model) in answers.items():
        responses[str(status)] = {"description": text}
        if model is not None:
            responses[str(status)]["content"] = {"application/json": {"schema": ref(model)}}
            used.append(model)
    responses |= {str(status): problem_response(text) for status, text in problems.items()}
    spec: dict[str, Any] = {"tags": list(tags), "summary": summary, "responses": responses}
    if description:
        spec["description"] = description
    if secured:
        spec["security"] = [{"bearer": []}]
    if path_parameters:
        spec["parameters"] = [
            {"name": name, "in": "path", "required": True, "schema": schema}
            for name, schema in path_parameters.items()
        ]
    if request_body is not None:
        spec["requestBody"] = request_body
    return Operation(method.lower(), spec, tuple(used))


def publish(app: FastAPI, operations: Mapping[str, Sequence[Operation]]) -> None:
    """Serve the app's OpenAPI document with the direct routes' operations in it."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes,
            )  # fmt: skip
            components = schema.setdefault("components", {})
            definitions = components.setdefault("schemas", {})
            paths = schema.setdefault("paths", {})
            for path, path_operations in operations.items():
                for op in path_operations:
                    paths.setdefault(path, {})[op.method] = op.spec
                    for model in op.models:
                        _add_model(definitions, model)
            _problems_everywhere(paths, definitions)
            definitions["Problem"] = PROBLEM_SCHEMA
            components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _problems_everywhere(paths: dict[str, Any], definitions: dict[str, Any]) -> None:
    """Every error is problem details: the framework's own 422 entries say otherwise."""
    for item in paths.values():
        for op in item.values():
            for status, response in op.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = {PROBLEM_JSON: {"schema": _PROBLEM_REF}}
                    if status == "422" and response.get("description") == "Validation Error":
                        response["description"] = MEANING[422]
    for name in ("HTTPValidationError", "ValidationError"):
        definitions.pop(name, None)


def _add_model(definitions: dict[str, Any], model: type[BaseModel]) -> None:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions.update(schema.pop("$defs", {}))
    definitions[model.__name__] = schema
