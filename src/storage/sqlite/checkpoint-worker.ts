/**
 * Runs WAL checkpoints on a connection of its own, in a worker thread: copying committed pages
 * back into the database file is I/O and page work that need not stall the writer's thread.
 * In WAL mode a PASSIVE checkpoint runs alongside readers and the writer (it copies only frames
 * every reader has moved past), so nothing waits for it.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const { file, pending } = workerData as { file: string; pending: Int32Array };
const db = new Database(file);
db.pragma('busy_timeout = 5000');

parentPort?.on('message', (message: 'checkpoint' | 'close') => {
  if (message === 'close') {
    db.close();
    parentPort?.close();
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // A checkpoint that cannot run now (the file is busy) is simply tried again next time.
  } finally {
    // Shared memory, not a message: the writer may be too busy to turn its event loop and read one.
    Atomics.store(pending, 0, 0);
  }
});
