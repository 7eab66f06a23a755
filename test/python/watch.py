"""Drives the official Python client through a watch: ADDED, MODIFIED, DELETED of one ConfigMap.

Usage: python3 watch.py <apiserver URL> <configmap name>. Prints the event types it saw as one JSON line.
Each write is made when the previous event arrives, so nothing waits on a clock; the server ends the watch
after timeout_seconds if an event never comes.
"""
import json
import sys

from kubernetes import client, watch


def main() -> None:
    host, name = sys.argv[1], sys.argv[2]
    config = client.Configuration()
    config.host = host
    v1 = client.CoreV1Api(client.ApiClient(config))
    v1.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data={"step": "created"}))
    seen = []
    w = watch.Watch()
    for event in w.stream(v1.list_namespaced_config_map, "default", field_selector=f"metadata.name={name}", timeout_seconds=30):
        cm = event["object"]
        seen.append({"type": event["type"], "step": (cm.data or {}).get("step")})
        if event["type"] == "ADDED":
            v1.patch_namespaced_config_map(name, "default", {"data": {"step": "modified"}})
        elif event["type"] == "MODIFIED":
            v1.delete_namespaced_config_map(name, "default")
        elif event["type"] == "DELETED":
            w.stop()
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
