#!/usr/bin/env python3
"""Validates Herald's rules files against rules.schema.json.

Checks, against the JSON Schema at the repository root:
  (a) rules.yaml at the repository root;
  (b) every fenced code block whose first statement is `version: 1` in README.md and in the
      Markdown files under docs/;
  (c) that a few deliberately broken snippets are rejected, for the reason they were written for.

Prints one line per document and ends with `schema: N passed, M failed`; exits 1 if anything
failed. Needs PyYAML and jsonschema (pip install pyyaml jsonschema).

    python3 Tests/schema/validate.py
"""

import datetime
import json
import re
import sys
from pathlib import Path

try:
    import yaml
    from jsonschema import Draft202012Validator
except ImportError as error:  # pragma: no cover - depends on the machine
    print(f"missing Python package ({error.name}): pip install pyyaml jsonschema", file=sys.stderr)
    sys.exit(2)

ROOT = Path(__file__).resolve().parent.parent.parent
SCHEMA = ROOT / "rules.schema.json"
RULES = ROOT / "rules.yaml"
DOCS = [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))

# Broken snippets: (what is wrong, YAML, a check that the schema rejects it for that reason).
# Each check receives the list of (path, message) of every error, nested ones included.
BROKEN = [
    (
        "unknown top key 'rule'",
        """
version: 1
rule:
  - id: x
    when: {}
    send: { channel: sms, template: t }
""",
        lambda errors: any(path == [] and "'rule'" in message for path, message in errors),
    ),
    (
        "misspelt provider key 'secert'",
        """
version: 1
providers:
  myshop:
    verify: { scheme: hmac-sha256, header: X-Signature }
    secert: "${MYSHOP_SECRET}"
""",
        lambda errors: any(path == ["providers", "myshop"] and "'secert'" in message for path, message in errors),
    ),
    (
        "misspelt channel key 'acount_sid'",
        """
version: 1
channels:
  sms: { type: twilio, acount_sid: "${TWILIO_ACCOUNT_SID}", auth_token: "${TWILIO_AUTH_TOKEN}", from: "+212500000000" }
""",
        lambda errors: any(path == ["channels", "sms"] and "'acount_sid'" in message for path, message in errors),
    ),
    (
        "when.transition.to as a mapping",
        """
version: 1
rules:
  - id: shipped
    when: { transition: { to: { status: shipped } } }
    send: { channel: sms, template: shipped }
""",
        lambda errors: any(path[-2:] == ["transition", "to"] for path, _ in errors),
    ),
    (
        "rule without send and without stop: true",
        """
version: 1
rules:
  - id: silent
    when: { sandbox: true }
""",
        lambda errors: any(path == ["rules", 0] and "'send'" in message for path, message in errors),
    ),
    (
        "unknown verify.scheme 'hmac-sha1'",
        """
version: 1
providers:
  myshop: { verify: { scheme: hmac-sha1, header: X-Signature, secret: "${S}" } }
""",
        lambda errors: any(path[-2:] == ["verify", "scheme"] for path, _ in errors),
    ),
    (
        "unknown field 'order.statu' in where",
        """
version: 1
rules:
  - id: typo
    when: { where: { order.statu: delivered } }
    send: { channel: sms, template: t }
""",
        lambda errors: any("'order.statu'" in message for _, message in errors),
    ),
]


def plain(value):
    """Turns what PyYAML's safe loader builds into JSON values, as the Swift loader reads them.

    Herald reads every scalar as its text, so unquoted dates and times (which PyYAML turns into
    date/datetime objects) become their ISO 8601 text, and non-string mapping keys their text.
    """
    if isinstance(value, dict):
        return {key_text(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def key_text(key):
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, (datetime.date, datetime.datetime)):
        return key.isoformat()
    return key if isinstance(key, str) else str(key)


def all_errors(validator, document):
    """Every error as (absolute path, message), including those nested under anyOf/oneOf."""
    found = []

    def walk(errors):
        for error in errors:
            found.append((list(error.absolute_path), error.message))
            walk(error.context or [])

    walk(validator.iter_errors(document))
    return found


def best_errors(validator, document):
    """Top-level errors, the most relevant first, as `path: message` lines."""
    lines = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        deepest = error
        while deepest.context:  # under anyOf/oneOf: the branch of the right type, deepest first
            deepest = max(deepest.context, key=lambda e: (e.validator != "type", len(e.absolute_path)))
        path = ".".join(str(p) for p in deepest.absolute_path) or "(top)"
        lines.append(f"{path}: {deepest.message}")
    return lines


def rules_blocks(path):
    """(ordinal among the file's fenced blocks, line, text) of each block that starts with `version: 1`."""
    text = path.read_text(encoding="utf-8")
    blocks = []
    ordinal = 0
    for match in re.finditer(r"^```[^\n]*\n(.*?)^```[ \t]*$", text, flags=re.S | re.M):
        ordinal += 1
        body = match.group(1)
        first = next(
            (line for line in body.splitlines() if line.strip() and not line.lstrip().startswith("#")), ""
        )
        if re.fullmatch(r"version:\s*1\s*(#.*)?", first.strip()):
            line = text.count("\n", 0, match.start(1)) + 1
            blocks.append((ordinal, line, body))
    return blocks


def main():
    passed = failed = 0

    def ok(line):
        nonlocal passed
        passed += 1
        print(line)

    def fail(line, details=()):
        nonlocal failed
        failed += 1
        print(line)
        for detail in details:
            print(f"    {detail}")

    try:
        schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
    except Exception as error:  # noqa: BLE001 - any problem with the schema is one failure
        fail(f"FAILED {SCHEMA.name}: not a valid draft 2020-12 schema: {error}")
        print(f"schema: {passed} passed, {failed} failed")
        return 1
    validator = Draft202012Validator(schema)

    def check(name, text):
        try:
            document = plain(yaml.safe_load(text))
        except yaml.YAMLError as error:
            fail(f"FAILED {name}: invalid YAML: {error}")
            return
        errors = best_errors(validator, document)
        if errors:
            fail(f"FAILED {name}", errors)
        else:
            ok(f"ok {name}")

    # (a) the shipped rules file
    if RULES.exists():
        check(RULES.name, RULES.read_text(encoding="utf-8"))
    else:
        fail(f"FAILED {RULES.name}: not found at {RULES}")

    # (b) examples in the documentation
    for doc in DOCS:
        name = doc.relative_to(ROOT).as_posix()
        if not doc.exists():
            fail(f"FAILED {name}: not found at {doc}")
            continue
        blocks = rules_blocks(doc)
        if not blocks and doc.name == "README.md":
            print(f"note {name}: no code block starting with 'version: 1'")
        for ordinal, line, body in blocks:
            check(f"{name} block {ordinal} (line {line})", body)

    # (c) broken snippets must be rejected, for their own reason
    for what, text, reason in BROKEN:
        document = plain(yaml.safe_load(text))
        errors = all_errors(validator, document)
        if not errors:
            fail(f"FAILED accepted a broken snippet: {what}")
        elif not reason(errors):
            fail(f"FAILED rejected for another reason: {what}", best_errors(validator, document))
        else:
            ok(f"rejected as expected: {what}")

    print(f"schema: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
