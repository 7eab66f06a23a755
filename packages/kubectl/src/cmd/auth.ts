import type { Command } from 'commander';
import type { KubeObject } from '@k8ts/api';
import { CliError, ExitCode } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { tabwrite } from '../printers/tabwriter.js';
import { outputFlag } from './util.js';

interface CanIOptions { allNamespaces?: boolean; quiet?: boolean; subresource?: string; list?: boolean; noHeaders?: boolean }
interface WhoAmIOptions { output?: string; template?: string }

/** `kubectl auth can-i` and `kubectl auth whoami` (kubectl's pkg/cmd/auth); `auth reconcile` is not here yet. */
export function register(program: Command, f: Factory): Command {
  const auth = program.command('auth')
    .summary('Inspect authorization')
    .description('Inspect authorization.')
    .usage('[flags]');
  const canI = auth.command('can-i')
    .summary('Check whether an action is allowed')
    .description(`Check whether an action is allowed.

 VERB is a logical Kubernetes API verb like 'get', 'list', 'watch', 'delete', etc. TYPE is a Kubernetes resource. Shortcuts and groups will be resolved. NONRESOURCEURL is a partial URL that starts with "/". NAME is the name of a particular Kubernetes resource. This command pairs nicely with impersonation. See --as global flag.`)
    .usage('VERB [TYPE | TYPE/NAME | NONRESOURCEURL]')
    .argument('[args...]')
    .option('-A, --all-namespaces', 'If true, check the specified action in all namespaces.')
    .option('--list', 'If true, prints all allowed actions.')
    .option('--no-headers', 'If true, prints allowed actions without headers')
    .option('-q, --quiet', 'If true, suppress output and just return the exit code.')
    .option('--subresource <subresource>', 'SubResource such as pod/log or deployment/scale')
    .action(async (args: string[], o: CanIOptions) => canIRun(f, args, o));
  setExamples(canI, `  # Check to see if I can create pods in any namespace
  kubectl auth can-i create pods --all-namespaces

  # Check to see if I can list deployments in my current namespace
  kubectl auth can-i list deployments.apps

  # Check to see if service account "foo" of namespace "dev" can list pods in the namespace "prod"
  # You must be allowed to use impersonation for the global option "--as"
  kubectl auth can-i list pods --as=system:serviceaccount:dev:foo -n prod

  # Check to see if I can do everything in my current namespace ("*" means all)
  kubectl auth can-i '*' '*'

  # Check to see if I can get the job named "bar" in namespace "foo"
  kubectl auth can-i list jobs.batch/bar -n foo

  # Check to see if I can read pod logs
  kubectl auth can-i get pods --subresource=log

  # Check to see if I can access the URL /logs/
  kubectl auth can-i get /logs/

  # Check to see if I can approve certificates.k8s.io
  kubectl auth can-i approve certificates.k8s.io

  # List all allowed actions in namespace "foo"
  kubectl auth can-i --list --namespace=foo`);
  const whoami = auth.command('whoami')
    .summary('Experimental: Check self subject attributes')
    .description(`Experimental: Check who you are and your attributes (groups, extra).

        This command is helpful to get yourself aware of the current user attributes,
        especially when dynamic authentication, e.g., token webhook, auth proxy, or OIDC provider,
        is enabled in the Kubernetes cluster.`)
    .argument('[args...]')
    .option('--allow-missing-template-keys', 'If true, ignore any errors in templates when a field or map key is missing in the template. Only applies to golang and jsonpath output formats.', true)
    .addOption(outputFlag())
    .option('--show-managed-fields', 'If true, keep the managedFields when printing objects in JSON or YAML format.')
    .option('--template <template>', 'Template string or path to template file to use when -o=go-template, -o=go-template-file. The template format is golang templates [http://golang.org/pkg/text/template/#pkg-overview].')
    .action(async (_args: string[], o: WhoAmIOptions) => whoAmIRun(f, o));
  setExamples(whoami, `  # Get your subject attributes
  kubectl auth whoami

  # Get your subject attributes in JSON format
  kubectl auth whoami -o json`);
  auth.action(() => {
    // kubectl auth without a subcommand: its help on stderr, exit 1.
    f.io.err.write(auth.helpInformation());
    throw new ExitCode(1);
  });
  return auth;
}

// ---------------------------------------------------------------------------------------------------------------
// can-i

