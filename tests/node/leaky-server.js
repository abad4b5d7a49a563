// A small HTTP server with a planted leak, for heapdiff's capture tests: every request leaves a
// `LeakedRequest` (with a few KB of its own) in a global array that nothing ever empties.
//
// PORT (default 0: the kernel picks) and BALLAST (objects kept alive from the start, to make
// snapshots big and slow on purpose) come from the environment. Prints "listening on PORT".
'use strict';
const http = require('http');

class LeakedRequest {
  constructor(url, n) {
    this.url = url;
    this.n = n;
    this.at = Date.now();
    // Quotes, backslashes, non-ASCII and a lone surrogate: chunk text the capture must pass
    // through untouched.
    this.body = 'leaked "request" \\ ' + n + ' é 😀 \uD800 ' + 'x'.repeat(4096);
  }
}

class Ballast {
  constructor(i) {
    this.i = i;
    this.name = 'ballast ' + i;
    this.next = null;
  }
}

const leaked = [];
globalThis.leakedRequests = leaked;

const ballast = [];
const ballastCount = Number(process.env.BALLAST || 0);
for (let i = 0; i < ballastCount; i++) {
  const b = new Ballast(i);
  if (i > 0) ballast[i - 1].next = b;
  ballast.push(b);
}
globalThis.ballast = ballast;

const server = http.createServer((req, res) => {
  leaked.push(new LeakedRequest(req.url, leaked.length));
  res.setHeader('content-type', 'text/plain');
  res.end('ok ' + leaked.length + '\n');
});

server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log('listening on ' + server.address().port);
});
