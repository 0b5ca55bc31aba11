"""The OpenAPI v3 document of the mock's own interface, ``/_mock`` (web/admin.py): served
at ``/openapi/v3/_mock`` next to the API's group-version documents, so the admin API is
discoverable by the same tools. tests/api/test_wire_openapi.py checks that it lists
exactly the routes the app registers under /_mock."""

from __future__ import annotations

from typing import Any

from cci_mock.harness.fault_rules import ACTION_FIELDS, OTHER_FIELDS
from cci_mock.harness.matching import MATCH_FIELDS

_OBJECT = {"type": "object"}
_STRING, _INTEGER, _NUMBER = {"type": "string"}, {"type": "integer"}, {"type": "number"}
_REF = "#/components/schemas/"


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _operation(operation_id: str, summary: str, answer: dict[str, Any], code: str = "200",
               parameters: tuple[dict[str, Any], ...] = (), body: dict[str, Any] | None = None
               ) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id, "summary": summary, "tags": ["mock"],
        "parameters": [_PRETTY, *parameters],
        "responses": {code: answer, "default": _json(_ref("Status"), "a Status: what failed")}}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": body}
    return operation


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": schema}


_PRETTY = _query("pretty", _STRING, "'true' indents the answer")
_RULE_ID = {"name": "id", "in": "path", "required": True, "schema": _STRING,
            "description": "the rule's id"}
_FILTERS = tuple(_query(name, _STRING, f"only requests whose {name} matches") for name in (
    "method", "path", "kind", "verb", "namespace", "name", "fault")) + (
    _query("header", _STRING, "Name:glob, repeatable"),
    _query("status", _INTEGER, "only requests answered with this status"),
    _query("limit", _INTEGER, "at most this many (the newest)"))


def document(version: str) -> dict[str, Any]:
    rule_fields = {**{name: {"description": "matches requests (a glob or a list)"}
                      for name in MATCH_FIELDS},
                   **{name: {"description": "what the rule does"} for name in ACTION_FIELDS},
                   **{name: {"description": "when and how often it fires"}
                      for name in OTHER_FIELDS}}
    schemas = {
        "Status": {"type": "object", "properties": {
            "kind": _STRING, "apiVersion": _STRING, "status": _STRING, "message": _STRING,
            "reason": _STRING, "code": _INTEGER, "details": _OBJECT}},
        "State": {"type": "object", "description": "every stored object, the resourceVersion "
                  "and the clock (cci_mock.harness.state)", "properties": {
                      "apiVersion": _STRING, "kind": _STRING, "resources": _OBJECT,
                      "resourceVersion": _INTEGER, "clockOffsetSeconds": _NUMBER}},
        "FaultRule": {"type": "object", "description": "a fault rule (docs/faults.md)",
                      "properties": rule_fields},
        "FaultRules": {"type": "object", "properties": {
            "rules": {"type": "array", "items": _ref("FaultRule")}}},
        "Removed": {"type": "object", "properties": {"removed": _INTEGER}},
        "Requests": {"type": "object", "properties": {
            "requests": {"type": "array", "items": _OBJECT}, "count": _INTEGER}},
        "Clock": {"type": "object", "properties": {
            "now": _STRING, "offsetSeconds": _NUMBER, "scale": _NUMBER, "lifecycle": _STRING}},
        "Advance": {"type": "object", "required": ["seconds"], "properties": {
            "seconds": {"type": "number", "minimum": 0}}},
        "Kinds": {"type": "object", "properties": {"kinds": {"type": "array",
                                                             "items": _OBJECT}}},
        "Identities": {"type": "object", "description": "users, passwords, AK/SK and "
                       "permissions, secrets hidden (docs/auth.md)"},
        "IdentityToken": {"type": "object", "properties": {"user": _STRING, "token": _STRING}},
        "Info": {"type": "object", "properties": {
            "version": _STRING, "token": _STRING, "clock": _ref("Clock"), "admin": _OBJECT}},
    }
    one_or_many = {"anyOf": [_ref("FaultRule"), {"type": "array", "items": _ref("FaultRule")}]}
    paths = {
        "/_mock/state": {
            "get": _operation("getState", "the whole state as one document",
                              _json(_ref("State")), parameters=(_query(
                                  "internals", _STRING,
                                  "'true' adds the random generator's state"),)),
            "put": _operation("putState", "replace the state (checked whole first)",
                              _json(_ref("State")),
                              body={"application/json": {"schema": _ref("State")}})},
        "/_mock/reset": {"post": _operation(
            "reset", "back to the start: empty, or the --fixtures data", _json(_ref("Status")))},
        "/_mock/faults": {
            "get": _operation("listFaults", "the fault rules installed now",
                              _json(_ref("FaultRules"))),
            "post": _operation("addFaults", "install one rule (or a list, all or nothing)",
                               _json({"anyOf": [_ref("FaultRule"), _ref("FaultRules")]},
                                     "Created"), "201",
                               body={"application/json": {"schema": one_or_many},
                                     "application/yaml": {"schema": one_or_many}}),
            "delete": _operation("deleteFaults", "remove every rule", _json(_ref("Removed")))},
        "/_mock/faults/{id}": {
            "parameters": [_RULE_ID],
            "get": _operation("getFault", "one rule, with its counters", _json(_ref("FaultRule"))),
            "delete": _operation("deleteFault", "remove one rule", _json(_ref("FaultRule")))},
        "/_mock/requests": {
            "get": _operation("listRequests", "the request journal, newest last",
                              _json(_ref("Requests")), parameters=_FILTERS),
            "delete": _operation("clearRequests", "empty the journal", _json(_ref("Removed")))},
        "/_mock/clock": {"get": _operation("getClock", "the mock's time", _json(_ref("Clock")))},
        "/_mock/clock/advance": {"post": _operation(
            "advanceClock", "move the clock; due lifecycle stages apply", _json(_ref("Clock")),
            body={"application/json": {"schema": _ref("Advance")}})},
        "/_mock/kinds": {"get": _operation(
            "listKinds", "the kinds served, with object counts and an example body",
            _json(_ref("Kinds")), parameters=(_query("namespace", _STRING,
                                                     "count the objects of this namespace"),))},
        "/_mock/info": {"get": _operation("getInfo", "version, the console's API token, routes",
                                          _json(_ref("Info")))},
        "/_mock/identities": {
            "get": _operation("getIdentities", "the IAM identities, secrets hidden",
                              _json(_ref("Identities"))),
            "put": _operation("putIdentities", "replace the identities (checked whole first)",
                              _json(_ref("Identities")),
                              body={"application/json": {"schema": _ref("Identities")},
                                    "application/yaml": {"schema": _ref("Identities")}})},
        "/_mock/identities/tokens": {"post": _operation(
            "issueIdentityToken", "a token for a user, no password needed", _json(
                _ref("IdentityToken"), "Created"), "201",
            body={"application/json": {"schema": {"type": "object", "required": ["user"],
                                                  "properties": {"user": _STRING}}}})},
    }
    return {"openapi": "3.0.3",
            "info": {"title": "cci-mock admin API", "version": version,
                     "description": "What a tester controls: state, reset, fault rules, the "
                                    "request journal, the clock (README: Admin API)."},
            "paths": paths,
            "components": {"schemas": schemas, "securitySchemes": {"AdminToken": {
                "type": "apiKey", "in": "header", "name": "X-Admin-Token",
                "description": "needed only when the server runs with --admin-token"}}},
            "security": [{}, {"AdminToken": []}]}
