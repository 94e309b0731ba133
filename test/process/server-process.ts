import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

const MAIN = path.resolve(__dirname, '../../src/main.js');

export interface RunningServer {
  child: ChildProcess;
  base: string;
  port: number;
  exited: Promise<number | null>;
}

/** Starts dist/src/main.js on a free port and resolves once it logs that it is listening. */
export function startServer(env: Record<string, string>, timeoutMs = 30_000): Promise<RunningServer> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('server did not start')); }, timeoutMs);
    const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { message?: string; base?: string };
        if (entry.message === 'listening' && entry.base) {
          clearTimeout(timer);
          const port = Number(new URL(entry.base).port);
          resolve({ child, base: entry.base, port, exited });
        }
      } catch {
        // not a log line
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited early with ${code}`)); });
  });
}
