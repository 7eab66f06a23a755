import type { Command } from 'commander';
import type { KubeObject } from '@k8ts/api';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { parseOutputFormat, printObjects } from '../printers/index.js';
import { resolveTargets } from './targets.js';
import { collect, dryRunFlag, outputFlag, reportErrors, templateFlag } from './util.js';
import { printBuilt } from './typed-json.js';
import { dryRunSuffix, parseDryRun } from './write-util.js';

interface ExposeOptions {
  port?: string;
  targetPort?: string;
  protocol?: string;
  name?: string;
  type?: string;
  selector?: string;
  labels?: string;
  clusterIp?: string;
  externalIp?: string;
  sessionAffinity?: string;
  filename: string[];
  recursive?: boolean;
  dryRun?: string | boolean;
  output?: string;
  template?: string;
  fieldManager: string;
}

interface Port { containerPort?: number; protocol?: string; name?: string }

/** The selector and ports kubectl's MapBasedSelectorForObject / PortsForObject read from each kind. */
function fromObject(obj: KubeObject): { selector?: Record<string, string>; ports: Port[]; error?: string } {
  const o = obj as KubeObject & { spec?: any };
  const podPorts = (spec: any): Port[] => ((spec?.containers ?? []) as { ports?: Port[] }[]).flatMap((c) => c.ports ?? []);
  switch (obj.kind) {
    case 'Pod': return { selector: obj.metadata?.labels, ports: podPorts(o.spec), error: obj.metadata?.labels ? undefined : `the pod has no labels and cannot be exposed` };
    case 'Service': return { selector: o.spec?.selector, ports: (o.spec?.ports ?? []).map((p: { port: number; protocol?: string; name?: string }) => ({ containerPort: p.port, protocol: p.protocol, name: p.name })),
      error: o.spec?.selector ? undefined : 'the service has no pod selector set' };
    case 'ReplicationController': return { selector: o.spec?.selector, ports: podPorts(o.spec?.template?.spec) };
    case 'Deployment': case 'ReplicaSet': {
      const sel = o.spec?.selector;
      if (sel?.matchExpressions?.length) return { ports: [], error: `couldn't convert expressions - "${JSON.stringify(sel.matchExpressions)}" to map-based selector format` };
      return { selector: sel?.matchLabels, ports: podPorts(o.spec?.template?.spec) };
    }
  }
  const gk = obj.apiVersion?.includes('/') ? `${obj.kind}.${obj.apiVersion.split('/')[0]}` : obj.kind;
  return { ports: [], error: `cannot expose a ${gk}` };
}

/** `kubectl expose`: a Service selecting the object's pods, as kubectl's service generator builds it (kubectl-expose). */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('expose').summary('Take a replication controller, service, deployment or pod and expose it as a new Kubernetes service')
    .description(`Expose a resource as a new Kubernetes service.

 Looks up a deployment, service, replica set, replication controller or pod by name and uses the selector for that resource as the selector for a new service on the specified port. A deployment or replica set will be exposed as a service only if its selector is convertible to a selector that service supports, i.e. when the selector contains only the matchLabels component. Note that if no port is specified via --port and the exposed resource has multiple ports, all will be re-used by the new service. Also if no labels are specified, the new service will re-use the labels from the resource it exposes.

 Possible resources include (case insensitive):

 pod (po), service (svc), replicationcontroller (rc), deployment (deploy), replicaset (rs)`)
    .usage('(-f FILENAME | TYPE NAME) [--port=port] [--protocol=TCP|UDP|SCTP] [--target-port=number-or-name] [--name=name] [--external-ip=external-ip-of-service] [--type=type]')
    .argument('[args...]')
    .option('--port <port>', 'The port that the service should serve on. Copied from the resource being exposed, if unspecified')
    .option('--target-port <port>', 'Name or number for the port on the container that the service should direct traffic to. Optional.')
    .option('--protocol <protocol>', 'The network protocol for the service to be created. Default is \'TCP\'.')
    .option('--name <name>', 'The name for the newly created object.')
    .option('--type <type>', 'Type for this service: ClusterIP, NodePort, LoadBalancer, or ExternalName. Default is \'ClusterIP\'.')
    .option('--selector <selector>', 'A label selector to use for this service. Only equality-based selector requirements are supported. If empty (the default) infer the selector from the replication controller or replica set.)')
    .option('-l, --labels <labels>', 'Labels to apply to the service created by this call.')
    .option('--cluster-ip <ip>', 'ClusterIP to be assigned to the service. Leave empty to auto-allocate, or set to \'None\' to create a headless service.')
    .option('--external-ip <ip>', 'Additional external IP address (not managed by Kubernetes) to accept for the service. If this IP is routed to a node, the service can be accessed by this IP in addition to its generated service IP.')
    .option('--session-affinity <affinity>', 'If non-empty, set the session affinity for the service to this; legal values: \'None\', \'ClientIP\'')
    .option('-f, --filename <file>', 'Filename, directory, or URL to files identifying the resource to expose a service', collect, [])
    .option('-R, --recursive', 'Process the directory used in -f, --filename recursively. Useful when you want to manage related manifests organized within the same directory.')
    .addOption(dryRunFlag())
    .addOption(outputFlag())
    .addOption(templateFlag())
    .option('--field-manager <name>', 'Name of the manager used to track field ownership.', 'kubectl-expose')
    .action(async (args: string[], o: ExposeOptions) => expose(f, args, o));
  setExamples(cmd, `  # Create a service for a replicated nginx, which serves on port 80 and connects to the containers on port 8000
  kubectl expose rc nginx --port=80 --target-port=8000

  # Create a service for a pod valid-pod, which serves on port 444 with the name "frontend"
  kubectl expose pod valid-pod --port=444 --name=frontend

  # Create a service for a replicated nginx using replica set, which serves on port 80 and connects to the containers on port 8000
  kubectl expose rs nginx --port=80 --target-port=8000

  # Create a service for an nginx deployment, which serves on port 80 and connects to the containers on port 8000
  kubectl expose deployment nginx --port=80 --target-port=8000`);
  return cmd;
}

