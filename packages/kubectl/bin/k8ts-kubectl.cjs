#!/bin/sh
":" //; if [ -n "${NODE_EXTRA_CA_CERTS+set}" ]; then K8TS_KUBECTL_NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS; export K8TS_KUBECTL_NODE_EXTRA_CA_CERTS; unset NODE_EXTRA_CA_CERTS; fi
":" //; exec node "$0" "$@"
// The bin npm links. It is in git, so `npm ci` on a fresh clone links it before anything is built; it runs the
// bundle's launcher that `npm run build` writes (dist/bundle/main.cjs, see scripts/bundle.mjs).
//
// Both a sh script (the two lines above; each is a string and a comment to JavaScript) and CommonJS. sh first, because
// how Node starts is decided before any JavaScript runs: Node 20 reads NODE_EXTRA_CA_CERTS, when set, and builds its
// whole root certificate store while it starts (tens of milliseconds with a system CA bundle, more than the rest of
// `kubectl get pods`). sh moves the variable aside; the bundle puts it back for the processes it starts and adds the
// file's certificates to a TLS connection that needs them (src/extra-ca-certs.ts). Then Node runs this same file,
// finding the bundle next to it through npm's links as it resolves a main module's (no readlink process to start).
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
