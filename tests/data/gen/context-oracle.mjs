#!/usr/bin/env node
// DevTools' context analysis (`HeapSnapshot.analyzeContexts`: the dead fields of every Context,
// from Chromium 156's `scopes`, `scope_context_vars` and `scope_uses`) of one snapshot, as JSON,
// by the real DevTools code that ../../../../shared/oracle bundles; loaded as that oracle loads.
//   DEVTOOLS_DIR=$(../../../../shared/oracle/setup) node context-oracle.mjs FILE > contexts.json
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {MessageChannel} from 'node:worker_threads';
import {pathToFileURL, fileURLToPath} from 'node:url';

if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function() {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return {promise, resolve, reject};
  };
}
const here = path.dirname(fileURLToPath(import.meta.url));
const {bundleDevTools} = await import(pathToFileURL(path.join(here, '../../../../shared/oracle/bundle.mjs')).href);
const devtoolsDir = process.env.DEVTOOLS_DIR || path.join(os.homedir(), '.cache', 'heapdiff-oracle');
const pkg = JSON.parse(fs.readFileSync(path.join(devtoolsDir, 'node_modules/chrome-devtools-frontend/package.json'), 'utf8'));
const bundle = path.join(devtoolsDir, '.oracle-cache', `heap_snapshot_worker-${pkg.version}.mjs`);
if (!fs.existsSync(bundle)) {
  fs.mkdirSync(path.dirname(bundle), {recursive: true});
  await bundleDevTools(devtoolsDir, bundle);
}
const HS = await import(pathToFileURL(bundle).href);

const loader = new HS.HeapSnapshotLoader.HeapSnapshotLoader({sendEvent() {}});
const decoder = new TextDecoder();
const fd = fs.openSync(process.argv[2], 'r');
const buf = Buffer.allocUnsafe(10000000);
for (;;) {
  const n = fs.readSync(fd, buf, 0, buf.length, null);
  if (n === 0) break;
  loader.write(decoder.decode(buf.subarray(0, n), {stream: true}));
  await new Promise(r => setImmediate(r));
}
fs.closeSync(fd);
loader.close();
await loader.parsingComplete;
const channel = new MessageChannel();
new HS.HeapSnapshot.SecondaryInitManager(channel.port2);
const snapshot = await loader.buildSnapshot(channel.port1);
channel.port1.close();
channel.port2.close();
process.stdout.write(JSON.stringify(snapshot.analyzeContexts(), null, 1) + '\n');
