import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';

/** The repository root (this file runs from dist/test/process/). */
export const ROOT = path.resolve(__dirname, '../../..');

/** A port nothing listens on right now: the kernel picks it, we close it again. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on the port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** Whether a process with this id exists (signal 0 checks without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface NpmStart {
  /** The process `npm start` is: the one a supervisor or a terminal signals. */
  npm: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What the server logs once it listens: its own pid and how long node took to get there. */
  listening: Promise<{ pid: number; uptimeMs: number }>;
}

/** Runs `npm start -- <args>` in the repository, as the README says, with the given settings. */
export function npmStart(env: Record<string, string>, args: string[] = []): NpmStart {
  const npm = spawn('npm', ['start', ...(args.length > 0 ? ['--', ...args] : [])], {
    cwd: ROOT,
    env: { ...process.env, npm_config_update_notifier: 'false', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => npm.on('exit', (code, signal) => resolve({ code, signal })));
  const listening = new Promise<{ pid: number; uptimeMs: number }>((resolve, reject) => {
    readline.createInterface({ input: npm.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (!line.startsWith('{')) return; // npm's own banner
      try {
        const entry = JSON.parse(line) as { message?: string; pid?: number; uptimeMs?: number };
        if (entry.message === 'listening') resolve({ pid: Number(entry.pid), uptimeMs: Number(entry.uptimeMs) });
      } catch {
        // not a log line
      }
    });
    void exited.then(({ code, signal }) => reject(new Error(`npm start exited before listening (${code ?? signal})`)));
  });
  return { npm, exited, listening };
}

/** Waits (bounded) until the condition holds; resolves false if it never did. Not a timing assertion. */
export async function eventually(condition: () => boolean | Promise<boolean>, limitMs = 10_000): Promise<boolean> {
  const until = Date.now() + limitMs;
  while (Date.now() < until) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return condition();
}
