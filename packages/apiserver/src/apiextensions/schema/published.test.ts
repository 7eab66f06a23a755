import { describe, expect, it } from 'vitest';
import { compileSchema, publishedSchema } from './index.js';

// upstream's controller/openapi/builder buildKubeNative + addEmbeddedProperties (OpenAPI v3 form).
describe('publishedSchema', () => {
  const raw = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          replicas: { type: 'integer', minimum: 1 },
          template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
      metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 20 } } },
    },
  };
  const out = publishedSchema(compileSchema(raw), { group: 'stable.example.com', version: 'v1', kind: 'CronTab' });
  const props = out.properties as Record<string, Record<string, unknown>>;

  it('metadata is ObjectMeta, apiVersion and kind are described, the GVK is attached', () => {
    expect(props.metadata).toEqual({
      description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
      allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }],
    });
    expect(props.apiVersion.type).toBe('string');
    expect(props.kind.type).toBe('string');
    expect(String(props.kind.description)).toMatch(/^Kind is a string value representing the REST resource/);
    expect(out['x-kubernetes-group-version-kind']).toEqual([{ group: 'stable.example.com', kind: 'CronTab', version: 'v1' }]);
    expect(out.type).toBe('object');
  });

  it('keeps the version schema otherwise, and embedded resources get apiVersion, kind (required) and ObjectMeta', () => {
    const spec = props.spec as { properties: Record<string, Record<string, unknown>> };
    expect(spec.properties.replicas).toEqual({ type: 'integer', minimum: 1 });
    const template = spec.properties.template as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(template.properties)).toEqual(['apiVersion', 'kind', 'metadata']);
    expect(template.required).toEqual(['kind', 'apiVersion']);
  });

  it('does not change the compiled schema', () => {
    expect((raw.properties.spec.properties.template as Record<string, unknown>).properties).toBeUndefined();
    expect(Object.keys(raw.properties)).toEqual(['spec', 'metadata']);
  });
});
