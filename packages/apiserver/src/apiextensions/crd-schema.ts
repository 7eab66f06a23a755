/*
 * The one place the apiserver calls the structural-schema module (apiextensions/schema, upstream's
 * apiextensions-apiserver pkg/apiserver/schema): CRD-time checks, and per served version the compiled schema that
 * prunes, defaults and validates custom objects and is published in /openapi/v3.
 */
export {
  applyDefaults, compileSchema, prune, publishedSchema, validateObject, validateStructuralSchema,
  type CompiledSchema, type JSONSchemaProps,
} from './schema/index.js';
