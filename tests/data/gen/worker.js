// A worker thread's heap snapshot (`worker.getHeapSnapshot()`), with 200 `PlantedLeak` in it.
//   node worker.js OUT.heapsnapshot
'use strict';
const { Worker } = require('worker_threads');
const fs = require('fs');
const out = process.argv[2];
const worker = new Worker(`
  class PlantedLeak { constructor(i) { this.i = i; } }
  globalThis.registry = [];
  for (let i = 0; i < 200; i++) registry.push(new PlantedLeak(i));
  require('worker_threads').parentPort.postMessage('ready');
  setInterval(() => {}, 1000);
`, { eval: true });
worker.once('message', async () => {
  const stream = await worker.getHeapSnapshot();
  const file = fs.createWriteStream(out);
  stream.pipe(file);
  file.on('finish', () => worker.terminate());
});
