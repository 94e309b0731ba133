import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { accepts, alive, eventually, freePort, npmStart, ROOT, type NpmStart } from './npm-start';

/**
 * `npm start` as a service manager or a terminal runs it. npm (11) runs a script through `sh -c`
 * and forwards SIGTERM and SIGINT to that shell only; dash keeps itself as node's parent and dies
 * of the signal, leaving node listening. The start script therefore `exec`s node, so the process
 * npm signals is the server itself.
 */
describe('process: npm start', function () {
  this.timeout(120_000);
  let dir: string;
  let running: NpmStart | undefined;
  let serverPid: number | undefined;

  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fhir-npm-start-')); });
  afterEach(() => {
    // Whatever a failed test left behind: only the processes this test started.
    if (running?.npm.pid !== undefined && alive(running.npm.pid)) running.npm.kill('SIGKILL');
    if (serverPid !== undefined && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
    running = undefined;
    serverPid = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function startAndServe(port: number): Promise<{ pid: number; uptimeMs: number; upAfterMs: number }> {
    const begun = Date.now();
    running = npmStart({ PORT: String(port), DATA_DIR: dir, AUDIT: 'off', LOG_LEVEL: 'warn' }, ['--log-level', 'info']);
    const { pid, uptimeMs } = await running.listening;
    serverPid = pid;
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    const metadata = await fetch(`http://127.0.0.1:${port}/fhir/metadata`);
    assert.equal(metadata.status, 200);
    return { pid, uptimeMs, upAfterMs: Date.now() - begun };
  }

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} sent to the process npm start started stops the server: port closed, no process left`, async () => {
      const port = await freePort();
      const { pid } = await startAndServe(port);
      assert.notEqual(pid, running?.npm.pid, 'the server runs as a child of npm');
      running?.npm.kill(signal);
      const { code } = await (running as NpmStart).exited;
      // The server drained and exited 0; npm passes that on.
      assert.equal(code, 0);
      assert.ok(await eventually(() => !alive(pid)), `the server (pid ${pid}) is still running after npm exited`);
      assert.equal(await accepts(port), false, `port ${port} still accepts connections`);
    });
  }

  it('on a built tree serves without building again (npm adds seconds, not a compile)', async () => {
    const main = path.join(ROOT, 'dist/src/main.js');
    const before = fs.statSync(main).mtimeMs;
    const port = await freePort();
    const { uptimeMs, upAfterMs } = await startAndServe(port);
    assert.equal(fs.statSync(main).mtimeMs, before, 'npm start rebuilt dist/');
    // What npm start spends before node runs main.js (a build was 60–70 s); the server's own
    // start-up (uptimeMs) depends on the machine and is not asserted here.
    assert.ok(upAfterMs - uptimeMs < 5_000, `npm start took ${upAfterMs - uptimeMs} ms before the server itself started`);
    running?.npm.kill('SIGTERM');
    assert.equal((await (running as NpmStart).exited).code, 0);
  });
});
