#!/usr/bin/env node
// k8ts-kubectl's launcher (copied to dist/bundle/main.cjs by scripts/bundle.mjs; the bin, bin/k8ts-kubectl.cjs,
// requires it): runs the bundle kubectl.cjs as Node's CommonJS loader would, but through a V8 code cache
// (v8-compile-cache's method), so the functions a run needs are not parsed and compiled again on the next run. The
// cache is written at exit when it was missing or rejected (another Node, other V8 flags); where the directory is
// not writable, it runs without one.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { createRequire, wrap } = require('node:module');

const file = path.join(__dirname, 'kubectl.cjs');
// One cache per command (its first word that is a command name): a cache holds what its first run compiled, and
// `get` from a cache that `version` wrote compiles most of its path again on every run.
const COMMANDS = new Set(/* @COMMAND_NAMES@ */ []);
const command = process.argv.slice(2).find((a) => COMMANDS.has(a)) ?? 'other';
const cacheFile = path.join(__dirname, `kubectl-@BUNDLE_HASH@-${command}-${process.version}-${process.arch}.cache`);
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new vm.Script(wrap(fs.readFileSync(file, 'utf8' /* @BUNDLE_ENCODING@ */)), { filename: file, cachedData });
if (cachedData === undefined || script.cachedDataRejected) {
  process.once('exit', () => {
    try {
      const tmp = `${cacheFile}.${process.pid}`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
    } catch {
      // A read-only install: no cache, same behaviour.
    }
  });
}
const mod = { exports: {}, filename: file, id: file, loaded: false };
script.runInThisContext()(mod.exports, createRequire(file), mod, file, __dirname);
