import type { IncomingMessage } from 'node:http';
import { FhirError } from '../fhir/errors';

/** Reads the whole body up to `limit` bytes; a larger body is a 413 before it is all buffered. */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks, size).toString('utf8'));
    });
    req.on('error', (err) => {
      if (!failed) {
        failed = true;
        reject(new FhirError('structure', `The request body could not be read: ${err.message}`));
      }
    });
  });
}

function tooLarge(limit: number): FhirError {
  return new FhirError('too-long', `The request body exceeds the limit of ${limit} bytes`, { status: 413 });
}
