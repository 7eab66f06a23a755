import protobuf from 'protobufjs';
import { errors } from '@k8ts/api';

/**
 * Request bodies in `application/vnd.kubernetes.protobuf` (kubectl's typed clients: `kubectl autoscale`): the `k8s\0`
 * magic, a runtime.Unknown envelope naming apiVersion and kind, and the object in the Go types' generated.proto
 * encoding. Decoded to the JSON the same object has, for the kinds whose messages are described below.
 */

const str = (id: number) => ({ type: 'string', id });
const i32 = (id: number) => ({ type: 'int32', id });
const i64 = (id: number) => ({ type: 'int64', id });
const msg = (type: string, id: number) => ({ type, id });

// The messages of k8s.io/apimachinery and k8s.io/api generated.proto, as far as the decoded kinds need them.
const root = protobuf.Root.fromJSON(({
  nested: {
    runtime: {
      nested: {
        TypeMeta: { fields: { apiVersion: str(1), kind: str(2) } },
        Unknown: { fields: { typeMeta: msg('TypeMeta', 1), raw: { type: 'bytes', id: 2 }, contentEncoding: str(3), contentType: str(4) } },
      },
    },
    meta: {
      nested: {
        Time: { fields: { seconds: i64(1), nanos: i32(2) } },
        OwnerReference: {
          fields: { kind: str(1), name: str(3), uid: str(4), apiVersion: str(5), controller: { type: 'bool', id: 6 }, blockOwnerDeletion: { type: 'bool', id: 7 } },
        },
        ObjectMeta: {
          fields: {
            name: str(1), generateName: str(2), namespace: str(3), selfLink: str(4), uid: str(5), resourceVersion: str(6),
            generation: i64(7), creationTimestamp: msg('Time', 8), deletionTimestamp: msg('Time', 9), deletionGracePeriodSeconds: i64(10),
            labels: { keyType: 'string', type: 'string', id: 11 }, annotations: { keyType: 'string', type: 'string', id: 12 },
            ownerReferences: { rule: 'repeated', type: 'OwnerReference', id: 13 }, finalizers: { rule: 'repeated', type: 'string', id: 14 },
          },
        },
      },
    },
    autoscalingV1: {
      nested: {
        CrossVersionObjectReference: { fields: { kind: str(1), name: str(2), apiVersion: str(3) } },
        HorizontalPodAutoscalerSpec: {
          fields: { scaleTargetRef: msg('CrossVersionObjectReference', 1), minReplicas: i32(2), maxReplicas: i32(3), targetCPUUtilizationPercentage: i32(4) },
        },
        HorizontalPodAutoscalerStatus: {
          fields: {
            observedGeneration: i64(1), lastScaleTime: msg('meta.Time', 2), currentReplicas: i32(3), desiredReplicas: i32(4),
            currentCPUUtilizationPercentage: i32(5),
          },
        },
        HorizontalPodAutoscaler: {
          fields: { metadata: msg('meta.ObjectMeta', 1), spec: msg('HorizontalPodAutoscalerSpec', 2), status: msg('HorizontalPodAutoscalerStatus', 3) },
        },
      },
    },
  },
// Map fields (keyType) are part of protobufjs' JSON descriptors but not of its IField type.
}) as protobuf.INamespace);

/** The decodable kinds by `apiVersion/kind`. */
const KINDS: Record<string, string> = {
  'autoscaling/v1/HorizontalPodAutoscaler': 'autoscalingV1.HorizontalPodAutoscaler',
};

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
/** Go's zero time.Time as a Unix second count: what an unset metav1.Time encodes to. */
const GO_ZERO_TIME_SECONDS = -62135596800;

/** A decoded message as its JSON: Times as RFC 3339, Go's empty values (omitempty) left out. */
function toJson(type: protobuf.Type, message: protobuf.Message): Record<string, unknown> | undefined {
  if (type.fullName === '.meta.Time') return undefined;
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    // Only fields on the wire: protobufjs answers absent scalars with their defaults from the prototype.
    if (!Object.prototype.hasOwnProperty.call(message, field.name)) continue;
    const value = (message as unknown as Record<string, unknown>)[field.name];
    if (value === undefined || value === null) continue;
    const sub = field.resolve().resolvedType;
    if (field.map) {
      const map = value as Record<string, string>;
      if (Object.keys(map).length) out[field.name] = { ...map };
    } else if (field.repeated) {
      const list = (value as unknown[]).map((v) => (sub instanceof protobuf.Type ? toJson(sub, v as protobuf.Message) : v));
      if (list.length) out[field.name] = list;
    } else if (sub instanceof protobuf.Type && sub.fullName === '.meta.Time') {
      const t = value as { seconds?: number | { toNumber(): number }; nanos?: number };
      const seconds = typeof t.seconds === 'object' ? t.seconds.toNumber() : t.seconds ?? 0;
      if (seconds !== GO_ZERO_TIME_SECONDS) out[field.name] = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    } else if (sub instanceof protobuf.Type) {
      const obj = toJson(sub, value as protobuf.Message);
      if (obj && Object.keys(obj).length) out[field.name] = obj;
    } else if (typeof value === 'object' && 'toNumber' in (value as object)) {
      out[field.name] = (value as { toNumber(): number }).toNumber();
    } else if (value !== '') {
      out[field.name] = value;
    }
  }
  return out;
}

/** Decodes a protobuf request body into the object's JSON; 415 for kinds not described here, 400 for a broken body. */
export function decodeProtobuf(body: Buffer): unknown {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw errors.badRequest('the body of the request was in an unknown format: protobuf bodies start with the k8s\\0 magic');
  }
  let apiVersion: string;
  let kind: string;
  let raw: Uint8Array;
  try {
    const unknown = root.lookupType('runtime.Unknown').decode(body.subarray(MAGIC.length)) as unknown as { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array };
    apiVersion = unknown.typeMeta?.apiVersion ?? '';
    kind = unknown.typeMeta?.kind ?? '';
    raw = unknown.raw ?? new Uint8Array();
  } catch (err) {
    throw errors.badRequest(`the body of the request was in an unknown format: invalid protobuf envelope: ${(err as Error).message}`);
  }
  const typeName = KINDS[`${apiVersion}/${kind}`];
  if (!typeName) {
    throw errors.unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (protobuf is decoded only for ${Object.keys(KINDS).join(', ')}; got ${apiVersion} ${kind}: with kubectl create <generator>, use \`kubectl create ... --dry-run=client -o yaml | kubectl apply -f -\`)`);
  }
  const type = root.lookupType(typeName);
  let message: protobuf.Message;
  try {
    message = type.decode(raw);
  } catch (err) {
    throw errors.badRequest(`${kind} in version "${apiVersion.split('/').pop()}" cannot be handled as a ${kind}: invalid protobuf: ${(err as Error).message}`);
  }
  return { apiVersion, kind, ...toJson(type, message) };
}
