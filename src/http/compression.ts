import zlib from 'node:zlib';

/**
 * Response compression by `Accept-Encoding` (RFC 9110 §12.5.3): brotli or gzip for bodies big
 * enough to gain (a CapabilityStatement is over 500 KB; a read of one resource is not worth it).
 * Levels are chosen for throughput, not the last byte: brotli 4 and gzip 6 compress FHIR JSON
 * eight to tenfold at tens of MB/s, on the thread pool, not the event loop.
 */
export const COMPRESS_MIN_BYTES = 2048;

export type Coding = 'br' | 'gzip';

/** The coding to use: the client's preferred one of ours (by q-value; `br` on a tie), or none. */
export function chooseEncoding(header: string | undefined): Coding | undefined {
  if (!header) return undefined;
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qp ? Number(qp.slice(2)) : 1;
    if (name) q.set(name, Number.isFinite(value) ? value : 0);
  }
  const weight = (c: Coding): number => q.get(c) ?? q.get('*') ?? 0;
  const best = (['br', 'gzip'] as const).filter((c) => weight(c) > 0).sort((a, b) => weight(b) - weight(a));
  return best[0];
}

export function compress(coding: Coding, text: string, done: (err: Error | null, out: Buffer) => void): void {
  const input = Buffer.from(text, 'utf8');
  if (coding === 'br') {
    zlib.brotliCompress(input, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: input.length } }, done);
  } else {
    zlib.gzip(input, { level: 6 }, done);
  }
}