const RESOURCE_VERBS = new Set(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'use', 'bind', 'impersonate', '*', 'approve', 'sign', 'escalate', 'attest']);
const NON_RESOURCE_URL_VERBS = new Set(['get', 'put', 'post', 'head', 'options', 'delete', 'patch', '*']);
/** Resources the server authorizes that discovery never lists (the impersonate verb's users and groups). */
const NON_STANDARD_RESOURCES = new Set(['users', 'groups']);

/** What can-i asks about a resource: its group and plural as discovery has them, else the argument as typed. */
interface CanIResource { group: string; resource: string; namespaced?: boolean }

/** A SubjectRulesReview rule, and an rbac/v1 PolicyRule as can-i's table handles them. */
interface PolicyRule { verbs?: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }
interface RulesStatus { resourceRules?: PolicyRule[]; nonResourceRules?: PolicyRule[]; incomplete?: boolean; evaluationError?: string }

async function canIRun(f: Factory, args: string[], o: CanIOptions): Promise<void> {
  const noHeaders = (o as { headers?: boolean }).headers === false || !!o.noHeaders;
  let verb = '';
  let nonResourceURL = '';
  let resource: CanIResource | undefined;
  let resourceName = '';
  // kubectl's Complete: the arguments, then the resource through discovery (warning when the server lacks it).
  if (o.list) {
    if (args.length) throw new CliError('list option must be specified with no arguments');
  } else {
    if (args.length !== 2) throw new CliError("you must specify two arguments: verb resource or verb resource/resourceName.\nSee 'kubectl auth can-i -h' for help and examples.");
    verb = args[0];
    if (args[1].startsWith('/')) nonResourceURL = args[1];
    else {
      const slash = args[1].indexOf('/');
      resource = await canIResource(f, slash < 0 ? args[1] : args[1].slice(0, slash));
      if (slash >= 0) resourceName = args[1].slice(slash + 1);
    }
  }
  const client = await f.client();
  const namespace = o.allNamespaces ? '' : f.namespace();
  // kubectl's Validate.
  if (o.list) {
    if (o.quiet || o.allNamespaces || o.subresource) throw new CliError("list option can't be specified with neither quiet, all-namespaces nor subresource options");
  } else {
    if (nonResourceURL) {
      if (o.subresource) throw new CliError('--subresource can not be used with NonResourceURL');
      if (!NON_RESOURCE_URL_VERBS.has(verb)) f.warn(`verb '${verb}' is not a known verb\n`);
    } else if (resource?.resource && !o.allNamespaces) {
      const namespaced = resource.resource === '*' ? true : resource.namespaced;
      if (namespaced === false) {
        f.warn(resource.group ? `resource '${resource.resource}' is not namespace scoped in group '${resource.group}'\n` : `resource '${resource.resource}' is not namespace scoped\n`);
      }
      if (!RESOURCE_VERBS.has(verb)) f.warn(`verb '${verb}' is not a known verb\n`);
    }
    if (noHeaders) throw new CliError('--no-headers cannot be set without --list specified');
  }

  if (o.list) {
    const review = await client.request<{ status?: RulesStatus }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
      body: { kind: 'SelfSubjectRulesReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec: { namespace: namespace || undefined }, status: { resourceRules: null, nonResourceRules: null, incomplete: false } },
      accept: 'application/json',
    });
    const status = review.status ?? {};
    if (status.incomplete) f.warn(`the list may be incomplete: ${status.evaluationError ?? ''}`);
    f.io.out.write(accessTable(status, noHeaders));
    return;
  }
  const spec = nonResourceURL
    ? { nonResourceAttributes: { path: nonResourceURL, verb } }
    : { resourceAttributes: omitEmpty({ namespace, verb, group: resource?.group, resource: resource?.resource, subresource: o.subresource, name: resourceName }) };
  const review = await client.request<{ status?: { allowed?: boolean; reason?: string; evaluationError?: string } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    body: { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec, status: { allowed: false } },
    accept: 'application/json',
  });
  const status = review.status ?? {};
  // -q: nothing on stdout, the answer in the exit code (warnings still on stderr).
  if (!o.quiet) {
    if (status.allowed) f.io.out.write('yes\n');
    else f.io.out.write(`no${status.reason ? ` - ${status.reason}` : ''}${status.evaluationError ? ` - ${status.evaluationError}` : ''}\n`);
  }
  if (!status.allowed) throw new ExitCode(1);
}

function omitEmpty(o: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => !!e[1]));
}

/**
 * The resource as kubectl's can-i resolves it (`resourceFor`): `*` as is; else through the RESTMapper (shortcuts,
 * `resource.group`, `resource.version.group`); a type the server lacks warns and is asked about as typed.
 */
