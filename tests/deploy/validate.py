"""Validates the Kubernetes manifests in deploy/ (tests/deploy/manifests.rs runs this).

Usage: validate.py <crd fixture> <manifest>...

- every SpinApp against the openAPIV3Schema of the SpinApp CRD fixture, with every object that
  lists its properties closed (an unknown field is an error, like `kubectl --validate=strict`);
- every other object, and the CRD fixture itself, against the Kubernetes schemas that the PyPI
  package kubernetes-validate carries offline, strictly, for each Kubernetes minor version in
  KUBERNETES_VERSIONS;
- then prints every object as one JSON array on stdout, so the Rust test checks what the
  manifests say (replicas, components, variables) against spin.toml.

Exits non-zero, naming file, object and field, on the first document that does not validate.
"""

import copy
import json
import re
import sys

import jsonschema
import kubernetes_validate
import yaml

# The Kubernetes versions the manifests must be valid for: from the oldest still common in
# managed clusters to the newest kubernetes-validate carries.
KUBERNETES_VERSIONS = ["1.29.0", "1.32.0", "1.37.0"]

SPINAPP_API_VERSION = "core.spinkube.dev/v1alpha1"

# metadata.name of a namespaced object: an RFC 1123 subdomain (what the API server checks).
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def closed(schema):
    """The schema with `additionalProperties: false` on every object that lists properties and
    neither allows nor preserves unknown fields."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def spinapp_schema(crd):
    versions = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    if crd["spec"]["group"] != "core.spinkube.dev" or crd["spec"]["names"]["kind"] != "SpinApp" \
            or len(versions) != 1:
        fail("the CRD fixture is not the SpinApp CRD of core.spinkube.dev/v1alpha1")
    return closed(versions[0]["schema"]["openAPIV3Schema"])


def where(error):
    return "/".join(str(p) for p in error.absolute_path) or "(root)"


def validate_kubernetes(doc, label):
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            fail(f"{label}: not a valid {doc.get('kind')} for Kubernetes {version}: "
                 f"{where(error)}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            fail(f"{label}: {error.message}")


def main(argv):
    if len(argv) < 3:
        fail(__doc__)
    crd_path, manifests = argv[1], argv[2:]
    with open(crd_path) as f:
        crd = yaml.safe_load(f)
    validate_kubernetes(crd, crd_path)
    schema = spinapp_schema(crd)
    jsonschema.Draft7Validator.check_schema(schema)
    spinapp = jsonschema.Draft7Validator(schema)

    objects = []
    for path in manifests:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        if not docs:
            fail(f"{path}: no Kubernetes object")
        for doc in docs:
            label = f"{path}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            name = doc.get("metadata", {}).get("name", "")
            if not DNS_SUBDOMAIN.match(name) or len(name) > 253:
                fail(f"{label}: metadata.name {name!r} is not a DNS subdomain")
            if doc.get("kind") == "SpinApp":
                if doc.get("apiVersion") != SPINAPP_API_VERSION:
                    fail(f"{label}: apiVersion must be {SPINAPP_API_VERSION}")
                errors = sorted(spinapp.iter_errors(doc), key=lambda e: list(e.absolute_path))
                if errors:
                    fail(f"{label}: not a valid SpinApp: "
                         + "; ".join(f"{where(e)}: {e.message}" for e in errors))
            else:
                validate_kubernetes(doc, label)
            objects.append({"file": path, "object": doc})
    json.dump(objects, sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
