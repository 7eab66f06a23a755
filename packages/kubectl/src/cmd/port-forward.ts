import type { Command } from 'commander';
import type { Server, Socket } from 'node:net';
import type { SpdyStream } from 'spdy-transport';
import { CliError, usageError } from '../errors.js';
import type { Factory } from '../factory.js';
import { helpDefault, setExamples } from '../help.js';

interface PortForwardOptions { address: string[]; podRunningTimeout: string }
interface PortPair { local: number; remote: number; localText: string }

/** `kubectl port-forward`: local TCP ports to a pod's ports over one SPDY/3.1 pods/portforward connection. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('port-forward')
    .summary('Forward one or more local ports to a pod')
    .description(`Forward one or more local ports to a pod.

 Use resource type/name such as deployment/mydeployment to select a pod. Resource type defaults to 'pod' if omitted.

 If there are multiple pods matching the criteria, a pod will be selected automatically. The forwarding session ends when the selected pod terminates, and a rerun of the command is needed to resume forwarding.`)
    .usage('TYPE/NAME [options] [LOCAL_PORT:]REMOTE_PORT [...[LOCAL_PORT_N:]REMOTE_PORT_N]')
    .argument('[args...]')
    .option('--address <addresses>', 'Addresses to listen on (comma separated). Only accepts IP addresses or localhost as a value. When localhost is supplied, kubectl will try to bind on both 127.0.0.1 and ::1 and will fail if neither of these addresses are available to bind.', (v: string, p: string[] | undefined) => [...(p ?? []), ...v.split(',')])
    .option('--pod-running-timeout <duration>', 'The length of time (like 5s, 2m, or 3h, higher than zero) to wait until at least one pod is running', '1m0s')
    .action(async (args: string[], o: PortForwardOptions) => {
      if (args.length < 2) throw usageError('port-forward', 'TYPE/NAME and list of ports are required for port-forward');
      await portForward(f, args[0], args.slice(1), { ...o, address: o.address ?? ['localhost'] });
    });
  helpDefault(cmd, '--address', ['localhost']);
  setExamples(cmd, `  # Listen on ports 5000 and 6000 locally, forwarding data to/from ports 5000 and 6000 in the pod
  kubectl port-forward pod/mypod 5000 6000

  # Listen on ports 5000 and 6000 locally, forwarding data to/from ports 5000 and 6000 in a pod selected by the deployment
  kubectl port-forward deployment/mydeployment 5000 6000

  # Listen on port 8443 locally, forwarding to the targetPort of the service's port named "https" in a pod selected by the service
  kubectl port-forward service/myservice 8443:https

  # Listen on port 8888 locally, forwarding to 5000 in the pod
  kubectl port-forward pod/mypod 8888:5000

  # Listen on port 8888 on all addresses, forwarding to 5000 in the pod
  kubectl port-forward --address 0.0.0.0 pod/mypod 8888:5000

  # Listen on port 8888 on localhost and selected IP, forwarding to 5000 in the pod
  kubectl port-forward --address localhost,10.19.21.23 pod/mypod 8888:5000

  # Listen on a random port locally, forwarding to 5000 in the pod
  kubectl port-forward pod/mypod :5000`);
  return cmd;
}

const splitPort = (p: string): [string, string] => {
  const i = p.indexOf(':');
  return i < 0 ? [p, p] : [p.slice(0, i), p.slice(i + 1)];
};

/** A service's port (number or name) as the pod's container port (LookupContainerPortNumberByServicePort). */
function servicePortToTarget(svc: any, pod: any, port: string): string {
  const num = Number(port);
  const sp = (svc.spec?.ports ?? []).find((p: any) => (Number.isInteger(num) && /^\d+$/.test(port) ? p.port === num : p.name === port));
  if (!sp) throw new CliError(`Service ${svc.metadata.name} does not have a service port ${port}`);
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number' || /^\d+$/.test(String(target))) return String(Number(target) || sp.port);
  return String(containerPortByName(pod, String(target)));
}

