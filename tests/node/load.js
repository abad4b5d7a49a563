// A bounded load: N sequential GET requests to URL, then exit (status 1 if any failed).
// Usage: node load.js URL N
'use strict';
const http = require('http');

const [url, countText] = process.argv.slice(2);
const count = Number(countText || 100);
let done = 0;

function next() {
  if (done === count) {
    console.log('load: ' + done + ' requests');
    return;
  }
  http
    .get(url, (res) => {
      res.resume();
      res.on('end', () => {
        done++;
        next();
      });
    })
    .on('error', (e) => {
      console.error('load: request ' + done + ' failed: ' + e.message);
      process.exit(1);
    });
}

next();
