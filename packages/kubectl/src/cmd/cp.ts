import { Option, type Command } from 'commander';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';

interface CpOptions { container?: string; noPreserve?: boolean; retries: string }

/** `[[namespace/]pod:]file/path` (kubectl's extractFileSpec). */
interface FileSpec { namespace?: string; pod?: string; file: string }

const FORMAT = 'filespec must match the canonical format: [[namespace/]pod:]file/path';

export function parseFileSpec(arg: string): FileSpec {
  const i = arg.indexOf(':');
  if (i === 0) throw new CliError(FORMAT);
  if (i < 0) return { file: arg };
  const pieces = arg.slice(0, i).split('/');
  const file = arg.slice(i + 1);
  if (pieces.length === 1) return { pod: pieces[0], file };
  if (pieces.length === 2) return { namespace: pieces[0], pod: pieces[1], file };
  throw new CliError(FORMAT);
}

/** A boolean flag whose name starts `--no-` without commander's negation (kubectl's `--no-preserve` is set by itself). */
function positive(flags: string, description: string): Option {
  const opt = new Option(flags, description);
  opt.negate = false;
  return opt;
}

/** `kubectl cp`: files and directories to and from a container, as a tar stream through `tar` in it (over pods/exec). */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('cp')
    .summary('Copy files and directories to and from containers')
    .description('Copy files and directories to and from containers.')
    .usage('<file-spec-src> <file-spec-dest>')
    .argument('[args...]')
    .option('-c, --container <name>', 'Container name. If omitted, use the kubectl.kubernetes.io/default-container annotation for selecting the container to be attached or the first container in the pod will be chosen')
    .addOption(positive('--no-preserve', 'The copied file/directory\'s ownership and permissions will not be preserved in the container'))
    .option('--retries <n>', 'Set number of retries to complete a copy operation from a container. Specify 0 to disable or any negative value for infinite retrying. The default is 0 (no retry).', '0')
    .action(async (args: string[], o: CpOptions) => {
      if (args.length !== 2) {
        throw new CliError('source and destination are required');
      }
      await cp(f, parseFileSpec(args[0]), parseFileSpec(args[1]), o);
    });
  setExamples(cmd, `  # !!!Important Note!!!
  # Requires that the 'tar' binary is present in your container
  # image.  If 'tar' is not present, 'kubectl cp' will fail.
  #
  # For advanced use cases, such as symlinks, wildcard expansion or
  # file mode preservation, consider using 'kubectl exec'.

  # Copy /tmp/foo local file to /tmp/bar in a remote pod in namespace <some-namespace>
  tar cf - /tmp/foo | kubectl exec -i -n <some-namespace> <some-pod> -- tar xf - -C /tmp/bar

  # Copy /tmp/foo from a remote pod to /tmp/bar locally
  kubectl exec -n <some-namespace> <some-pod> -- tar cf - /tmp/foo | tar xf - -C /tmp/bar

  # Copy /tmp/foo_dir local directory to /tmp/bar_dir in a remote pod in the default namespace
  kubectl cp /tmp/foo_dir <some-pod>:/tmp/bar_dir

  # Copy /tmp/foo local file to /tmp/bar in a remote pod in a specific container
  kubectl cp /tmp/foo <some-pod>:/tmp/bar -c <specific-container>

  # Copy /tmp/foo local file to /tmp/bar in a remote pod in namespace <some-namespace>
  kubectl cp /tmp/foo <some-namespace>/<some-pod>:/tmp/bar

  # Copy /tmp/foo from a remote pod to /tmp/bar locally
  kubectl cp <some-namespace>/<some-pod>:/tmp/foo /tmp/bar`);
  return cmd;
}

async function cp(f: Factory, src: FileSpec, dest: FileSpec, o: CpOptions): Promise<void> {
  if (src.pod && dest.pod) throw new CliError('one of src or dest must be a local file specification');
  if (!src.file || !dest.file) throw new CliError('filepath can not be empty');
  if (src.pod) return copyFromPod(f, src, dest.file, o);
  if (dest.pod) return copyToPod(f, src.file, dest, o);
  throw new CliError('one of src or dest must be a remote file specification');
}

/**
 * Runs `command` in the spec's pod; stdout to `out`, stderr (and the default-container notice) to `err`, else to
 * ours; resolves with the exit code.
 */