function parseMap(s: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of s.split(',').filter(Boolean)) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new CliError(`invalid ${what} spec: ${kv}`);
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

async function expose(f: Factory, args: string[], o: ExposeOptions): Promise<void> {
  const dryRun = parseDryRun(o.dryRun);
  const fmt = o.output ? await parseOutputFormat(o.output, o.template) : undefined;
  const { targets, errors } = await resolveTargets(f, args, { filename: o.filename, recursive: o.recursive }, 'expose');
  for (const t of targets) {
    try {
      const info = fromObject(t.object);
      const selector = o.selector ? parseMap(o.selector, 'selector') : info.selector;
      if (!selector) throw new CliError(info.error ?? `couldn't retrieve selectors via --selector flag or introspection`);
      let ports: { name?: string; port: number; protocol: string; targetPort: number | string }[];
      const protocol = o.protocol ?? 'TCP';
      const target = o.targetPort === undefined ? undefined : (/^\d+$/.test(o.targetPort) ? Number(o.targetPort) : o.targetPort);
      if (o.port !== undefined) {
        ports = o.port.split(',').map((p) => ({ port: Number(p), protocol, targetPort: target ?? Number(p) }));
      } else {
        if (!info.ports.length) throw new CliError(`couldn't find port via --port flag or introspection`);
        ports = info.ports.map((p) => ({ port: p.containerPort ?? 0, protocol: o.protocol ?? p.protocol ?? 'TCP', targetPort: target ?? p.containerPort ?? 0, ...(p.name ? { name: p.name } : {}) }));
      }
      if (ports.length > 1) ports = ports.map((p, i) => ({ ...p, name: `port-${i + 1}` }));
      const name = o.name ?? t.name;
      const labels = o.labels ? parseMap(o.labels, 'label') : t.object.metadata?.labels;
      const namespace = f.namespaceExplicit() || t.namespace !== f.namespace() ? t.namespace : undefined;
      const spec: Record<string, unknown> = {
        ports: ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), protocol: p.protocol, port: p.port, targetPort: p.targetPort })),
        selector,
      };
      if (o.clusterIp) spec.clusterIP = o.clusterIp;
      if (o.type) spec.type = o.type;
      if (o.externalIp) spec.externalIPs = [o.externalIp];
      if (o.sessionAffinity) spec.sessionAffinity = o.sessionAffinity;
      const svc = {
        kind: 'Service', apiVersion: 'v1',
        metadata: { name, ...(namespace ? { namespace } : {}), creationTimestamp: null, ...(labels ? { labels } : {}) },
        spec, status: { loadBalancer: {} },
      } as unknown as KubeObject;
      let result = svc;
      if (dryRun !== 'client') {
        const client = await f.client();
        result = await client.request<KubeObject>('POST', `/api/v1/namespaces/${encodeURIComponent(t.namespace ?? f.namespace())}/services`, {
          body: svc, accept: 'application/json', query: { fieldManager: o.fieldManager, dryRun: dryRun === 'server' ? 'All' : undefined },
        });
      }
      if (fmt && fmt.kind !== 'table' && fmt.kind !== 'wide') f.io.out.write(dryRun === 'client' ? printBuilt(result, fmt, () => printObjects([result], fmt, true)) : printObjects([result], fmt, true));
      else f.io.out.write(`service/${name} exposed${dryRunSuffix(dryRun)}\n`);
    } catch (err) {
      errors.push(err);
    }
  }
  reportErrors(f, errors);
}
