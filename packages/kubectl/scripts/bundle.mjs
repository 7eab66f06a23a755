// Bundles k8ts-kubectl with esbuild into dist/bundle/: kubectl.cjs (every module and dependency in one file) and
// main.cjs (the launcher), which runs it through a V8 code cache. The bin npm links, bin/k8ts-kubectl.cjs, starts
// as a sh script and then requires main.cjs as CommonJS: a JavaScript-only bin could not change how Node starts,
// and Node 20 spends tens of milliseconds at start-up on NODE_EXTRA_CA_CERTS when it is set (it parses the file and
// builds its whole root store before any JavaScript runs), so sh moves the variable aside and src/extra-ca-certs.ts
// puts it back (bench/kubectl.mjs times that bin). `node dist/bundle/main.cjs` still works, as the tests run it.
//
// Why: a short command such as `get pods` spends most of its start-up in Node's ESM loader (resolving, reading and
// linking ~40 files one by one, asynchronously) and in compiling JavaScript. One CommonJS file is read and compiled
// once, synchronously; the code cache (vm.Script cachedData, written after the first run) skips parsing and
// compiling the functions that run. Commands stay lazy: every src/cmd/*.ts is in the bundle but its module body only
// runs when the command is named (esbuild wraps dynamically imported modules), and a new command file is picked up
// by this script without any edit (setCommandFileLoaders gets a loader for each file in src/cmd).
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const PKG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(PKG, 'src');
const OUT = path.join(PKG, 'dist/bundle');
const cmdFiles = readdirSync(path.join(SRC, 'cmd'))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

const entry = [
  "import { setCommandFileLoaders } from './commands.ts';",
  "import { runProcess } from './cli.ts';",
  'setCommandFileLoaders({',
  ...cmdFiles.map((f) => `  ${JSON.stringify(f)}: () => import(${JSON.stringify(`./cmd/${f}.ts`)}),`),
  '});',
  'void runProcess();',
].join('\n');

/**
 * commander requires node:child_process at load, for executable subcommands kubectl never has; loading it (and
 * net, dgram and the rest it pulls in) is a millisecond or two of every run. Its one use, spawn, loads it then.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) => (/[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'k8ts-lazy' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'k8ts-lazy' }, () => ({
      contents: "module.exports = { spawn: (...args) => require('node:child_process').spawn(...args) };",
      loader: 'js',
    }));
  },
};

/**
 * kubectl's help texts (src/kubectl-help-text.ts, ~250 kB) go into a file of their own, dist/bundle/kubectl-help-text.cjs,
 * required only when help is printed: inside the bundle, every command would read and scan them at start-up.
 */
const helpTextApart = {
  name: 'help-text-apart',
  setup(b) {
    b.onResolve({ filter: /(^|\/)kubectl-help-text(\.js)?$/ }, () => ({ path: './kubectl-help-text.cjs', external: true }));
  },
};

rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: [path.join(SRC, 'kubectl-help-text.ts')],
  outfile: path.join(OUT, 'kubectl-help-text.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  logLevel: 'warning',
});
await build({
  stdin: { contents: entry, resolveDir: SRC, sourcefile: 'bundle-entry.ts', loader: 'ts' },
  outfile: path.join(OUT, 'kubectl.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // import() becomes a lazy require of the bundled module (or of a Node built-in): no ES module is loaded at all.
  supported: { 'dynamic-import': false },
  // A CommonJS file has no import.meta; createRequire(import.meta.url) and friends get the bundle's own URL.
  define: { 'import.meta.url': '__k8tsImportMetaUrl' },
  banner: { js: "var __k8tsImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  // Whitespace and syntax only: names stay as written, so `-v=8` stack traces read as the sources.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [lazyChildProcess, helpTextApart],
});

// The cache file is named after the bundle's content: V8 checks a cache against the source's length only.
const bundle = readFileSync(path.join(OUT, 'kubectl.cjs'));
const hash = createHash('sha256').update(bundle).digest('hex').slice(0, 16);
// An ASCII bundle (esbuild escapes strings, not regular expressions) is read as latin1: a third of the time of utf8.
const encoding = bundle.every((c) => c < 0x80) ? 'latin1' : 'utf8';
if (encoding === 'utf8') {
  const at = bundle.findIndex((c) => c >= 0x80);
  console.warn(`warning: the bundle is not ASCII (a regular expression or template with a non-ASCII character? write it as \\uXXXX): `
    + `start-up reads it as UTF-8, ~3 ms slower. Near: ${JSON.stringify(bundle.subarray(Math.max(0, at - 60), at + 20).toString('utf8'))}`);
}
const launcher = readFileSync(path.join(PKG, 'scripts/launcher.cjs'), 'utf8').replace('@BUNDLE_HASH@', hash).replace("'utf8' /* @BUNDLE_ENCODING@ */", `'${encoding}'`)
  .replace('/* @COMMAND_NAMES@ */ []', JSON.stringify([...cmdFiles, '__complete', '__completeNoDesc']));
writeFileSync(path.join(OUT, 'main.cjs'), launcher);
chmodSync(path.join(OUT, 'main.cjs'), 0o755);
