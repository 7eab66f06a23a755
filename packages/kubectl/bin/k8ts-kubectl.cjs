#!/usr/bin/env node
// The bin npm links. It is in git, so `npm ci` on a fresh clone links it before anything is built; it runs the
// bundle's launcher that `npm run build` writes (dist/bundle/main.cjs, see scripts/bundle.mjs).
'use strict';
const path = require('node:path');
const launcher = path.join(__dirname, '..', 'dist', 'bundle', 'main.cjs');
try {
  require.resolve(launcher);
} catch {
  process.stderr.write('error: k8ts-kubectl is not built yet: run `npm run build` first\n');
  process.exit(1);
}
require(launcher);
