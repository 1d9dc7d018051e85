#!/usr/bin/env python3
"""Generates the simulator's OpenAPI v3 documents (simulator/openapi/*.json) from Kubernetes'
published OpenAPI v2 spec, for the kinds the simulator serves. Nothing is written by hand:
each served kind's schema and every schema it refers to are copied as published, with
`#/definitions/` references rewritten to v3's `#/components/schemas/`, and so are the
query and path parameters of the kinds' POST and PATCH operations.

Usage: scripts/openapi-subset.py SWAGGER_JSON
SWAGGER_JSON is `kubernetes/swagger.json.unprocessed` of kubernetes-client/python (the spec
the Kubernetes project publishes; see simulator/openapi/SOURCE.md for the commit used)."""
import json, sys, os

SERVED = {  # group-version path -> kinds, as simulator/src/kube/model.rs serves them
    "api/v1": ["Namespace", "Node", "Pod", "Service", "ConfigMap", "Secret", "ServiceAccount"],
    "apis/apps/v1": ["Deployment", "DaemonSet"],
    "apis/rbac.authorization.k8s.io/v1": ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"],
}

spec = json.load(open(sys.argv[1]))
defs = spec["definitions"]

def gv_of(path):
    parts = path.split("/")
    return ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])

def refs(node, out):
    if isinstance(node, dict):
        r = node.get("$ref")
        if isinstance(r, str) and r.startswith("#/definitions/"):
            name = r[len("#/definitions/"):]
            if name not in out:
                out.add(name)
                refs(defs[name], out)
        for v in node.values():
            refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)

def v3(node):
    if isinstance(node, dict):
        return {k: ("#/components/schemas/" + v[len("#/definitions/"):] if k == "$ref" and isinstance(v, str) and v.startswith("#/definitions/") else v3(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [v3(v) for v in node]
    return node

out_dir = os.path.join(os.path.dirname(__file__), "..", "simulator", "openapi")
for path, kinds in SERVED.items():
    group, version = gv_of(path)
    names = set()
    for name, schema in defs.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            if gvk["group"] == group and gvk["version"] == version and (gvk["kind"] in kinds or gvk["kind"] in [k + "List" for k in kinds]):
                names.add(name)
    closure = set(names)
    for n in names:
        refs(defs[n], closure)
    # The served kinds' write operations (POST and PATCH), with their query parameters: a
    # client learns from them which ones the server takes (kubectl looks for
    # `fieldValidation` to validate on the server). Bodies and answers are left out.
    paths = {}
    for p, item in spec["paths"].items():
        if not p.startswith("/" + path + "/"):
            continue
        ops = {}
        for method in ["post", "patch"]:
            op = item.get(method)
            gvk = (op or {}).get("x-kubernetes-group-version-kind", {})
            if not op or gvk.get("kind") not in kinds:
                continue
            params = []
            for prm in item.get("parameters", []) + op.get("parameters", []):
                prm = spec["parameters"][prm["$ref"][len("#/parameters/"):]] if "$ref" in prm else prm
                if prm["in"] in ("query", "path"):
                    params.append({"name": prm["name"], "in": prm["in"], "description": prm.get("description", ""), "required": prm.get("required", False), "schema": {"type": prm.get("type", "string"), "uniqueItems": True}})
            ops[method] = {"description": op.get("description", ""), "operationId": op["operationId"], "parameters": params, "x-kubernetes-action": op.get("x-kubernetes-action"), "x-kubernetes-group-version-kind": gvk}
        if ops:
            paths[p] = ops
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": spec["info"]["version"]},
        "paths": paths,
        "components": {"schemas": {n: v3(defs[n]) for n in sorted(closure)}},
    }
    target = os.path.join(out_dir, path.replace("/", "__") + ".json")
    with open(target, "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"), sort_keys=True)
    print(f"{target}: {len(closure)} schemas, {os.path.getsize(target)} bytes")