function containerPortByName(pod: any, name: string): number {
  for (const c of pod.spec?.containers ?? []) for (const p of c.ports ?? []) if (p.name === name) return p.containerPort;
  throw new CliError(`Pod '${pod.metadata.name}' does not have a named port '${name}'`);
}

/** Local and remote ports from `[LOCAL:]REMOTE` (portforward.parsePorts). */
function parsePorts(specs: string[]): PortPair[] {
  return specs.map((spec) => {
    const parts = spec.split(':');
    if (parts.length > 2) throw new CliError(`invalid port format '${spec}'`);
    const [localText, remoteText] = parts.length === 1 ? [parts[0], parts[0]] : parts;
    const remote = Number(remoteText);
    if (!/^\d+$/.test(remoteText) || remote > 65535) throw new CliError(`error parsing remote port '${remoteText}': strconv.ParseUint: parsing "${remoteText}": ${/^\d+$/.test(remoteText) ? 'value out of range' : 'invalid syntax'}`);
    if (remote === 0) throw new CliError(`remote port must be > 0`);
    let local = 0;
    if (localText !== '') {
      local = Number(localText);
      if (!/^\d+$/.test(localText) || local > 65535) throw new CliError(`error parsing local port '${localText}': strconv.ParseUint: parsing "${localText}": ${/^\d+$/.test(localText) ? 'value out of range' : 'invalid syntax'}`);
    }
    return { local, remote, localText };
  });
}

