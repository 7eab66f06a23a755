import type { Command } from 'commander';
import type { KubeObject } from '@k8ts/api';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { helpDefault, setExamples } from '../help.js';
import { parseOutputFormat, printObjects } from '../printers/index.js';
import { requiredFlagMissing, resolveTargets } from './targets.js';
import { collect, dryRunFlag, outputFlag, reportErrors, templateFlag } from './util.js';
import { printBuilt } from './typed-json.js';
import { dryRunSuffix, parseDryRun } from './write-util.js';

interface AutoscaleOptions {
  min: string;
  max?: string;
  cpuPercent: string;
  name?: string;
  filename: string[];
  recursive?: boolean;
  dryRun?: string | boolean;
  output?: string;
  template?: string;
  fieldManager: string;
}

/** `kubectl autoscale`: an autoscaling/v1 HorizontalPodAutoscaler for a scalable object (fieldManager kubectl-autoscale). */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('autoscale').summary('Auto-scale a deployment, replica set, stateful set, or replication controller')
    .description(`Creates an autoscaler that automatically chooses and sets the number of pods that run in a Kubernetes cluster.

 Looks up a deployment, replica set, stateful set, or replication controller by name and creates an autoscaler that uses the given resource as a reference. An autoscaler can automatically increase or decrease number of pods deployed within the system as needed.`)
    .usage('(-f FILENAME | TYPE NAME | TYPE/NAME) [--min=MINPODS] --max=MAXPODS [--cpu-percent=CPU]')
    .argument('[args...]')
    .option('--min <n>', 'The lower limit for the number of pods that can be set by the autoscaler. If it\'s not specified or negative, the server will apply a default value.', '-1')
    .option('--max <n>', 'The upper limit for the number of pods that can be set by the autoscaler. Required.')
    .option('--cpu-percent <n>', 'The target average CPU utilization (represented as a percent of requested CPU) over all the pods. If it\'s not specified or negative, a default autoscaling policy will be used.', '-1')
    .option('--name <name>', 'The name for the newly created object. If not specified, the name of the input resource will be used.')
    .option('-f, --filename <file>', 'Filename, directory, or URL to files identifying the resource to autoscale.', collect, [])
    .option('-R, --recursive', 'Process the directory used in -f, --filename recursively. Useful when you want to manage related manifests organized within the same directory.')
    .addOption(dryRunFlag())
    .addOption(outputFlag())
    .addOption(templateFlag())
    .option('--field-manager <name>', 'Name of the manager used to track field ownership.', 'kubectl-autoscale')
    .action(async (args: string[], o: AutoscaleOptions) => autoscale(f, args, o));
  helpDefault(cmd, '--max', -1); // required: kubectl's -1 is never used
  setExamples(cmd, `  # Auto scale a deployment "foo", with the number of pods between 2 and 10, no target CPU utilization specified so a default autoscaling policy will be used
  kubectl autoscale deployment foo --min=2 --max=10

  # Auto scale a replication controller "foo", with the number of pods between 1 and 5, target CPU utilization at 80%
  kubectl autoscale rc foo --max=5 --cpu-percent=80`);
  return cmd;
}

async function autoscale(f: Factory, args: string[], o: AutoscaleOptions): Promise<void> {
  if (o.max === undefined) requiredFlagMissing(f, 'max');
  const min = Number(o.min);
  const max = Number(o.max);
  if (max < 1) throw new CliError('--max=MAXPODS is required and must be at least 1, max: ' + max);
  if (max < min) throw new CliError(`--max=MAXPODS must be larger or equal to --min=MINPODS, max: ${max}, min: ${min}`);
  const dryRun = parseDryRun(o.dryRun);
  const fmt = o.output ? await parseOutputFormat(o.output, o.template) : undefined;
  const { targets, errors } = await resolveTargets(f, args, { filename: o.filename, recursive: o.recursive }, 'autoscale');
  for (const t of targets) {
    try {
      if (!['Deployment', 'ReplicaSet', 'StatefulSet', 'ReplicationController'].includes(t.mapping.kind)) {
        throw new CliError(`cannot autoscale a ${t.mapping.kind}: could not find scale subresource for ${t.mapping.group}/${t.mapping.version}, Resource=${t.mapping.resource} in discovery information`);
      }
      const name = o.name ?? t.name;
      // kubectl's autoscale leaves the namespace out of the object it builds (the request names it).
      const namespace = undefined as string | undefined;
      const cpu = Number(o.cpuPercent);
      const hpa = {
        kind: 'HorizontalPodAutoscaler', apiVersion: 'autoscaling/v1',
        metadata: { name, ...(namespace ? { namespace } : {}), creationTimestamp: null },
        spec: {
          scaleTargetRef: { kind: t.mapping.kind, name: t.name, apiVersion: t.object.apiVersion },
          ...(min >= 0 ? { minReplicas: min } : {}), maxReplicas: max,
          ...(cpu >= 0 ? { targetCPUUtilizationPercentage: cpu } : {}),
        },
        status: { currentReplicas: 0, desiredReplicas: 0 },
      } as unknown as KubeObject;
      let result = hpa;
      if (dryRun !== 'client') {
        const client = await f.client();
        result = await client.request<KubeObject>('POST', `/apis/autoscaling/v1/namespaces/${encodeURIComponent(t.namespace ?? f.namespace())}/horizontalpodautoscalers`, {
          body: hpa, accept: 'application/json', query: { fieldManager: o.fieldManager, dryRun: dryRun === 'server' ? 'All' : undefined },
        });
      }
      if (fmt && fmt.kind !== 'table' && fmt.kind !== 'wide') f.io.out.write(dryRun === 'client' ? printBuilt(result, fmt, () => printObjects([result], fmt, true)) : printObjects([result], fmt, true));
      else f.io.out.write(`horizontalpodautoscaler.autoscaling/${name} autoscaled${dryRunSuffix(dryRun)}\n`);
    } catch (err) {
      errors.push(err);
    }
  }
  reportErrors(f, errors);
}
