/**
 * A bare read endpoint for the CRUD benchmark: the same stored Patient body served by plain
 * express or plain node:http, so the benchmark shows what the framework and the FHIR layer cost.
 * Usage: node bare-server.js express|http PORT BODY_FILE
 */
import express from 'express';
import fs from 'node:fs';
import http from 'node:http';

const [kind, port, file] = process.argv.slice(2);
const body = fs.readFileSync(file, 'utf8');
const headers = { 'Content-Type': 'application/fhir+json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)) };

if (kind === 'express') {
  const app = express();
  app.get('/fhir/Patient/:id', (_req, res) => {
    res.set(headers).send(body);
  });
  app.listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
} else {
  http.createServer((_req, res) => {
    res.writeHead(200, headers).end(body);
  }).listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
}
