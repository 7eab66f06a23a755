import type { Command } from 'commander';
import type { Factory } from '../factory.js';

interface Service { metadata?: { name?: string; labels?: Record<string, string> }; spec?: { ports?: { name?: string; port?: number }[] }; status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } }


/** `kubectl cluster-info`: the control plane's address and the kube-system services labelled cluster-service. */
export function register(program: Command, f: Factory): Command {
  return program.command('cluster-info')
    .summary('Display cluster information')
    .description("Display addresses of the control plane and services with label kubernetes.io/cluster-service=true. To further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.")
    .usage('[flags]')
    .action(async () => {
      // Colours only on a terminal, as kubectl.
      const tty = !!(f.io.out as { isTTY?: boolean }).isTTY;
      const green = (s: string) => (tty ? `\x1b[0;32m${s}\x1b[0m` : s);
      const yellow = (s: string) => (tty ? `\x1b[0;33m${s}\x1b[0m` : s);
      const client = await f.client();
      const server = client.server;
      const list = await client.request<{ items?: Service[] }>('GET', '/api/v1/namespaces/kube-system/services', {
        accept: 'application/json', query: { labelSelector: 'kubernetes.io/cluster-service=true' },
      });
      f.io.out.write(`${green('Kubernetes control plane')} is running at ${yellow(server)}\n`);
      for (const svc of list.items ?? []) {
        const name = svc.metadata?.labels?.['kubernetes.io/name'] ?? svc.metadata?.name ?? '';
        const ingress = svc.status?.loadBalancer?.ingress?.[0];
        let link: string;
        if (ingress) link = `http://${ingress.ip || ingress.hostname}:${svc.spec?.ports?.[0]?.port ?? ''}`;
        else {
          const port = svc.spec?.ports?.[0];
          const portName = port?.name || String(port?.port ?? '');
          link = `${server}/api/v1/namespaces/kube-system/services/${svc.metadata?.name}${portName ? `:${portName}` : ''}/proxy`;
        }
        f.io.out.write(`${green(name)} is running at ${yellow(link)}\n`);
      }
      f.io.out.write("\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n");
    });
}
