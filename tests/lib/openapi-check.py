#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks recorded kysod answers against docs/openapi.yaml.

    openapi-check.py OPENAPI_YAML RECORD_DIR
    openapi-check.py --self-check OPENAPI_YAML

RECORD_DIR holds what tests/lib/kyso-env.sh's api() recorded with
KYSO_API_RECORD set: an `index` file of lines
"N<TAB>METHOD<TAB>STATUS<TAB>PATH", and N.body, N.headers for each. A line
whose METHOD is EVENT records an event of GET /v1/events: PATH is the event
kind and N.body its `data`.

Every answer must be documented: its path and method an operation of
`paths` (an unknown path or method answers with the Error schema), its status
one of the operation's responses, its Content-Type one of that response's
media types, and its JSON body valid against that media type's schema. Every
event must be a `webhooks` entry whose request body schema its data fits.
Nothing here knows kysod's routes or codes: it all comes from the document.
Prints one line per violation; exits 1 if there is any.
"""
import json
import os
import re
import sys
import urllib.parse
import warnings

import jsonschema
import yaml

# RefResolver is what Debian 12's jsonschema (4.10) has; later versions deprecate it
warnings.filterwarnings("ignore", category=DeprecationWarning, module="jsonschema")
warnings.filterwarnings("ignore", message=".*RefResolver.*")


def resolve(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError("only local references are supported: " + ref)
        node = doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


class Checker:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        self.resolver = jsonschema.RefResolver.from_schema(self.doc)
        self.routes = []
        for template, item in (self.doc.get("paths") or {}).items():
            rx = "^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template)) + "$"
            # exact paths before templated ones
            self.routes.append(("{" in template, re.compile(rx), template, item))
        self.routes.sort(key=lambda r: r[0])

    def validate(self, schema, value):
        """Error messages of value against schema (2020-12, as OpenAPI 3.1 has it)."""
        v = jsonschema.Draft202012Validator(schema, resolver=self.resolver)
        out = []
        for e in sorted(v.iter_errors(value), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in e.absolute_path) or "(top)"
            out.append("%s: %s" % (where, e.message[:300]))
        return out

    def find(self, path):
        for _, rx, template, item in self.routes:
            if rx.match(path):
                return template, item
        return None, None

    def check_answer(self, method, status, path, headers, body):
        # matched as the server routes it: the path percent-decoded
        path = urllib.parse.unquote(path.split("?", 1)[0])
        ctype = ""
        for line in headers.splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip().lower() == "content-type":
                ctype = value.split(";", 1)[0].strip().lower()
        template, item = self.find(path)
        op = item.get(method.lower()) if item else None
        if op is None:
            # not an operation: an error answer of the Error schema
            if not status.startswith(("4", "5")):
                return ["%s is not documented, yet answered %s" % (
                    "path" if item is None else "method", status)]
            if method == "HEAD" or not body:
                return []
            return self.check_body("application/json", ctype, body,
                                   {"$ref": "#/components/schemas/Error"})
        responses = op.get("responses") or {}
        resp = responses.get(status) or responses.get(status[0] + "XX") or \
            responses.get("default")
        if resp is None:
            return ["status %s is not a documented response of %s %s (documented: %s)" % (
                status, method, template, " ".join(sorted(responses)))]
        resp = resolve(self.doc, resp)
        content = resp.get("content") or {}
        if not content:
            return ["response %s of %s %s has no content, yet a body came" % (
                status, method, template)] if body else []
        if ctype not in content:
            return ["Content-Type %r is not one of %s for %s %s %s" % (
                ctype, sorted(content), method, template, status)]
        schema = content[ctype].get("schema")
        if schema is None:
            return []
        return self.check_body(ctype, ctype, body, schema)

    def check_body(self, want_type, ctype, body, schema):
        if ctype != want_type:
            return ["Content-Type %r, not %r" % (ctype, want_type)]
        if not ctype.endswith("json"):
            return []
        try:
            value = json.loads(body)
        except ValueError as e:
            return ["the body is not JSON: %s" % e]
        return self.validate(schema, value)

    def check_event(self, kind, body):
        hook = (self.doc.get("webhooks") or {}).get(kind)
        if hook is None:
            return ["event %s is not in webhooks" % kind]
        op = resolve(self.doc, hook).get("post") or {}
        content = resolve(self.doc, op.get("requestBody") or {}).get("content") or {}
        schema = (content.get("application/json") or {}).get("schema")
        if schema is None:
            return ["webhooks %s has no application/json request body schema" % kind]
        try:
            value = json.loads(body)
        except ValueError as e:
            return ["the event data is not JSON: %s" % e]
        return self.validate(schema, value)


def self_check(path):
    """The document itself: every $ref resolves, every schema is a valid JSON
    Schema 2020-12 (OpenAPI 3.1's dialect), every operation has responses.
    Prints the webhooks' names (the event kinds) on success."""
    checker = Checker(path)
    doc = checker.doc
    bad = []

    def walk(node, where):
        if isinstance(node, dict):
            if "$ref" in node:
                try:
                    resolve(doc, node)
                except (KeyError, TypeError, ValueError) as e:
                    bad.append("%s: $ref %s does not resolve (%s)" % (where, node["$ref"], e))
            for k, v in node.items():
                if k == "schema" and isinstance(v, dict):
                    try:
                        jsonschema.Draft202012Validator.check_schema(v)
                    except jsonschema.SchemaError as e:
                        bad.append("%s/schema: %s" % (where, e.message))
                walk(v, where + "/" + str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, "%s/%d" % (where, i))

    if not str(doc.get("openapi", "")).startswith("3.1"):
        bad.append("openapi is %r, not 3.1.x" % doc.get("openapi"))
    for name, schema in (doc.get("components", {}).get("schemas") or {}).items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as e:
            bad.append("components/schemas/%s: %s" % (name, e.message))
    walk(doc, "")
    for group in ("paths", "webhooks"):
        for p, item in (doc.get(group) or {}).items():
            for method, op in item.items():
                if isinstance(op, dict) and not op.get("responses"):
                    bad.append("%s %s %s has no responses" % (group, method, p))
    for line in bad:
        print(line)
    if bad:
        return 1
    print(" ".join(sorted(doc.get("webhooks") or {})))
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--self-check":
        return self_check(sys.argv[2])
    if len(sys.argv) != 3:
        sys.stderr.write("usage: openapi-check.py OPENAPI_YAML RECORD_DIR\n"
                         "       openapi-check.py --self-check OPENAPI_YAML\n")
        return 2
    checker = Checker(sys.argv[1])
    rdir = sys.argv[2]
    bad = checked = 0
    with open(os.path.join(rdir, "index"), encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    for line in lines:
        fields = line.split("\t", 3)
        if len(fields) != 4:
            continue
        n, method, status, path = fields

        def read(ext):
            try:
                with open(os.path.join(rdir, n + ext), "rb") as g:
                    return g.read().decode("utf-8", "replace")
            except OSError:
                return ""
        body = read(".body")
        if method == "EVENT":
            problems = checker.check_event(path, body)
            what = "event %s" % path
        else:
            problems = checker.check_answer(method, status, path, read(".headers"), body)
            what = "%s %s -> %s" % (method, path, status)
        checked += 1
        if problems:
            bad += 1
            print("%s: %s" % (what, "; ".join(problems[:5])))
            print("    body: %s" % body[:400].replace("\n", "\\n"))
    print("%d of %d recorded answers and events do not match %s" % (
        bad, checked, os.path.basename(sys.argv[1])))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
