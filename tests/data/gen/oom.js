// Grows the heap until V8 is near its limit, so that Node's --heapsnapshot-near-heap-limit writes
// a real out-of-memory snapshot into the working directory, then exits before the crash.
//
//   node --max-old-space-size=12 --heapsnapshot-near-heap-limit=1 oom.js
'use strict';
const fs = require('fs');
const start = new Set(fs.readdirSync('.'));
function Hoarded(i) {
  this.i = i;
  this.items = [i, i + 1, i + 2];
}
const hoard = [];
const timer = setInterval(() => {
  // The snapshot is written between two allocations; stop growing once it is there.
  if (fs.readdirSync('.').some((f) => !start.has(f) && f.endsWith('.heapsnapshot'))) {
    clearInterval(timer);
    hoard.length = 0;
    setTimeout(() => process.exit(0), 10);
    return;
  }
  for (let i = 0; i < 20000; i++) hoard.push(new Hoarded(i));
}, 1);
