// Writes heap snapshots through the inspector module (`HeapProfiler.takeHeapSnapshot`), which
// every Node since 8 has (Node 8 lacks `v8.writeHeapSnapshot`), with a planted leak between
// them. Old syntax on purpose: it runs on Node 8.
//
//   node --expose-gc inspector-snapshot.js OUT_PREFIX [--track] [--pair]
//
// --track  turns allocation tracking on first (`HeapProfiler.startTrackingHeapObjects` with `trackAllocations`), so the
//          snapshots carry `trace_function_infos`, `trace_tree` and every node's `trace_node_id`;
// --pair   writes OUT_PREFIX.before.heapsnapshot and OUT_PREFIX.after.heapsnapshot (the
//          planted `PlantedLeak` objects are made in between), else OUT_PREFIX.heapsnapshot.
'use strict';
var fs = require('fs');
var inspector = require('inspector');

var args = process.argv.slice(2);
var out = args[0];
var track = args.indexOf('--track') !== -1;
var pair = args.indexOf('--pair') !== -1;
if (!out) {
  console.error('usage: node --expose-gc inspector-snapshot.js OUT_PREFIX [--track] [--pair]');
  process.exit(2);
}

var session = new inspector.Session();
session.connect();

function post(method, params) {
  return new Promise(function (resolve, reject) {
    session.post(method, params || {}, function (err, result) {
      if (err) reject(err); else resolve(result);
    });
  });
}

function snapshot(file) {
  var fd = fs.openSync(file, 'w');
  function chunk(m) { fs.writeSync(fd, m.params.chunk); }
  session.on('HeapProfiler.addHeapSnapshotChunk', chunk);
  if (global.gc) global.gc();
  return post('HeapProfiler.takeHeapSnapshot', {reportProgress: false}).then(function () {
    session.removeListener('HeapProfiler.addHeapSnapshotChunk', chunk);
    fs.closeSync(fd);
  });
}

function PlantedLeak(i) {
  this.index = i;
  this.payload = new Array(16).fill(i);
}
var registry = [];
function plantLeak(n) {
  for (var i = 0; i < n; i++) registry.push(new PlantedLeak(i));
}

var start = track ? post('HeapProfiler.startTrackingHeapObjects', {trackAllocations: true}) : post('HeapProfiler.enable');
start.then(function () {
  if (!pair) {
    plantLeak(200);
    return snapshot(out + '.heapsnapshot');
  }
  return snapshot(out + '.before.heapsnapshot').then(function () {
    plantLeak(200);
    return snapshot(out + '.after.heapsnapshot');
  });
}).then(function () {
  session.disconnect();
}, function (e) {
  console.error(e);
  process.exit(1);
});
