"""Server-side apply through the official Python client: two field managers, a conflict, a forced apply.

Usage: python3 apply.py <apiserver URL> <configmap name>. Prints one JSON line: the managers after each step, the
conflict's status code and message, and the final data.
"""
import json
import sys

from kubernetes import client
from kubernetes.client.rest import ApiException


def main() -> None:
    host, name = sys.argv[1], sys.argv[2]
    config = client.Configuration()
    config.host = host
    api = client.ApiClient(config)
    # This client (v22) has no _content_type: its PATCH methods send the first patch type they list, so the apply
    # content type is chosen here, and the body passed as text (the client serializes only JSON content types).
    api.select_header_content_type = lambda types: "application/apply-patch+yaml"
    v1 = client.CoreV1Api(api)

    def body(data):
        return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})

    out = {}
    v1.patch_namespaced_config_map(name, "default", body({"a": "1", "b": "2"}), field_manager="alice")
    cm = v1.read_namespaced_config_map(name, "default")
    out["managers"] = sorted(f"{e.manager}/{e.operation}" for e in cm.metadata.managed_fields)
    try:
        v1.patch_namespaced_config_map(name, "default", body({"a": "9"}), field_manager="bob")
    except ApiException as e:
        out["conflict"] = {"status": e.status, "message": json.loads(e.body)["message"]}
    v1.patch_namespaced_config_map(name, "default", body({"a": "9"}), field_manager="bob", force=True)
    # alice drops b from her configuration: nobody else owns it, so it goes.
    v1.patch_namespaced_config_map(name, "default", body({"a": "9"}), field_manager="alice")
    cm = v1.read_namespaced_config_map(name, "default")
    out["final"] = {"data": cm.data, "managers": sorted(f"{e.manager}/{e.operation}" for e in cm.metadata.managed_fields)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
