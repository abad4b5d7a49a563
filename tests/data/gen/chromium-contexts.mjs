#!/usr/bin/env node
// A headless Chromium snapshot with closures whose shared context keeps a variable no live
// function uses (DevTools' context analysis calls it a dead field), for the `scopes`,
// `scope_context_vars` and `scope_uses` sections of Chromium 156+.
//
// `makeHandler` keeps `payload` (an array of 5,000 numbers) and `label` in one Context: the
// inner `describe` uses `payload`, the returned `onEvent` only `label`. Only `onEvent` closures
// stay alive (20 of them, in `handlers`), so every context's `payload` is dead weight.
//
// Adapted from ../../../../shared/corpus/browser/detached-dom.mjs (same CDP client).
//   node --experimental-websocket chromium-contexts.mjs OUT.heapsnapshot [--chromium PATH]
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {spawn} from 'node:child_process';
import {createRequire} from 'node:module';

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const out = path.resolve(process.argv[2] || 'contexts.heapsnapshot');
const chromium = arg('chromium', 'chromium');
const port = 0;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Handlers</title></head>
<body><script src="/static/handlers.js"></script></body></html>
`;

const APP_JS = `'use strict';
const handlers = [];
function makeHandler(i) {
  const payload = new Array(5000).fill(i);
  const label = 'handler ' + i;
  function describe() { return payload.length; }
  if (i < 0) describe();
  return function onEvent() { return label; };
}
for (let i = 0; i < 20; i++) handlers.push(makeHandler(i));
window.handlers = handlers;
`;

// ---------------------------------------------------------------- small CDP client
async function loadWebSocket() {
  try {
    const require = createRequire(path.join(process.cwd(), 'noop.js'));
    return require('ws');
  } catch {}
  try {
    return (await import('ws')).default;
  } catch {}
  if (typeof globalThis.WebSocket === 'function') return globalThis.WebSocket;
  throw new Error('no WebSocket client: run `npm install ws` in the current directory');
}

class CDP {
  constructor(ws) {
    this.ws = ws;
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = new Map();  // method -> [fn]
    const onMessage = (data) => {
      const msg = JSON.parse(typeof data === 'string' ? data : data.toString());
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p.resolve(msg.result);
      } else if (msg.method) {
        for (const fn of this.listeners.get(msg.method) || []) fn(msg.params, msg.sessionId);
      }
    };
    const onClose = () => {
      for (const p of this.pending.values()) p.reject(new Error(`${p.method}: connection closed`));
      this.pending.clear();
    };
    if (typeof ws.on === 'function') { ws.on('message', onMessage); ws.on('close', onClose); }
    else { ws.addEventListener('message', (ev) => onMessage(ev.data)); ws.addEventListener('close', onClose); }
  }
  send(method, params = {}, sessionId) {
    const id = this.nextId++;
    const msg = {id, method, params};
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject, method});
      this.ws.send(JSON.stringify(msg));
    });
  }
  on(method, fn) {
    if (!this.listeners.has(method)) this.listeners.set(method, []);
    this.listeners.get(method).push(fn);
    return () => this.listeners.set(method, this.listeners.get(method).filter((f) => f !== fn));
  }
  once(method, sessionId) {
    return new Promise((resolve) => {
      const off = this.on(method, (params, sid) => {
        if (sessionId && sid !== sessionId) return;
        off();
        resolve(params);
      });
    });
  }
}

function startServer() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/') {
      res.writeHead(200, {'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store'});
      res.end(PAGE);
    } else if (url.pathname === '/static/handlers.js') {
      res.writeHead(200, {'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store'});
      res.end(APP_JS);
    } else {
      res.writeHead(404, {'content-type': 'text/plain'});
      res.end('not found');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function launchChromium(profileDir) {
  const args = [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
    '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0',
    `--user-data-dir=${profileDir}`,
    '--no-first-run', '--no-default-browser-check', '--disable-extensions', '--disable-component-update',
    '--disable-background-networking', '--disable-sync', '--disable-default-apps', '--mute-audio',
    '--disable-features=Translate,OptimizationHints,MediaRouter', '--metrics-recording-only',
    '--password-store=basic', '--use-mock-keychain', '--disable-breakpad', '--disable-crash-reporter',
    'about:blank',
  ];
  // Own process group, so that the browser and its helper processes can be ended together.
  const proc = spawn(chromium, args, {stdio: ['ignore', 'ignore', 'pipe'], detached: true});
  const wsUrl = new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('chromium did not print its DevTools endpoint in 30 s:\n' + buf)), 30000);
    proc.stderr.on('data', (d) => {
      buf += d.toString();
      const m = buf.match(/DevTools listening on (ws:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`chromium exited (${code}):\n${buf}`)); });
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
  return {proc, wsUrl};
}

function waitExit(proc, ms) {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    proc.once('exit', () => { clearTimeout(t); resolve(true); });
  });
}

async function takeSnapshot(cdp, sessionId, file) {
  for (let i = 0; i < 4; i++) await cdp.send('HeapProfiler.collectGarbage', {}, sessionId);
  const fd = fs.openSync(file, 'w');
  let bytes = 0;
  const off = cdp.on('HeapProfiler.addHeapSnapshotChunk', (params, sid) => {
    if (sid !== sessionId) return;
    bytes += fs.writeSync(fd, params.chunk);
  });
  try {
    await cdp.send('HeapProfiler.takeHeapSnapshot', {reportProgress: false}, sessionId);
  } finally {
    off();
    fs.closeSync(fd);
  }
  process.stderr.write(`wrote ${path.basename(file)} (${bytes} bytes)\n`);
}

async function evaluate(cdp, sessionId, expression) {
  const r = await cdp.send('Runtime.evaluate', {expression, returnByValue: true, awaitPromise: true}, sessionId);
  if (r.exceptionDetails) throw new Error(`page error: ${r.exceptionDetails.exception?.description || r.exceptionDetails.text}`);
  return r.result.value;
}

// ---------------------------------------------------------------- main
async function main() {
  const WebSocket = await loadWebSocket();
  const server = await startServer();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-profile-'));
  const {proc, wsUrl} = launchChromium(profileDir);
  let ws;
  try {
    const endpoint = await wsUrl;
    ws = new WebSocket(endpoint);
    await new Promise((resolve, reject) => {
      if (typeof ws.once === 'function') { ws.once('open', resolve); ws.once('error', reject); }
      else { ws.addEventListener('open', resolve); ws.addEventListener('error', reject); }
    });
    const cdp = new CDP(ws);
    const {targetId} = await cdp.send('Target.createTarget', {url: 'about:blank'});
    const {sessionId} = await cdp.send('Target.attachToTarget', {targetId, flatten: true});
    await cdp.send('Page.enable', {}, sessionId);
    const loaded = cdp.once('Page.loadEventFired', sessionId);
    await cdp.send('Page.navigate', {url: `${origin}/`}, sessionId);
    await loaded;
    await cdp.send('HeapProfiler.enable', {}, sessionId);
    await takeSnapshot(cdp, sessionId, out);
    const {product} = await cdp.send('Browser.getVersion');
    process.stdout.write(JSON.stringify({browser: product}) + '\n');
    await cdp.send('Browser.close').catch(() => {});
  } finally {
    try { ws && ws.close(); } catch {}
    if (!(await waitExit(proc, 10000))) {
      try { process.kill(-proc.pid, 'SIGTERM'); } catch {}
      if (!(await waitExit(proc, 5000))) { try { process.kill(-proc.pid, 'SIGKILL'); } catch {} }
    }
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(profileDir, {recursive: true, force: true});
  }
}

main().catch((e) => {
  console.error(e && e.stack || e);
  process.exit(1);
});
