#!/usr/bin/env python3
"""Generates the simulator's OpenAPI documents (simulator/openapi/*.json) from Kubernetes'
published OpenAPI v2 spec, for the kinds the simulator serves. Nothing is written by hand.

The v3 documents, one per group-version (`<group-version path with / as __>.json`): each
served kind's schema and every schema it refers to are copied as published, with
`#/definitions/` references rewritten to v3's `#/components/schemas/`, and so are the
query and path parameters of the kinds' POST and PATCH operations.

The v2 document (`v2.json`, served at `/openapi/v2`): one swagger 2.0 document for all the
served group-versions, with the published `swagger`, `info`, `securityDefinitions` and
`security`, and:
- `paths`: the path items of the served kinds, copied whole as published. A path is kept
  when it is `/<group-version>/[namespaces/{namespace}/]<resource>[/{name}]` for a served
  group-version (a collection or an object, the paths the simulator serves) and every
  operation on it names a served kind of that group-version in its
  `x-kubernetes-group-version-kind`. Subresources (`…/{name}/status`, `pods/{name}/log`,
  `namespaces/{name}/finalize`) and the deprecated `/watch/…` paths are left out: the
  simulator answers 404 to them.
- `parameters`: the shared parameters (`#/parameters/…`) those paths refer to, as published.
- `definitions`: the served kinds' schemas (and their `…List`s), as for v3, and every
  definition those and the kept paths and parameters refer to, transitively, as published.

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

def refs(node, out, params=None):
    """Adds to `out` every definition `node` refers to, transitively; with `params`, also
    every shared parameter (and what it refers to) to `params`."""
    if isinstance(node, dict):
        r = node.get("$ref")
        if isinstance(r, str) and r.startswith("#/definitions/"):
            name = r[len("#/definitions/"):]
            if name not in out:
                out.add(name)
                refs(defs[name], out, params)
        elif isinstance(r, str) and r.startswith("#/parameters/") and params is not None:
            name = r[len("#/parameters/"):]
            if name not in params:
                params.add(name)
                refs(spec["parameters"][name], out, params)
        for v in node.values():
            refs(v, out, params)
    elif isinstance(node, list):
        for v in node:
            refs(v, out, params)

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

# The v2 document (see the docstring for which paths are kept).
METHODS = ["get", "put", "post", "delete", "options", "head", "patch"]

def served_path(p, gv, kinds, item):
    rest = p[len("/" + gv + "/"):].split("/") if p.startswith("/" + gv + "/") else None
    if rest is None:
        return False
    if rest[:2] == ["namespaces", "{namespace}"] and len(rest) > 2:
        rest = rest[2:]
    if not (len(rest) == 1 or (len(rest) == 2 and rest[1] == "{name}")):
        return False
    group, version = gv_of(gv)
    ops = [item[m] for m in METHODS if m in item]
    return bool(ops) and all(
        (op.get("x-kubernetes-group-version-kind") or {}).get("kind") in kinds
        and op["x-kubernetes-group-version-kind"].get("group") == group
        and op["x-kubernetes-group-version-kind"].get("version") == version
        for op in ops
    )

v2_paths = {p: item for p, item in spec["paths"].items() if any(served_path(p, gv, kinds, item) for gv, kinds in SERVED.items())}
v2_defs, v2_params = set(), set()
for gv, kinds in SERVED.items():
    group, version = gv_of(gv)
    for name, schema in defs.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            if gvk["group"] == group and gvk["version"] == version and (gvk["kind"] in kinds or gvk["kind"] in [k + "List" for k in kinds]):
                if name not in v2_defs:
                    v2_defs.add(name)
                    refs(defs[name], v2_defs, v2_params)
refs(v2_paths, v2_defs, v2_params)
doc = {
    "swagger": spec["swagger"],
    "info": spec["info"],
    "paths": v2_paths,
    "parameters": {n: spec["parameters"][n] for n in sorted(v2_params)},
    "definitions": {n: defs[n] for n in sorted(v2_defs)},
    "securityDefinitions": spec["securityDefinitions"],
    "security": spec["security"],
}
target = os.path.join(out_dir, "v2.json")
with open(target, "w") as f:
    json.dump(doc, f, indent=None, separators=(",", ":"), sort_keys=True)
print(f"{target}: {len(v2_paths)} paths, {len(v2_params)} parameters, {len(v2_defs)} definitions, {os.path.getsize(target)} bytes")
