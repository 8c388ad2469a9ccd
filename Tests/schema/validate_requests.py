#!/usr/bin/env python3
"""Validates the requests Herald's channels send (pinned in Tests/HeraldServerTests/Golden/requests/,
kept equal to the channels' output by SpecRequestTests) against the official OpenAPI specs copied
into Tests/specs/ (sources and licences in Tests/specs/LICENSES.md): Twilio's CreateMessage and
Meta's sendMessage. Prints a line per request and a final `requests: N passed, M failed`; exits 1 on
a failure, a missing spec included.
"""
import json, pathlib, re, sys, urllib.parse

import jsonschema
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPECS = ROOT / "Tests" / "specs"
REQUESTS = ROOT / "Tests" / "HeraldServerTests" / "Golden" / "requests"

twilio = json.loads((SPECS / "twilio_api_v2010.json").read_text())
meta = yaml.safe_load((SPECS / "whatsapp_business_messaging_v23.yaml").read_text())


def operation(spec, concrete, method):
    """The spec's operation whose path template matches `concrete` ({Name} matches one segment)."""
    wanted = concrete.strip("/").split("/")
    for path, item in spec["paths"].items():
        parts = path.strip("/").split("/")
        if len(parts) == len(wanted) and method in item and all(
            (p.startswith("{") and p.endswith("}") and w) or p == w for p, w in zip(parts, wanted)
        ):
            return path, item[method]
    return None, None


def validator(spec, schema):
    # Resolve "#/components/…" references against the whole spec document.
    registry_schema = dict(schema)
    registry_schema["components"] = spec.get("components", {})
    return jsonschema.Draft202012Validator(registry_schema)


def merged(spec, schema):
    """Folds `allOf` parts into one object schema, as OpenAPI authors intend: Meta's messages are
    `allOf: [BaseMessageProperties, {additionalProperties: false, …}]`, which strict JSON Schema
    would reject for every message because each part forbids the other's properties."""
    if "$ref" in schema and len(schema) == 1:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" not in schema:
        return schema
    result = {"type": "object", "properties": {}, "required": []}
    closed = False
    for part in schema["allOf"]:
        part = merged(spec, part)
        result["properties"].update(part.get("properties", {}))
        result["required"] += [name for name in part.get("required", []) if name not in result["required"]]
        closed = closed or part.get("additionalProperties") is False
    if closed:
        result["additionalProperties"] = False
    return result


MESSAGES_PATH = "/{Version}/{Phone-Number-ID}/messages"


def with_callback_data(schema):
    """The one exception to the spec: `biz_opaque_callback_data` on a message sent through
    POST /{Version}/{Phone-Number-ID}/messages, a string of at most 512 characters.

    Reason: Herald puts the message's idempotency key there, so the status webhooks Meta sends
    back carry it and resolve a message whose send answer was lost. Meta documents the field for
    messages (Cloud API changelog, https://developers.facebook.com/docs/whatsapp/business-platform/changelog:
    "biz_opaque_callback_data field to free-form messages for including arbitrary strings in messages
    webhooks", later "character maximum from 256 to 512"), but the copied OpenAPI file lists it only
    for calls (`biz_opaque_callback_data`, maxLength 512, under the calls schema), and its message
    schemas are closed (additionalProperties: false). Only this property is added, with the calls
    schema's own constraints; every other property stays as strict as the spec."""
    if schema.get("additionalProperties") is not False:
        return schema
    schema = dict(schema)
    schema["properties"] = dict(schema.get("properties", {}))
    schema["properties"]["biz_opaque_callback_data"] = {"type": "string", "maxLength": 512}
    return schema


