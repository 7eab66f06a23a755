#!/usr/bin/env node
import { run } from './cli.js';

// kubectl's exit code; stdout is flushed before exiting so piped output is never cut.
const code = await run(process.argv.slice(2));
process.exitCode = code;
if (process.stdout.writableLength === 0) process.exit(code);
else process.stdout.once('drain', () => process.exit(code));