async function execIn(f: Factory, spec: FileSpec, command: string[], o: CpOptions,
  io: { stdin?: NodeJS.ReadableStream; out: (b: Buffer) => void; err?: (s: string) => void; signal?: AbortSignal }): Promise<number> {
  const err = io.err ?? ((s: string) => f.io.err.write(s));
  const [{ pickContainer, remoteCommand }, client] = await Promise.all([import('../streams.js'), f.client()]);
  const namespace = spec.namespace || f.namespace();
  const pod = await client.request<any>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(spec.pod!)}`);
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') throw new CliError(`cannot exec into a container in a completed pod; current phase is ${phase}`);
  const container = pickContainer(f, pod, o.container, false, { write: err });
  const query: [string, string][] = [...command.map((c): [string, string] => ['command', c]), ['container', container]];
  if (io.stdin) query.push(['stdin', 'true']);
  query.push(['stdout', 'true'], ['stderr', 'true']);
  return remoteCommand(f, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(spec.pod!)}/exec`, query, {
    stdin: io.stdin, tty: false, stdout: io.out, stderr: (b) => err(b.toString('utf8')), signal: io.signal,
  });
}

const exitError = (code: number): CliError => new CliError(`command terminated with exit code ${code}`, { raw: true, exitCode: code });

/** path.Clean's remote (POSIX) form with leading slashes and `../`, `./` prefixes removed (stripPathShortcuts). */
function stripShortcuts(p: string): string {
  let s = p;
  for (;;) {
    if (s.startsWith('../')) s = s.slice(3);
    else if (s.startsWith('./')) s = s.slice(2);
    else break;
  }
  return s === '.' || s === '..' ? '' : s;
}

/**
 * Finds where a tar stream ends as Go's archive/tar reader does (two zero blocks where a header is due): kubectl's
 * copy from a pod is done there, whatever the remote tar does or exits with after it.
 */
class ArchiveEnd {
  private header = Buffer.alloc(0);
  private skip = 0;
  private zeros = 0;

  /** The length of `chunk` that belongs to the archive, or -1 if the archive goes on after it. */
  feed(chunk: Buffer): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const n = Math.min(512 - this.header.length, chunk.length - i);
      this.header = Buffer.concat([this.header, chunk.subarray(i, i + n)]);
      i += n;
      if (this.header.length < 512) break;
      const block = this.header;
      this.header = Buffer.alloc(0);
      if (block.every((b) => b === 0)) {
        if (++this.zeros === 2) return i;
        continue;
      }
      this.zeros = 0;
      this.skip = Math.ceil(entrySize(block) / 512) * 512;
    }
    return -1;
  }
}

/** A header's size field: octal digits, or base-256 when its first byte has the high bit set. */
function entrySize(block: Buffer): number {
  const field = block.subarray(124, 136);
  if (field[0] & 0x80) {
    let n = field[0] & 0x7f;
    for (const b of field.subarray(1)) n = n * 256 + b;
    return n;
  }
  return parseInt(field.toString('latin1').replace(/[\0 ]+/g, ' ').trim() || '0', 8) || 0;
}