async function canIResource(f: Factory, arg: string): Promise<CanIResource> {
  if (arg === '*') return { group: '', resource: '*' };
  const mapper = await f.mapper();
  const m = mapper.find(arg);
  if (m) return { group: m.group, resource: m.resource, namespaced: m.namespaced };
  // A miss in discovery from the disk cache: the run starts again with fresh discovery (nothing printed yet).
  if (mapper.fromCache) throw new CliError(`the server doesn't have a resource type "${arg}"`);
  const lower = arg.toLowerCase();
  const dot = lower.indexOf('.');
  const [res, group] = dot < 0 ? [lower, ''] : [lower.slice(0, dot), lower.slice(dot + 1)];
  if (!NON_STANDARD_RESOURCES.has(group ? `${res}.${group}` : res)) {
    f.warn(group ? `the server doesn't have a resource type '${res}' in group '${group}'\n` : `the server doesn't have a resource type '${res}'\n`);
  }
  return { group: '', resource: arg };
}

/** Go's `%v` of a string slice: `[a b]`. */
const goList = (v: string[] | undefined): string => `[${(v ?? []).join(' ')}]`;

/** rbac/v1 PolicyRule's String(), the key kubectl sorts the rules by. */
function ruleString(r: PolicyRule): string {
  return `&PolicyRule{Verbs:${goList(r.verbs)},APIGroups:${goList(r.apiGroups)},Resources:${goList(r.resources)},ResourceNames:${goList(r.resourceNames)},NonResourceURLs:${goList(r.nonResourceURLs)},}`;
}

/** kubectl's rbac.BreakdownRule: one rule per group, resource, verb and resource name (per URL and verb). */
function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs ?? []) {
        if (rule.resourceNames?.length) for (const name of rule.resourceNames) out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [name] });
        else out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs ?? []) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

/**
 * kubectl's rbac.CompactRules: rules naming one group and one resource (and at most one name) merged by those, their
 * verbs appended; the others as they are, first.
 */
function compactRules(rules: PolicyRule[]): PolicyRule[] {
  const compacted: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    const isSimple = (r.resourceNames?.length ?? 0) <= 1 && !r.nonResourceURLs?.length && r.apiGroups?.length === 1 && r.resources?.length === 1;
    if (!isSimple) {
      compacted.push(r);
      continue;
    }
    const key = JSON.stringify([r.apiGroups![0], r.resources![0], r.resourceNames?.length ? r.resourceNames[0] : null]);
    const seen = simple.get(key);
    if (seen) seen.verbs = [...(seen.verbs ?? []), ...(r.verbs ?? [])];
    else simple.set(key, { ...r, verbs: [...(r.verbs ?? [])] });
  }
  return [...compacted, ...simple.values()];
}

/** describe.CombineResourceGroup: `deployments.apps`, `pods/log`, `*.*`. */
function combineResourceGroup(resources: string[] | undefined, groups: string[] | undefined): string {
  if (!resources?.length) return '';
  const [name, sub] = splitOnce(resources[0], '/');
  return `${name}${groups?.length && groups[0] ? `.${groups[0]}` : ''}${sub !== undefined ? `/${sub}` : ''}`;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + sep.length)];
}

/** `can-i --list`'s table: the rules broken down, compacted and sorted as kubectl does, tab-aligned. */
export function accessTable(status: RulesStatus, noHeaders: boolean): string {
  const rules = [
    ...(status.resourceRules ?? []).map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups, resources: r.resources, resourceNames: r.resourceNames })),
    ...(status.nonResourceRules ?? []).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
  ];
  const compact = compactRules(rules.flatMap(breakdownRule));
  const keyed = compact.map((r) => ({ r, key: Buffer.from(ruleString(r)) }));
  // Array.prototype.sort is stable, as kubectl's sort.Stable.
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  const rows: string[][] = noHeaders ? [] : [['Resources', 'Non-Resource URLs', 'Resource Names', 'Verbs']];
  for (const { r } of keyed) rows.push([combineResourceGroup(r.resources, r.apiGroups), goList(r.nonResourceURLs), goList(r.resourceNames), goList(r.verbs)]);
  return tabwrite(rows);
}

// ---------------------------------------------------------------------------------------------------------------
// whoami

const WHOAMI_FORMATS = 'go-template, go-template-file, json, jsonpath, jsonpath-as-json, jsonpath-file, name, template, templatefile, yaml';

interface UserInfo { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> }
interface SelfSubjectReview { kind?: string; apiVersion?: string; metadata?: Record<string, unknown>; status?: { userInfo?: UserInfo } }

