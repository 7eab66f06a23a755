"""Drives the official Python client's dynamic client through a custom resource's verbs.

Usage: python3 crd_dynamic.py <apiserver URL>. The CRD crontabs.stable.example.com must be established.
Prints one JSON line of what it saw; a failing call raises (non-zero exit, the error on stderr).
"""
import json
import sys

from kubernetes import client
from kubernetes.dynamic import DynamicClient


def main() -> None:
    config = client.Configuration()
    config.host = sys.argv[1]
    dyn = DynamicClient(client.ApiClient(config))
    tabs = dyn.resources.get(api_version="stable.example.com/v1", kind="CronTab")
    out = {"namespaced": tabs.namespaced, "subresources": sorted(tabs.subresources.keys())}
    body = {"apiVersion": "stable.example.com/v1", "kind": "CronTab",
            "metadata": {"name": "py", "labels": {"client": "python"}}, "spec": {"cronSpec": "* * * * *", "junk": 1}}
    created = tabs.create(body=body, namespace="default")
    out["created"] = created.to_dict()["spec"]
    patched = tabs.patch(name="py", namespace="default", body={"spec": {"image": "x"}}, content_type="application/merge-patch+json")
    out["generation"] = patched.metadata.generation
    listed = tabs.get(namespace="default", label_selector="client=python")
    out["listed"] = [i.metadata.name for i in listed.items]
    status = tabs.status.patch(name="py", namespace="default", body={"status": {"replicas": 2}},
                               content_type="application/merge-patch+json")
    out["status"] = status.to_dict()["status"]
    seen = []
    for event in tabs.watch(namespace="default", field_selector="metadata.name=py", timeout=30):
        seen.append(event["type"])
        if event["type"] == "ADDED":
            tabs.delete(name="py", namespace="default")
        elif event["type"] == "DELETED":
            break
    out["watch"] = seen
    print(json.dumps(out))


if __name__ == "__main__":
    main()