async function copyFromPod(f: Factory, src: FileSpec, dest: string, o: CpOptions): Promise<void> {
  const [{ extract }, fs, path] = await Promise.all([import('tar-stream'), import('node:fs'), import('node:path')]);
  const prefix = stripShortcuts(path.posix.normalize(src.file.replace(/^\/+/, '')).replace(/\/+$/, ''));
  const x = extract();
  let symlinkWarned = false;
  const destRoot = path.resolve(dest);
  const done = new Promise<void>((resolve, reject) => {
    x.on('entry', (h, stream, next) => {
      const fail = (err: unknown): void => { stream.resume(); reject(err); };
      if (!h.name.startsWith(prefix)) { fail(new CliError('tar contents corrupted')); return; }
      const rest = path.posix.normalize(`/${h.name.slice(prefix.length)}`).replace(/^\/+/, '');
      const target = rest ? path.join(dest, rest) : dest;
      const rel = path.relative(destRoot, path.resolve(target));
      if (rel.startsWith('..') || path.isAbsolute(rel)) {
        f.io.err.write(`warning: file "${target}" is outside target destination, skipping\n`);
        stream.resume();
        next();
        return;
      }
      try {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        if (h.type === 'directory') {
          fs.mkdirSync(target, { recursive: true });
          stream.resume();
          next();
          return;
        }
        if (h.type === 'symlink') {
          if (!symlinkWarned) {
            f.io.err.write(`warning: skipping symlink: "${target}" -> "${h.linkname ?? ''}" (consider using "kubectl exec -n "${src.namespace ?? ''}" "${src.pod}" -- tar cf - "${src.file}" | tar xf -")\n`);
            symlinkWarned = true;
          } else f.io.err.write(`warning: skipping symlink: "${target}" -> "${h.linkname ?? ''}"\n`);
          stream.resume();
          next();
          return;
        }
        if (h.type !== 'file' && h.type !== 'contiguous-file') { stream.resume(); next(); return; }
        const out = fs.createWriteStream(target);
        out.on('error', fail);
        out.on('finish', () => next());
        stream.pipe(out);
      } catch (err) {
        fail(err);
      }
    });
    x.on('finish', () => resolve());
    x.on('error', reject);
  });
  done.catch(() => undefined);
  // kubectl's tarPipe gives the remote tar our stdout as its stderr (`tar: removing leading '/'` lands there).
  // Once the archive has ended the copy is done, as in kubectl: a tar that then exits non-zero (a missing path:
  // busybox and GNU tar still end their archive) is not waited for.
  const end = new ArchiveEnd();
  const ended = new AbortController();
  const out = (b: Buffer): void => {
    if (ended.signal.aborted) return;
    const n = end.feed(b);
    x.write(n < 0 ? b : b.subarray(0, n));
    if (n >= 0) ended.abort();
  };
  const code = await execIn(f, src, ['tar', 'cf', '-', src.file], o, { out, err: (s) => { if (!ended.signal.aborted) f.io.out.write(s); }, signal: ended.signal });
  if (code !== 0 && !ended.signal.aborted) throw exitError(code);
  x.end();
  try {
    await done;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code && e.path) throw new CliError(`open ${e.path}: ${e.code === 'EISDIR' ? 'is a directory' : e.code === 'ENOENT' ? 'no such file or directory' : e.message}`);
    if (err instanceof CliError) throw err;
    throw new CliError((err as Error).message);
  }
}

async function copyToPod(f: Factory, src: string, dest: FileSpec, o: CpOptions): Promise<void> {
  const [{ pack }, fs, path] = await Promise.all([import('tar-stream'), import('node:fs'), import('node:path')]);
  if (!fs.existsSync(src)) throw new CliError(`${src} doesn't exist in local filesystem`);
  let destFile = dest.file;
  // A directory at the destination takes the source by its name (checkDestinationIsDir: `test -d`).
  const isDir = await execIn(f, dest, ['test', '-d', destFile], o, { out: () => undefined, err: () => undefined });
  if (isDir === 0) destFile = path.posix.join(destFile, path.basename(path.resolve(src)));
  const destClean = path.posix.normalize(destFile).replace(/(.)\/+$/, '$1');
  const p = pack();
  const add = (local: string, name: string): Promise<void> => new Promise((resolve, reject) => {
    const st = fs.lstatSync(local);
    const base = { name, mode: st.mode & 0o7777, mtime: st.mtime, uid: st.uid, gid: st.gid };
    if (st.isSymbolicLink()) p.entry({ ...base, type: 'symlink', linkname: fs.readlinkSync(local) }, (err) => (err ? reject(err) : resolve()));
    else {
      const data = fs.readFileSync(local);
      p.entry({ ...base, type: 'file', size: data.length }, data, (err) => (err ? reject(err) : resolve()));
    }
  });
  const walk = async (local: string, name: string): Promise<void> => {
    const st = fs.lstatSync(local);
    if (!st.isDirectory()) return add(local, name);
    const entries = fs.readdirSync(local).sort();
    if (!entries.length) {
      await new Promise<void>((resolve, reject) => p.entry({ name, type: 'directory', mode: st.mode & 0o7777, mtime: st.mtime, uid: st.uid, gid: st.gid }, (err) => (err ? reject(err) : resolve())));
    }
    for (const e of entries) await walk(path.join(local, e), path.posix.join(name, e));
  };
  const packing = walk(path.normalize(src), path.posix.basename(destClean)).then(() => p.finalize(), (err) => { p.destroy(err); throw err; });
  packing.catch(() => undefined);
  const command = o.noPreserve ? ['tar', '--no-same-permissions', '--no-same-owner', '-xmf', '-'] : ['tar', '-xmf', '-'];
  const dir = path.posix.dirname(destClean);
  if (dir) command.push('-C', dir);
  const code = await execIn(f, dest, command, o, { stdin: p, out: (b) => f.io.out.write(b.toString('utf8')) });
  await packing;
  if (code !== 0) throw exitError(code);
}
