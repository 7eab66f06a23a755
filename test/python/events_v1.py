"""Drives the official Python client's EventsV1Api: create an events.k8s.io/v1 Event, list it by a field selector,
read it through CoreV1Api, watch its deletion.

Usage: python3 events_v1.py <apiserver URL> <namespace>. Prints one JSON line of what it saw; a failing call raises.
"""
import datetime
import json
import sys

from kubernetes import client, watch


def main() -> None:
    config = client.Configuration()
    config.host = sys.argv[1]
    ns = sys.argv[2]
    api_client = client.ApiClient(config)
    events = client.EventsV1Api(api_client)
    core = client.CoreV1Api(api_client)
    body = client.EventsV1Event(
        metadata=client.V1ObjectMeta(name="py.1"),
        event_time=datetime.datetime.now(datetime.timezone.utc),
        reporting_controller="example.com/py-controller", reporting_instance="py-1", action="Reconcile",
        reason="Synced", type="Normal", note="synced from Python",
        regarding=client.V1ObjectReference(api_version="v1", kind="Secret", namespace=ns, name="py"),
    )
    created = events.create_namespaced_event(namespace=ns, body=body)
    out = {"created": [created.api_version, created.note, created.regarding.name, created.event_time is not None]}
    listed = events.list_namespaced_event(namespace=ns, field_selector="regarding.name=py")
    out["listed"] = [e.metadata.name for e in listed.items]
    as_core = core.read_namespaced_event(name="py.1", namespace=ns)
    out["core"] = [as_core.message, as_core.involved_object.kind, as_core.reporting_component]
    seen = []
    for ev in watch.Watch().stream(events.list_namespaced_event, namespace=ns, field_selector="regarding.name=py", timeout_seconds=30):
        seen.append([ev["type"], ev["object"].note])
        if ev["type"] == "ADDED":
            events.delete_namespaced_event(name="py.1", namespace=ns)
        elif ev["type"] == "DELETED":
            break
    out["watch"] = seen
    print(json.dumps(out))


if __name__ == "__main__":
    main()
