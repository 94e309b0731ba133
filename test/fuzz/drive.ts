import { generate, type FuzzRequest } from './generate';
import { Dice } from './values';

/** What came back for one request: enough to judge it. */
export interface Answer { status: number; text: string }
export type Send = (req: FuzzRequest) => Promise<Answer>;

export interface Failure { index: number; request: string; status: number; why: string; body: string }

export interface FuzzReport {
  requests: number;
  /** Count per status class: 2xx, 3xx, 4xx, 5xx. */
  classes: Record<string, number>;
  serverErrors: number;
  failures: Failure[];
}

/** A short, reproducible description of a request. */
export function describe(req: FuzzRequest): string {
  const body = req.body === undefined ? '' : ` body(${req.body.length}): ${req.body.slice(0, 200)}`;
  return `${req.method} ${req.path.slice(0, 300)} ${JSON.stringify(req.headers).slice(0, 300)}${body}`;
}

/**
 * What every answer must be: never a 5xx, and every error an OperationOutcome (http.html#errors;
 * a HEAD answer and a 304 carry no body).
 */
export function judge(req: FuzzRequest, answer: Answer): string | undefined {
  if (answer.status >= 500) return `server error ${answer.status}`;
  if (answer.status < 400 || req.method === 'HEAD') return undefined;
  let parsed: unknown;
  try { parsed = JSON.parse(answer.text); } catch { return 'error body is not JSON'; }
  if ((parsed as { resourceType?: unknown })?.resourceType !== 'OperationOutcome') return 'error body is not an OperationOutcome';
  return undefined;
}

export interface FuzzOptions {
  seed: number;
  count: number;
  send: Send;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Stop early after this long (ms). */
  deadlineMs?: number;
  onProgress?: (done: number, report: FuzzReport) => void;
}

/** Requests `seed` generates, in order, sent `concurrency` at a time; the first 20 failures are kept. */
export async function fuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const dice = new Dice(opts.seed);
  const report: FuzzReport = { requests: 0, classes: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 }, serverErrors: 0, failures: [] };
  const until = opts.deadlineMs === undefined ? Infinity : Date.now() + opts.deadlineMs;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < opts.count && Date.now() < until) {
      const index = next++;
      const req = generate(dice);
      let answer: Answer;
      try {
        answer = await opts.send(req);
      } catch (err) {
        answer = { status: 599, text: `transport: ${(err as Error).message}` };
      }
      report.requests++;
      const cls = `${Math.min(5, Math.floor(answer.status / 100))}xx`;
      report.classes[cls] = (report.classes[cls] ?? 0) + 1;
      if (answer.status >= 500) report.serverErrors++;
      const why = judge(req, answer);
      if (why && report.failures.length < 20) report.failures.push({ index, request: describe(req), status: answer.status, why, body: answer.text.slice(0, 300) });
      if (opts.onProgress && report.requests % 1000 === 0) opts.onProgress(report.requests, report);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 1 }, worker));
  return report;
}