def check_query(method, path, query):
    """A GET's query against the operation's declared query parameters (Twilio's ListMessage)."""
    spec_path, op = operation(twilio, path, method.lower())
    if op is None:
        return None, [f"{method} {path} is not an operation of the spec"]
    declared = {}
    for parameter in op.get("parameters", []) + twilio["paths"][spec_path].get("parameters", []):
        if "$ref" in parameter:
            parameter = twilio["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        if parameter.get("in") == "query":
            declared[parameter["name"]] = parameter
    problems = []
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    for name, value in pairs:
        if name not in declared:
            problems.append(f"{name}: not a query parameter of {op.get('operationId')}")
            continue
        schema = dict(declared[name].get("schema", {}))
        if schema.get("type") == "integer":
            try:
                value = int(value)
            except ValueError:
                problems.append(f"{name}: {value!r} is not an integer")
                continue
        for error in validator(twilio, schema).iter_errors(value):
            problems.append(f"{name}: {error.message}")
    for name, parameter in declared.items():
        if parameter.get("required") and name not in dict(pairs):
            problems.append(f"{name}: required")
    return (spec_path, op), problems


def check(name, method, path, body, kind):
    """The list of problems of one request against its spec operation."""
    if kind == "query":
        return check_query(method, path, body)
    if kind == "form":
        spec_path, op = operation(twilio, path, method.lower())
        spec, document = twilio, dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        content = op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"] if op else None
    else:
        spec_path, op = operation(meta, path, method.lower())
        spec, document = meta, json.loads(body)
        content = op["requestBody"]["content"]["application/json"]["schema"] if op else None
    if op is None:
        return None, [f"{method} {path} is not an operation of the spec"]
    # OpenAPI discriminators pick the one schema that applies (JSON Schema's oneOf alone cannot).
    target = content
    if "$ref" in target:
        target = spec["components"]["schemas"][target["$ref"].rsplit("/", 1)[1]]
    mapping = target.get("discriminator", {}).get("mapping", {})
    if mapping and isinstance(document, dict):
        chosen = mapping.get(document.get(target["discriminator"]["propertyName"]))
        if chosen:
            target = {"$ref": chosen}
    target = merged(spec, target)
    if spec is meta and spec_path == MESSAGES_PATH:
        target = with_callback_data(target)
    errors = sorted(validator(spec, target).iter_errors(document), key=lambda e: list(e.path))
    return (spec_path, op), [f"{'.'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in errors[:5]]


passed = failed = 0
for file in sorted(REQUESTS.iterdir()):
    first, _, body = file.read_text(encoding="utf-8").partition("\n")
    method, path = first.split(" ", 1)
    kind = {".form": "form", ".query": "query"}.get(file.suffix, "json")
    found, problems = check(file.name, method, path, body.rstrip("\n"), kind)
    if problems:
        failed += 1
        for problem in problems:
            print(f"FAILED {file.name}: {problem}")
    else:
        passed += 1
        print(f"ok {file.name}: {method} {found[0]} ({found[1].get('operationId')})")

# The check itself must be able to fail: requests the specs forbid are rejected.
broken = [
    ("Twilio without To", "POST", "/2010-04-01/Accounts/AC1/Messages.json", "From=%2B1&Body=hi", "form"),
    ("Twilio lookup by an undeclared filter", "GET", "/2010-04-01/Accounts/AC1/Messages.json", "To=%2B1&Body=hi", "query"),
    ("Twilio lookup with a PageSize that is not a number", "GET", "/2010-04-01/Accounts/AC1/Messages.json",
     "To=%2B1&PageSize=fifty", "query"),
    ("WhatsApp text without a body object", "POST", "/v23.0/1/messages",
     '{"messaging_product":"whatsapp","recipient_type":"individual","to":"+1","type":"text","text":"hi"}', "json"),
    ("WhatsApp callback data over 512 characters", "POST", "/v23.0/1/messages",
     '{"messaging_product":"whatsapp","recipient_type":"individual","to":"+1","type":"text","text":{"body":"hi"},'
     '"biz_opaque_callback_data":"' + "k" * 513 + '"}', "json"),
    ("WhatsApp callback data that is not a string", "POST", "/v23.0/1/messages",
     '{"messaging_product":"whatsapp","recipient_type":"individual","to":"+1","type":"text","text":{"body":"hi"},'
     '"biz_opaque_callback_data":{"key":"k"}}', "json"),
    ("WhatsApp text with a property the spec does not have", "POST", "/v23.0/1/messages",
     '{"messaging_product":"whatsapp","recipient_type":"individual","to":"+1","type":"text","text":{"body":"hi"},'
     '"callback_data":"k"}', "json"),
    ("WhatsApp template without a name", "POST", "/v23.0/1/messages",
     '{"messaging_product":"whatsapp","recipient_type":"individual","to":"+1","type":"template","template":{"language":{"policy":"deterministic","code":"fr"}}}', "json"),
]
for name, method, path, body, kind in broken:
    _, problems = check(name, method, path, body, kind)
    if problems:
        passed += 1
        print(f"rejected as expected: {name} ({problems[0][:160]})")
    else:
        failed += 1
        print(f"FAILED: accepted a request the spec forbids: {name}")

print(f"requests: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
