import net from 'node:net';

/** The abstract unix socket that one iptables-mode kube-proxy per host (network namespace) holds. */
export const IPTABLES_LOCK = '\0k8ts-kube-proxy-iptables';

/**
 * Takes the host's iptables lock: an abstract unix socket, held until `release()` or the process ends (the kernel
 * frees it even on SIGKILL). Two kube-proxies writing one host's tables would overwrite each other's rules.
 * Rejects with an error coded EADDRINUSE when another process holds it.
 */
export function acquireIptablesLock(name = IPTABLES_LOCK): Promise<{ release(): Promise<void> }> {
  const server = net.createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(name, () => {
      server.unref();
      resolve({ release: () => new Promise<void>((r) => server.close(() => r())) });
    });
  });
}
