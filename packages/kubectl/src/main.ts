#!/usr/bin/env node
import { runProcess } from './cli.js';

// The process entry of tsc's build (dist/main.js); the bin is the bundle of scripts/bundle.mjs, which calls the same.
await runProcess();
