// A callback receiver that checks the signature over JavaScript's
// re-encoding of the decoded body, JSON.stringify(JSON.parse(body)), as
// Node.js receivers that parse first often do. It prints its port, then
// serves until killed; the secret and the log file come from the
// environment.
'use strict';
const http = require('http');
const crypto = require('crypto');
const fs = require('fs');

const secret = process.env.CALLBACK_SECRET;
const log = process.env.CALLBACK_LOG;

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let data;
    try {
      data = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      res.statusCode = 400;
      res.end('bad json');
      return;
    }
    const mac = crypto.createHmac('sha512', secret).update(JSON.stringify(data), 'utf8').digest('hex');
    const sig = String(req.headers['x-processing-signature'] || '');
    if (sig.length !== mac.length || !crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(mac))) {
      res.statusCode = 403;
      res.end('bad signature');
      return;
    }
    fs.appendFileSync(log, JSON.stringify({ foreign_id: data.foreign_id, status: data.status }) + '\n');
    res.end('OK');
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
