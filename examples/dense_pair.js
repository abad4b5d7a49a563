'use strict';
// Writes an out-of-memory-style pair for the benchmark: DIR/dense.before.heapsnapshot, a small
// early heap, and DIR/dense.after.heapsnapshot, MILLIONS million small objects later (each with
// a two-element array): the shape of a near-heap-limit snapshot beside an early one, where
// nearly every object is new and the fixed costs per object outweigh the file's bytes.
//
//   node --expose-gc examples/dense_pair.js DIR [MILLIONS]   # 1: 15 + 245 MB
const v8 = require('v8');
const path = require('path');
const dir = process.argv[2] || '.';
const millions = Number(process.argv[3] || 1);
function Hoarded(i) {
  this.i = i;
  this.items = [i, i + 1];
}
const hoard = [];
const grow = (n) => {
  for (let i = 0; i < n; i++) hoard.push(new Hoarded(i));
};
grow(millions * 0.05e6);
if (global.gc) global.gc();
v8.writeHeapSnapshot(path.join(dir, 'dense.before.heapsnapshot'));
grow(millions * 1e6);
if (global.gc) global.gc();
v8.writeHeapSnapshot(path.join(dir, 'dense.after.heapsnapshot'));