async function portForward(f: Factory, target: string, specs: string[], o: PortForwardOptions): Promise<void> {
  const [{ podFor, upgrade }, client, net, { default: transport }] = await Promise.all([import('../streams.js'), f.client(), import('node:net'), import('spdy-transport')]);
  const { pod, obj, kind } = await podFor(f, client, target, f.namespace());
  // Named and service ports become the pod's container port numbers before parsing.
  const resolved = specs.map((spec) => {
    const [local, remote] = splitPort(spec);
    let port = remote;
    if (kind === 'Service') port = servicePortToTarget(obj, pod, remote);
    else if (!/^\d+$/.test(remote)) port = String(containerPortByName(pod, remote));
    return local !== port ? `${local}:${port}` : port;
  });
  const ports = parsePorts(resolved);
  if (pod.status?.phase !== 'Running') throw new CliError(`unable to forward port because pod is not running. Current status=${pod.status?.phase ?? ''}`);

  const path = `/api/v1/namespaces/${encodeURIComponent(pod.metadata.namespace)}/pods/${encodeURIComponent(pod.metadata.name)}/portforward`;
  const { socket, head } = await upgrade(f, path, 'portforward.k8s.io');
  if (head.length) socket.unshift(head);
  const conn = transport.connection.create(socket, { protocol: 'spdy', isServer: false });
  conn.start(3.1);
  let nextId = 0;
  const openStream = (headers: Record<string, string>): Promise<SpdyStream> => new Promise((resolve, reject) => {
    (conn as unknown as { request(o: object, cb: (err: Error | null, s: SpdyStream) => void): void })
      .request({ method: 'POST', path: '/', host: 'localhost', headers }, (err, s) => (err ? reject(err) : resolve(s)));
  });
  // client-go's runtime.HandleError as kubectl v1.32 logs it: a structured klog error line (source lines as upstream's).
  const klog = (line: number, msg: string): void => {
    const d = new Date();
    const p2 = (n: number): string => String(n).padStart(2, '0');
    const when = `${p2(d.getMonth() + 1)}${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds() * 1000).padStart(6, '0')}`;
    f.io.err.write(`E${when} ${String(process.pid).padStart(7)} portforward.go:${line}] "Unhandled Error" err=${JSON.stringify(msg)}\n`);
  };
  /** Go's net.OpError text of a failed write to a local connection (`write tcp4 L->R: write: broken pipe`). */
  const writeError = (local: Socket): ((err: NodeJS.ErrnoException) => string) => {
    // Taken now: a reset connection may no longer know its addresses.
    const six = local.localFamily === 'IPv6';
    const addr = (host: string | undefined, port: number | undefined): string => (six ? `[${host}]:${port}` : `${host}:${port}`);
    const ends = `tcp${six ? '6' : '4'} ${addr(local.localAddress, local.localPort)}->${addr(local.remoteAddress, local.remotePort)}`;
    return (err) => {
      const what = ({ EPIPE: 'broken pipe', ECONNRESET: 'connection reset by peer' } as Record<string, string>)[err.code ?? ''] ?? err.message;
      return `readfrom ${ends}: write ${ends}: write: ${what}`;
    };
  };

  const handle = async (local: Socket, port: PortPair): Promise<void> => {
    f.io.out.write(`Handling connection for ${port.local}\n`);
    const requestID = String(nextId++);
    // A client gone mid-answer: kubectl logs the failed copy to it, once (and the forward goes on).
    const describe = writeError(local);
    local.once('error', (err: NodeJS.ErrnoException) => klog(391, `error copying from remote stream to local connection: ${describe(err)}`));
    local.on('error', () => undefined);
    try {
      const error = await openStream({ streamtype: 'error', port: String(port.remote), requestid: requestID });
      error.end();
      let errText = '';
      error.on('data', (d: Buffer) => { errText += d.toString('utf8'); });
      error.on('end', () => { if (errText) klog(413, `an error occurred forwarding ${port.local} -> ${port.remote}: ${errText}`); });
      error.on('error', () => undefined);
      const data = await openStream({ streamtype: 'data', port: String(port.remote), requestid: requestID });
      data.on('error', () => local.destroy());
      local.pipe(data);
      data.pipe(local);
      local.on('close', () => { if (!data.destroyed) data.end(); });
    } catch (err) {
      klog(376, `error creating forwarding stream for port ${port.local} -> ${port.remote}: ${(err as Error).message}`);
      local.destroy();
    }
  };

  const servers: Server[] = [];
  const listen = (host: string, port: number): Promise<Server> => new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: host.includes(':') }, () => { server.off('error', reject); resolve(server); });
  });
  let listening = 0;
  for (const port of ports) {
    const hosts = o.address.flatMap((a) => (a === 'localhost' ? ['127.0.0.1', '::1'] : [a]));
    const failures: string[] = [];
    for (const host of hosts) {
      try {
        const server = await listen(host, port.local);
        port.local = (server.address() as { port: number }).port;
        server.on('connection', (s: Socket) => { void handle(s, port); });
        servers.push(server);
        listening++;
        f.io.out.write(`Forwarding from ${host.includes(':') ? `[${host}]` : host}:${port.local} -> ${port.remote}\n`);
      } catch (err) {
        failures.push(`unable to create listener: Error listen tcp${host.includes(':') ? '6' : '4'} ${host.includes(':') ? `[${host}]` : host}:${port.local}: ${(err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'bind: address already in use' : (err as Error).message}`);
      }
    }
    if (failures.length === hosts.length) f.io.err.write(`Unable to listen on port ${port.local}: Listeners failed to create with the following errors: [${failures.join(' ')}]\n`);
  }
  const close = (): void => { for (const s of servers) s.close(); conn.destroyStreams(); socket.destroy(); };
  if (!listening) {
    close();
    throw new CliError(`unable to listen on any of the requested ports: [${ports.map((p) => `{${p.localText === '' ? 0 : p.local} ${p.remote}}`).join(' ')}]`);
  }
  // Until interrupted (exit 0, as kubectl) or the connection to the pod is lost.
  await new Promise<void>((resolve, reject) => {
    const onSignal = (): void => { close(); resolve(); };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const lost = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      close();
      reject(new CliError('lost connection to pod'));
    };
    socket.once('close', lost);
    conn.on('error', () => undefined);
  });
}
