import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SETTINGS } from '../../src/config';
import { AUDIENCE, ISSUER, testIssuer } from '../helpers/tokens';
import { freePort } from './npm-start';

const MAIN = path.resolve(__dirname, '../../src/main.js');

interface Outcome { code: number | null; stdout: string; stderr: string }

/** Runs the server with these settings until it exits by itself (every case here must exit). */
function run(env: Record<string, string>, args: string[] = []): Promise<Outcome> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, PORT: '0', AUDIT: 'off', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Exit code 2 and exactly one line on stderr, without a stack trace. */
function assertOneLine(outcome: Outcome, pattern: RegExp): void {
  assert.equal(outcome.code, 2, outcome.stderr);
  const lines = outcome.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${outcome.stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(outcome.stderr, /\n\s+at /);
}

describe('process: start-up problems are one line naming the setting, exit code 2', function () {
  this.timeout(90_000);
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fhir-startup-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a port already in use names the port and PORT', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const outcome = await run({ PORT: String(port), DATA_DIR: dir });
      assertOneLine(outcome, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use.*PORT`));
    } finally {
      holder.close();
    }
  });

  it('a HOST that is not an address of this machine names HOST', async () => {
    const issuer = await testIssuer(); // a public address needs authentication before it gets as far as listening
    try {
      const outcome = await run({ HOST: '192.0.2.1', DATA_DIR: dir, JWKS_FILE: issuer.jwksFile, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });
      assertOneLine(outcome, /HOST '192\.0\.2\.1' is not an address of this machine/);
    } finally {
      issuer.cleanup();
    }
  });

  const bad: [string, Record<string, string>, string[], RegExp][] = [
    ['PORT not a number', { PORT: 'eighty' }, [], /PORT must be an integer from 0 to 65535, got 'eighty'/],
    ['a flag without its value', {}, ['--port'], /flag --port needs a value/],
    ['an unknown flag', {}, ['--colour', 'red'], /unknown flag --colour/],
    ['LOG_LEVEL', { LOG_LEVEL: 'chatty' }, [], /LOG_LEVEL must be one of/],
    ['BASE_URL not a URL', { BASE_URL: 'not a url' }, [], /BASE_URL must be an http\(s\) URL, got 'not a url'/],
    ['MAX_BODY_SIZE', { MAX_BODY_SIZE: 'huge' }, [], /MAX_BODY_SIZE/],
    ['AUDIT', { AUDIT: 'maybe' }, [], /AUDIT must be on or off/],
    ['STORE=mongodb without MONGO_URL', { STORE: 'mongodb' }, [], /MONGO_URL/],
  ];
  for (const [what, env, args, pattern] of bad) {
    it(`a bad setting: ${what}`, async () => assertOneLine(await run({ DATA_DIR: dir, ...env }, args), pattern));
  }

  it('a DATA_DIR that cannot be created names DATA_DIR', async () => {
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, 'not a directory');
    assertOneLine(await run({ DATA_DIR: path.join(file, 'data') }), /DATA_DIR '.*a-file\/data' cannot be opened/);
  });

  it('an unreachable MONGO_URL names MONGO_URL and its hosts (never its password) after a bounded wait', async () => {
    const port = await freePort();
    const outcome = await run({ STORE: 'mongodb', MONGO_URL: `mongodb://gateway:s3cret@127.0.0.1:${port}/fhir?replicaSet=rs0` });
    assertOneLine(outcome, new RegExp(`MONGO_URL \\(127\\.0\\.0\\.1:${port}\\): no MongoDB server answered within 10 s`));
    assert.doesNotMatch(outcome.stderr, /s3cret/);
  });

  for (const flag of ['--help', '-h']) {
    it(`${flag} prints every setting (variable, flag, default, meaning) and exits 0`, async () => {
      const outcome = await run({}, [flag]);
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.equal(outcome.stderr, '');
      for (const s of Object.values(SETTINGS)) {
        const row = outcome.stdout.split('\n').find((line) => line.trim().startsWith(`${s.env} `));
        assert.ok(row, `no line for ${s.env}`);
        assert.ok(row.includes(s.flag) && row.includes(s.about), row);
        if (s.default) assert.ok(row.includes(s.default), row);
      }
    });
  }
});
