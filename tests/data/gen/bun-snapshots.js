// Bun's snapshots: JavaScriptCore's format (`Bun.generateHeapSnapshot()`, what users get without
// an argument) and V8's (`Bun.generateHeapSnapshot("v8")`) before and after 200 `PlantedLeak`.
//
//   bun bun-snapshots.js PREFIX
// writes PREFIX.jsc.heapsnapshot, PREFIX.before.heapsnapshot and PREFIX.after.heapsnapshot.
const fs = require('fs');
class PlantedLeak {
  constructor(i) {
    this.i = i;
    this.payload = new Array(16).fill(i);
  }
}
const registry = [];
const out = process.argv[2];
const text = (s) => (typeof s === 'string' ? s : JSON.stringify(s));
fs.writeFileSync(out + '.jsc.heapsnapshot', text(Bun.generateHeapSnapshot()));
fs.writeFileSync(out + '.before.heapsnapshot', text(Bun.generateHeapSnapshot('v8')));
for (let i = 0; i < 200; i++) registry.push(new PlantedLeak(i));
fs.writeFileSync(out + '.after.heapsnapshot', text(Bun.generateHeapSnapshot('v8')));