async function whoAmIRun(f: Factory, o: WhoAmIOptions): Promise<void> {
  const outName = (o.output ?? '').split('=')[0];
  if (o.output && (outName === 'wide' || outName.startsWith('custom-columns'))) {
    throw new CliError(`unable to match a printer suitable for the output format "${o.output}", allowed formats are: ${WHOAMI_FORMATS.replace(/, /g, ',')}`);
  }
  const printers = o.output ? await import('../printers/index.js') : undefined;
  const fmt = printers ? await printers.parseOutputFormat(o.output, o.template, WHOAMI_FORMATS) : undefined;
  const client = await f.client();
  let res: SelfSubjectReview | undefined;
  let failure: unknown;
  // authentication.k8s.io/v1, else the beta, else the alpha API, as kubectl falls back on NotFound.
  for (const version of ['v1', 'v1beta1', 'v1alpha1']) {
    try {
      res = await client.request<SelfSubjectReview>('POST', `/apis/authentication.k8s.io/${version}/selfsubjectreviews`, {
        body: { kind: 'SelfSubjectReview', apiVersion: `authentication.k8s.io/${version}`, metadata: { creationTimestamp: null }, status: { userInfo: {} } },
        accept: 'application/json',
      });
      failure = undefined;
      break;
    } catch (err) {
      failure = err;
      if (apiCode(err) !== 404) break;
    }
  }
  if (failure !== undefined || !res) {
    if (apiCode(failure) === 403) throw new CliError('the selfsubjectreviews API is not enabled in the cluster or you do not have permission to call it');
    if (apiCode(failure) === 404) throw new CliError('the selfsubjectreviews API is not enabled in the cluster\nenable APISelfSubjectReview feature gate and authentication.k8s.io/v1alpha1 or authentication.k8s.io/v1beta1 API');
    throw failure;
  }
  const review = typedReview(res);
  const ui = review.status.userInfo;
  if (!fmt || !printers) {
    const rows = [['ATTRIBUTE', 'VALUE']];
    if (ui.username) rows.push(['Username', ui.username]);
    if (ui.uid) rows.push(['UID', ui.uid]);
    if (ui.groups?.length) rows.push(['Groups', goList(ui.groups)]);
    for (const [k, v] of Object.entries(ui.extra ?? {})) rows.push([`Extra: ${k}`, goList(v)]);
    f.io.out.write(tabwrite(rows));
    return;
  }
  if (fmt.kind === 'json') f.io.out.write(`${printers.toGoJson(review, '    ', false)}\n`);
  // The name printer: the kind and group, and `<unknown>` for an object without a name.
  else if (fmt.kind === 'name') f.io.out.write(`${(review.kind ?? '').toLowerCase()}.${(review.apiVersion ?? '').split('/')[0]}/${typeof review.metadata.name === 'string' && review.metadata.name ? review.metadata.name : '<unknown>'}\n`);
  else f.io.out.write(printers.printObjects([review as unknown as KubeObject], fmt, true, { showManagedFields: true }));
}

function apiCode(err: unknown): number | undefined {
  return err instanceof Error && err.name === 'ApiError' ? (err as { code?: number }).code : undefined;
}

/** ObjectMeta's fields in Go's struct order, for `-o json` of a typed object. */
const OBJECT_META_ORDER = ['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp',
  'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields'];

/**
 * The server's answer as kubectl's typed SelfSubjectReview holds it: the known fields only, struct fields in Go's
 * order and the extra keys sorted (kubectl prints `-o json` from the typed object).
 */
function typedReview(res: SelfSubjectReview): { kind?: string; apiVersion?: string; metadata: Record<string, unknown>; status: { userInfo: UserInfo } } {
  const meta = res.metadata ?? {};
  const metadata: Record<string, unknown> = {};
  // creationTimestamp is null when unset (metav1.Time), the other fields are omitted when empty.
  for (const k of OBJECT_META_ORDER) if (meta[k] !== undefined || k === 'creationTimestamp') metadata[k] = meta[k] ?? null;
  const u = res.status?.userInfo ?? {};
  const userInfo: UserInfo = {};
  if (u.username) userInfo.username = u.username;
  if (u.uid) userInfo.uid = u.uid;
  if (u.groups?.length) userInfo.groups = u.groups;
  const extraKeys = Object.keys(u.extra ?? {}).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  if (extraKeys.length) userInfo.extra = Object.fromEntries(extraKeys.map((k) => [k, u.extra![k] ?? []]));
  return { kind: res.kind ?? 'SelfSubjectReview', apiVersion: res.apiVersion, metadata, status: { userInfo } };
}
