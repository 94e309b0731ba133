/**
 * Runs WAL checkpoints on a connection of its own, in a worker thread: copying committed pages
 * back into the database file is I/O and page work that need not stall the writer's thread.
 * In WAL mode a PASSIVE checkpoint runs alongside readers and the writer (it copies only frames
 * every reader has moved past), so nothing waits for it.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const db = new Database((workerData as { file: string }).file);
db.pragma('busy_timeout = 5000');
let busy = false;

parentPort?.on('message', (message: 'checkpoint' | 'close') => {
  if (message === 'close') {
    db.close();
    parentPort?.close();
    return;
  }
  if (busy) return;
  busy = true;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // A checkpoint that cannot run now (the file is busy) is simply tried again next time.
  } finally {
    busy = false;
    parentPort?.postMessage('done');
  }
});
