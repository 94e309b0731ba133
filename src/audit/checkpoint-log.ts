import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readCheckpoint, signCheckpoint, type ChainHead } from './checkpoint';

/**
 * Where checkpoints are kept on this machine: `audit-checkpoints.jsonl` (append-only, one signed
 * checkpoint per line, fsynced) and the HMAC key `audit-checkpoint.key` (created on first use,
 * readable by the server's user only), both in DATA_DIR, outside the database. With MongoDB each
 * gateway process writes its own chain and keeps its own checkpoints. An operator who also ships
 * the server's log lines ("audit checkpoint") elsewhere keeps an anchor no one on this machine can
 * rewrite.
 */
export class CheckpointLog {
  private key?: Buffer;
  readonly file: string;
  private readonly keyFile: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'audit-checkpoints.jsonl');
    this.keyFile = path.join(dataDir, 'audit-checkpoint.key');
  }

  private secret(): Buffer {
    if (this.key) return this.key;
    if (!fs.existsSync(this.keyFile)) {
      fs.mkdirSync(path.dirname(this.keyFile), { recursive: true });
      // 'wx': never overwrite a key another process made meanwhile.
      try {
        fs.writeFileSync(this.keyFile, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    this.key = Buffer.from(fs.readFileSync(this.keyFile, 'utf8').trim(), 'hex');
    if (this.key.length < 32) throw new Error(`${this.keyFile} does not hold a 256-bit key`);
    return this.key;
  }

  /** Signs and appends a head; returns the checkpoint (for the server's log line). */
  write(head: ChainHead): string {
    const token = signCheckpoint(head, this.secret());
    const fd = fs.openSync(this.file, 'a', 0o600);
    try {
      fs.writeSync(fd, `${JSON.stringify({ checkpoint: token })}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    return token;
  }

  /** Every checkpoint in the file, and the lines that are not valid checkpoints of ours. */
  read(): { heads: ChainHead[]; bad: number[] } {
    if (!fs.existsSync(this.file)) return { heads: [], bad: [] };
    const heads: ChainHead[] = [];
    const bad: number[] = [];
    fs.readFileSync(this.file, 'utf8').split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      let head: ChainHead | undefined;
      try {
        head = readCheckpoint(String((JSON.parse(line) as { checkpoint?: unknown }).checkpoint), this.secret());
      } catch {
        head = undefined;
      }
      if (head) heads.push(head);
      else bad.push(i + 1);
    });
    return { heads, bad };
  }
}

/** A checkpoint log for a data directory, or none for an in-memory database. */
export function checkpointLogFor(dataDir: string): CheckpointLog | undefined {
  return dataDir === ':memory:' ? undefined : new CheckpointLog(dataDir);
}
