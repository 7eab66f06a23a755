import type { Command } from 'commander';
import type { KubeObject } from '@k8ts/api';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { objectName, parseOutputFormat, printObjects } from '../printers/index.js';
import { requiredFlagMissing } from './targets.js';
import { collect, dryRunFlag, outputFlag, templateFlag } from './util.js';
import { printBuilt } from './typed-json.js';
import { dryRunSuffix, parseDryRun } from './write-util.js';

interface RunOptions {
  image?: string;
  port?: string;
  env: string[];
  labels?: string;
  annotations: string[];
  restart: string;
  command?: boolean;
  imagePullPolicy?: string;
  privileged?: boolean;
  dryRun?: string | boolean;
  output?: string;
  template?: string;
  fieldManager: string;
  rm?: boolean;
  stdin?: boolean;
  tty?: boolean;
  attach?: boolean;
  expose?: boolean;
  overrides?: string;
}

/** How many parsed arguments came after `--`. */
function afterDashDash(cmd: Command): number {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  const raw = (root as unknown as { rawArgs?: string[] }).rawArgs ?? [];
  const i = raw.indexOf('--');
  return i < 0 ? 0 : raw.length - i - 1;
}

function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of s.split(',').filter(Boolean)) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new CliError(`invalid label spec: ${kv}`);
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** `kubectl run NAME --image=…`: POSTs a Pod as kubectl's run generator builds it (fieldManager kubectl-run). */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('run').summary('Run a particular image on the cluster').description(`Create and run a particular image in a pod.

 (k8ts-kubectl: --rm, -i/--stdin, -t/--tty, --attach, --expose and --overrides are not supported yet; create the pod, then use kubectl attach/exec and kubectl expose.)`)
    .usage('NAME --image=image [--env="key=value"] [--port=port] [--dry-run=server|client] [--overrides=inline-json] [--command] -- [COMMAND] [args...]')
    .argument('[args...]')
    .option('--image <image>', 'The image for the container to run.')
    .option('--port <port>', 'The port that this container exposes.')
    .option('--env <kv>', 'Environment variables to set in the container.', collect, [])
    .option('-l, --labels <labels>', 'Comma separated labels to apply to the pod. Will override previous values.')
    .option('--annotations <kv>', 'Annotations to apply to the pod.', collect, [])
    .option('--restart <policy>', 'The restart policy for this Pod.  Legal values [Always, OnFailure, Never].', 'Always')
    .option('--command', 'If true and extra arguments are present, use them as the \'command\' field in the container, rather than the \'args\' field which is the default.')
    .option('--image-pull-policy <policy>', 'The image pull policy for the container.  If left empty, this value will not be specified by the client and defaulted by the server.')
    .option('--privileged', 'If true, run the container in privileged mode.')
    .addOption(dryRunFlag())
    .addOption(outputFlag())
    .addOption(templateFlag())
    .option('--field-manager <name>', 'Name of the manager used to track field ownership.', 'kubectl-run')
    .option('--rm', 'If true, delete the pod after it exits.  Only valid when attaching to the container, e.g. with \'--attach\' or with \'-i/--stdin\'. (k8ts-kubectl: not supported)')
    .option('-i, --stdin', 'Keep stdin open on the container in the pod, even if nothing is attached. (k8ts-kubectl: not supported)')
    .option('-t, --tty', 'Allocate a TTY for the container in the pod. (k8ts-kubectl: not supported)')
    .option('--attach', 'If true, wait for the Pod to start running, and then attach to the Pod as if \'kubectl attach ...\' were called. (k8ts-kubectl: not supported)')
    .option('--expose', 'If true, create a ClusterIP service associated with the pod.  Requires `--port`. (k8ts-kubectl: not supported)')
    .option('--overrides <json>', 'An inline JSON override for the generated object. (k8ts-kubectl: not supported)')
    .action(async (args: string[], o: RunOptions, self: Command) => run(f, args, o, self));
  setExamples(cmd, `  # Start a nginx pod
  kubectl run nginx --image=nginx

  # Start a hazelcast pod and let the container expose port 5701
  kubectl run hazelcast --image=hazelcast/hazelcast --port=5701

  # Start a hazelcast pod and set environment variables "DNS_DOMAIN=cluster" and "POD_NAMESPACE=default" in the container
  kubectl run hazelcast --image=hazelcast/hazelcast --env="DNS_DOMAIN=cluster" --env="POD_NAMESPACE=default"

  # Start a hazelcast pod and set labels "app=hazelcast" and "env=prod" in the container
  kubectl run hazelcast --image=hazelcast/hazelcast --labels="app=hazelcast,env=prod"

  # Dry run; print the corresponding API objects without creating them
  kubectl run nginx --image=nginx --dry-run=client

  # Start the nginx pod using the default command, but use custom arguments (arg1 .. argN) for that command
  kubectl run nginx --image=nginx -- <arg1> <arg2> ... <argN>

  # Start the nginx pod using a different command and custom arguments
  kubectl run nginx --image=nginx --command -- <cmd> <arg1> ... <argN>`);
  return cmd;
}

async function run(f: Factory, args: string[], o: RunOptions, self: Command): Promise<void> {
  for (const [flag, on] of [['--rm', o.rm], ['-i/--stdin', o.stdin], ['-t/--tty', o.tty], ['--attach', o.attach], ['--expose', o.expose], ['--overrides', o.overrides]] as const) {
    if (on) throw new CliError(`k8ts-kubectl run does not support ${flag} yet: create the pod, then use kubectl attach, exec or expose`);
  }
  const n = afterDashDash(self);
  const names = n ? args.slice(0, args.length - n) : args;
  const rest = n ? args.slice(args.length - n) : [];
  if (!names.length) throw new CliError('NAME is required for run', { usage: 'run' });
  if (!o.image) requiredFlagMissing(f, 'image');
  const name = names[0];
  const extra = [...names.slice(1), ...rest];
  if (!['Always', 'OnFailure', 'Never'].includes(o.restart)) throw new CliError(`invalid restart policy: ${o.restart}`);
  const dryRun = parseDryRun(o.dryRun);
  const fmt = o.output ? await parseOutputFormat(o.output, o.template) : undefined;
  const labels = o.labels ? parseLabels(o.labels) : { run: name };
  const annotations: Record<string, string> = {};
  for (const a of o.annotations) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new CliError(`invalid annotation spec: ${a}`);
    annotations[a.slice(0, eq)] = a.slice(eq + 1);
  }
  const env = o.env.map((e) => {
    const eq = e.indexOf('=');
    if (eq <= 0) throw new CliError(`invalid env: ${e}`);
    return { name: e.slice(0, eq), value: e.slice(eq + 1) };
  });
  const port = o.port === undefined ? -1 : Number(o.port);
  if (o.port !== undefined && !/^-?\d+$/.test(o.port)) throw new CliError(`strconv.Atoi: parsing "${o.port}": invalid syntax`);
  const container: Record<string, unknown> = { name, image: o.image };
  if (extra.length) container[o.command ? 'command' : 'args'] = extra;
  if (port > 0) container.ports = [{ containerPort: port }];
  if (env.length) container.env = env;
  container.resources = {};
  if (o.imagePullPolicy) container.imagePullPolicy = o.imagePullPolicy;
  if (o.privileged) container.securityContext = { privileged: true };
  const namespace = f.namespaceExplicit() ? f.namespace() : undefined;
  const pod = {
    kind: 'Pod', apiVersion: 'v1',
    metadata: { name, ...(namespace ? { namespace } : {}), creationTimestamp: null, labels, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: { containers: [container], restartPolicy: o.restart, dnsPolicy: 'ClusterFirst' },
    status: {},
  } as unknown as KubeObject;
  let result = pod;
  if (dryRun !== 'client') {
    const client = await f.client();
    result = await client.request<KubeObject>('POST', `/api/v1/namespaces/${encodeURIComponent(f.namespace())}/pods`, {
      body: pod, accept: 'application/json', query: { fieldManager: o.fieldManager, dryRun: dryRun === 'server' ? 'All' : undefined },
    });
  }
  if (fmt && fmt.kind !== 'table' && fmt.kind !== 'wide') f.io.out.write(dryRun === 'client' ? printBuilt(result, fmt, () => printObjects([result], fmt, true)) : printObjects([result], fmt, true));
  else f.io.out.write(`${objectName({ ...result, kind: 'Pod', apiVersion: 'v1' })} created${dryRunSuffix(dryRun)}\n`);
}
