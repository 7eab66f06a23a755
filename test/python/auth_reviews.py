"""The official Python client's authorization.k8s.io and authentication.k8s.io calls against k8ts (test/auth-reviews.test.ts).
Usage: auth_reviews.py <server URL>; prints one JSON object of what the server answered."""
import json, sys
from kubernetes import client
cfg = client.Configuration(); cfg.host = sys.argv[1]
api = client.ApiClient(cfg)
authz = client.AuthorizationV1Api(api)
r = authz.create_self_subject_access_review(client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
    resource_attributes=client.V1ResourceAttributes(verb='delete', resource='deployments', group='apps', namespace='default'))))
rules = authz.create_self_subject_rules_review(client.V1SelfSubjectRulesReview(spec=client.V1SelfSubjectRulesReviewSpec(namespace='default')))
sar = authz.create_subject_access_review(client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(user='jane',
    non_resource_attributes=client.V1NonResourceAttributes(path='/healthz', verb='get'))))
tr = client.AuthenticationV1Api(api).create_token_review(client.V1TokenReview(spec=client.V1TokenReviewSpec(token="bad")))
print(json.dumps({'ssar': r.status.allowed, 'rules': api.sanitize_for_serialization(rules.status), 'sar': sar.status.allowed, "tr": api.sanitize_for_serialization(tr.status)}))
