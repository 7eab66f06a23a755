import { hostname } from 'node:os';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Scheduler } from './scheduler.js';

const json = (res: ServerResponse, code: number, body: unknown) =>
  void res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));

const status = (code: number, reason: string, message: string, details?: Record<string, string>) =>
  ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason, code, message, ...(details ? { details } : {}) });

/**
 * The scheduler's HTTP endpoints: /healthz and /readyz, and GET /debug/scheduling/<namespace>/<pod> (the pod's last
 * scheduling cycle as JSON, or a 404 Status when the scheduler keeps none for it).
 */
export function schedulerHttpHandler(scheduler: () => Scheduler | undefined): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = req.url ?? '';
    if (url === '/healthz' || url === '/readyz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    const debug = /^\/debug\/scheduling\/([^/?]+)\/([^/?]+)(\?.*)?$/.exec(url);
    const s = scheduler();
    if (!debug || !s) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, status(405, 'MethodNotAllowed', 'only GET is served here'));
    let namespace: string;
    let pod: string;
    try {
      [namespace, pod] = [decodeURIComponent(debug[1]), decodeURIComponent(debug[2])];
    } catch {
      return json(res, 400, status(400, 'BadRequest', 'the namespace or pod name in the path is not valid percent-encoding'));
    }
    const explanation = s.explained.explain(namespace, pod);
    if (!explanation) {
      return json(res, 404, status(404, 'NotFound',
        `the scheduler keeps no scheduling cycle of pod ${namespace}/${pod} (not attempted since it started leading, or no longer among the last ${s.explained.capacity} pods it keeps)`,
        { name: pod, kind: 'pods' }));
    }
    json(res, 200, explanation);
  };
}

/** Where the apiserver reaches this scheduler: the advertised address, else the bind address (the hostname when it is a wildcard). */
export function debugUrl(bindAddress: string, port: number, advertiseAddress?: string): string {
  const wildcard = bindAddress === '0.0.0.0' || bindAddress === '::';
  const host = advertiseAddress || (wildcard ? hostname() : bindAddress);
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
