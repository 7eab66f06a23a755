import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { silentLogger, type Logger } from '@k8ts/api';
import { parseExisting, renderCleanup, renderRules, type RuleOptions } from './iptables-rules.js';
import type { Proxier, SyncResult } from './proxier.js';
import type { ServiceMap } from './service-map.js';

/** Runs a command, resolving its stdout; rejects with its stderr in the message. */
function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = input === undefined ? execFile(cmd, args, { maxBuffer: 256 * 1024 * 1024 }, done) : spawn(cmd, args);
    let out = '';
    let err = '';
    function done(e: Error | null, stdout?: string | Buffer, stderr?: string | Buffer): void {
      if (e) reject(new Error(`${cmd} ${args.join(' ')}: ${String(stderr ?? '').trim() || e.message}`, { cause: e }));
      else resolve(String(stdout));
    }
    if (input !== undefined) {
      child.stdout?.on('data', (d: Buffer) => { out += d; });
      child.stderr?.on('data', (d: Buffer) => { err += d; });
      child.on('error', (e) => done(e, out, err));
      child.on('close', (code) => done(code === 0 ? null : new Error(`exit ${code}`), out, err));
      child.stdin?.end(input);
    }
  });
}

/** The tables as iptables-save prints them. */
async function save(): Promise<{ nat: string; filter: string }> {
  const [nat, filter] = await Promise.all([run('iptables-save', ['-t', 'nat']), run('iptables-save', ['-t', 'filter'])]);
  return { nat, filter };
}

/**
 * Checks that iptables can be used here: installed, and this process may change the tables (root or
 * CAP_NET_ADMIN). Throws an error saying what to do otherwise.
 */
export async function checkIptables(): Promise<void> {
  try {
    await run('iptables', ['-w', '5', '-t', 'nat', '-S', 'POSTROUTING']);
  } catch (err) {
    const msg = (err as Error).message;
    if (/ENOENT/.test(msg)) throw new Error('iptables is not installed: install it (apt-get install -y iptables) or use --proxy-mode userspace', { cause: err });
    if (/Permission denied|not permitted|must be root/i.test(msg)) {
      throw new Error('--proxy-mode iptables needs root (CAP_NET_ADMIN): run as root or use --proxy-mode userspace', { cause: err });
    }
    throw new Error(`iptables does not work here (${msg}): use --proxy-mode userspace`, { cause: err });
  }
}

export interface IptablesProxierOptions extends RuleOptions {
  log?: Logger;
  /** Where route_localnet is set; tests point it elsewhere. */
  routeLocalnetPath?: string;
}

/**
 * The iptables proxy mode (upstream's iptables Proxier): each sync reads the tables, renders the whole rule set
 * for the service map and writes it with one `iptables-restore --noflush`. On exit the rules stay (as upstream);
 * `cleanup()` removes them.
 */
export class IptablesProxier implements Proxier {
  readonly mode = 'iptables' as const;
  private readonly log: Logger;
  private localnetSet = false;

  constructor(private readonly opts: IptablesProxierOptions) {
    this.log = opts.log ?? silentLogger;
  }

  async sync(map: ServiceMap): Promise<SyncResult> {
    if (!this.localnetSet && this.opts.nodePortAddresses.some((a) => a.startsWith('127.'))) {
      // As upstream: 127.0.0.1:<nodePort> can only be DNATed to a pod with route_localnet. As upstream's
      // EnsureSysctl, written only when it differs: in a container /proc/sys is read-only, and the host may have set it.
      const file = this.opts.routeLocalnetPath ?? '/proc/sys/net/ipv4/conf/all/route_localnet';
      const current = await readFile(file, 'utf8').then((v) => v.trim(), () => undefined);
      if (current !== '1') {
        try {
          await writeFile(file, '1');
          this.log.info('set net.ipv4.conf.all.route_localnet=1 for localhost NodePorts');
        } catch (err) {
          // ClusterIPs and the other addresses' NodePorts still work: go on without localhost NodePorts.
          this.log.error({ err }, 'cannot set net.ipv4.conf.all.route_localnet=1: NodePorts on 127.0.0.1 will not answer; run `sysctl -w net.ipv4.conf.all.route_localnet=1` on the host');
        }
      }
      this.localnetSet = true;
    }
    const tables = await save();
    const { text, rules } = renderRules(map, this.opts, parseExisting(tables.nat, tables.filter));
    await run('iptables-restore', ['-w', '5', '--noflush'], text);
    return { rules };
  }

  async close(): Promise<void> {
    // Rules stay in place on exit so that traffic keeps flowing until the next kube-proxy resyncs.
  }

  /** Removes every rule and chain kube-proxy made (--cleanup). */
  static async cleanup(log: Logger = silentLogger): Promise<void> {
    const tables = await save();
    const text = renderCleanup(parseExisting(tables.nat, tables.filter));
    await run('iptables-restore', ['-w', '5', '--noflush'], text);
    log.info('removed the kube-proxy iptables rules');
  }
}
