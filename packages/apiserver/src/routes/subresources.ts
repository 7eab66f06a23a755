import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors, findResource, isQualifiedName, type KubeObject } from '@k8ts/api';
import { evictionDeleteOptions } from '../dry-run.js';
import { patchType } from '../http.js';
import { bindPod } from '../rest/binding.js';
import { evictPod } from '../rest/eviction.js';
import { toScale, updateScale } from '../rest/scale.js';
import { createToken } from '../rest/token-request.js';
import type { DeleteOptions, ResourceStore } from '../rest-store.js';
import { CUSTOM_INFO, CUSTOM_SMP_REFUSED } from '../apiextensions/custom-resource.js';
import { decodeAs, notFound, respond, success, type ApiContext, type Query, type Target } from './context.js';
import { proxyLog, proxyScheduling, proxyStream } from './proxy.js';
import { checkForce } from './crud.js';

/** An apply patch of a subresource needs a fieldManager too (upstream's 422 on PatchOptions). */
function checkFieldManagerForApply(fieldManager: string | undefined): void {
  if (!fieldManager) throw errors.invalid('PatchOptions', 'meta.k8s.io', '', [{ field: 'fieldManager', type: 'FieldValueRequired', message: 'is required for apply patch' }]);
}

/**
 * `/status`, `/scale`, `pods/binding`, `pods/ephemeralcontainers`, `pods/eviction`, `pods/log`, `pods/scheduling` and the pods' connect
 * subresources (exec, attach, portforward) of the resources that declare them.
 */
export async function serveSubresource(ctx: ApiContext, req: FastifyRequest, reply: FastifyReply, t: Target, name: string,
  query: Query, body: () => unknown, dryRun: boolean, manager?: string): Promise<unknown> {
  const store = ctx.stores.get(t.def)!;
  const sub = t.def.subresources.find((s) => s.name === t.subresource);
  if (!sub) throw notFound();
  const send = (obj: KubeObject, code = 200) => respond(req, reply, t.def, obj, code, query);
  switch (`${sub.name} ${req.method}`) {
    case 'status GET': return send(await store.get(t.namespace, name));
    // pods/ephemeralcontainers: the Pod in and out; only spec.ephemeralContainers is taken (upstream's
    // EphemeralContainersREST, in the store's subresource rules).
    case 'ephemeralcontainers GET': return send(await store.get(t.namespace, name));
    case 'status PUT': case 'ephemeralcontainers PUT': {
      const obj = store.checkBody(body(), t.namespace);
      if (obj.metadata?.name !== name) throw errors.badRequest(`the name of the object (${obj.metadata?.name ?? ''}) does not match the name on the URL (${name})`);
      return send(await store.update(t.namespace, name, obj, { dryRun, manager, subresource: sub.name as 'status' | 'ephemeralcontainers' }));
    }
    case 'status PATCH': case 'ephemeralcontainers PATCH': {
      const type = patchType(req.headers['content-type']);
      // A custom resource's status takes no strategic merge (415 as upstream).
      if (type === 'strategic' && CUSTOM_INFO.has(t.def)) throw CUSTOM_SMP_REFUSED();
      const force = checkForce(query.force, type === 'apply');
      if (type === 'apply') checkFieldManagerForApply(query.fieldManager);
      return send((await store.patch(t.namespace, name, type, body() ?? {}, { dryRun, manager, force, subresource: sub.name as 'status' | 'ephemeralcontainers' })).object);
    }
    case 'scale GET': return reply.send(toScale(store, await store.get(t.namespace, name)));
    case 'scale PUT': return reply.send(await updateScale(store, t.namespace, name, { method: 'PUT', body: body() }, dryRun, manager));
    case 'scale PATCH':
      return reply.send(await updateScale(store, t.namespace, name, { method: 'PATCH', patchType: patchType(req.headers['content-type']), body: body() }, dryRun, manager));
    case 'binding POST': {
      await bindPod(store, t.namespace, name, body(), dryRun);
      return reply.code(201).send(success(201));
    }
    case 'eviction POST': {
      // The Eviction's deleteOptions.dryRun counts as much as ?dryRun= (kubectl drain --dry-run=server sets it).
      const eviction = decodeAs('Eviction', 'policy/v1', body()) as { deleteOptions?: DeleteOptions } | undefined;
      const pdbs = ctx.stores.get(findResource('policy', 'v1', 'poddisruptionbudgets')!)!;
      await evictPod(store, pdbs, t.namespace!, name, evictionDeleteOptions(eviction, query.dryRun));
      return reply.code(201).send(success(201));
    }
    case 'log GET': return proxyLog(ctx, req, reply, t.namespace!, name, query);
    case 'scheduling GET': return proxyScheduling(ctx, reply, t.namespace!, name);
    case 'exec GET': case 'exec POST': case 'attach GET': case 'attach POST': case 'portforward GET': case 'portforward POST':
      return proxyStream(ctx, req, reply, t.namespace!, name, sub.name as 'exec' | 'attach' | 'portforward', query);
    case 'token POST': {
      const request = decodeAs('TokenRequest', 'authentication.k8s.io/v1', body()) as Parameters<typeof createToken>[4];
      const storeOf = (r: 'pods' | 'secrets' | 'nodes') => ctx.stores.get(findResource('', 'v1', r)!)!;
      return reply.code(201).send(await createToken(storeOf, store, t.namespace!, name, request, ctx.tokenSigner));
    }
    case 'finalize PUT': return send(await finalizeNamespace(store, name, body(), dryRun));
    default: throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
  }
}

/**
 * namespaces/{name}/finalize (upstream's FinalizeREST): a PUT of the Namespace of which only spec.finalizers is
 * taken; the namespace goes once it is terminating and no finalizer is left.
 */
async function finalizeNamespace(store: ResourceStore, name: string, body: unknown, dryRun: boolean): Promise<KubeObject> {
  const obj = store.checkBody(body, undefined) as KubeObject & { spec?: { finalizers?: unknown } };
  if (obj.metadata?.name !== name) throw errors.badRequest(`the name of the object (${obj.metadata?.name ?? ''}) does not match the name on the URL (${name})`);
  const finalizers = obj.spec?.finalizers ?? [];
  const bad = !Array.isArray(finalizers) ? 'must be a list of strings'
    : finalizers.find((f) => typeof f !== 'string' || (f !== 'kubernetes' && isQualifiedName(f).length > 0)) !== undefined ? 'name must be a qualified name (kubernetes, or a name like example.com/cleanup)' : '';
  if (bad) throw errors.invalid('Namespace', '', name, [{ type: 'FieldValueInvalid', field: 'spec.finalizers', value: finalizers, message: bad }]);
  const rv = obj.metadata?.resourceVersion;
  return store.mutate(undefined, name, (ns) => {
    if (rv && rv !== ns.metadata?.resourceVersion) throw store.conflict(name);
    ns.spec = { ...(ns.spec as object), finalizers: [...new Set(finalizers as string[])] };
    return ns;
  }, { dryRun, subresource: 'internal' });
}
