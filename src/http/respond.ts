import type { ServerResponse } from 'node:http';
import { etag } from '../fhir/etag';
import { httpDate } from '../fhir/datetime';
import { outcomeOf } from '../fhir/operation-outcome';
import type { FhirRequest, FhirResult } from '../interactions/types';
import { FHIR_JSON } from './negotiate';
import { chooseEncoding, compress, COMPRESS_MIN_BYTES } from './compression';
import { returnPreference } from './preconditions';

export interface ResponseOptions {
  pretty: boolean;
  /** Writes honour `Prefer: return=` (http.html#ops); reads always return the resource. */
  write: boolean;
  prefer?: string;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, pretty: boolean): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body, null, pretty ? 2 : undefined);
  res.statusCode = status;
  res.setHeader('Content-Type', `${FHIR_JSON}; charset=utf-8`);
  const coding = text.length >= COMPRESS_MIN_BYTES ? chooseEncoding(res.req?.headers['accept-encoding']) : undefined;
  if (text.length >= COMPRESS_MIN_BYTES) res.setHeader('Vary', appendVary(res.getHeader('Vary'), 'Accept-Encoding'));
  if (!coding) {
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
    return;
  }
  compress(coding, text, (err, out) => {
    if (err || res.destroyed) {
      if (!res.destroyed) {
        res.setHeader('Content-Length', Buffer.byteLength(text));
        res.end(text);
      }
      return;
    }
    res.setHeader('Content-Encoding', coding);
    res.setHeader('Content-Length', out.length);
    res.end(out);
  });
}

function appendVary(current: ReturnType<ServerResponse['getHeader']>, name: string): string {
  const parts = String(current ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return parts.some((p) => p.toLowerCase() === name.toLowerCase()) ? parts.join(', ') : [...parts, name].join(', ');
}

/** The body for a result, avoiding a parse/stringify round trip when the store already holds the JSON. */
function body(result: FhirResult, pretty: boolean): string | undefined {
  if (result.body !== undefined) return pretty ? JSON.stringify(JSON.parse(result.body), null, 2) : result.body;
  if (result.resource) return JSON.stringify(result.resource, null, pretty ? 2 : undefined);
  const v = result.version;
  if (!v || v.deleted) return undefined;
  if (!pretty && v.json !== undefined) return v.json;
  return v.resource ? JSON.stringify(v.resource, null, pretty ? 2 : undefined) : undefined;
}

export function respond(res: ServerResponse, request: FhirRequest, result: FhirResult, options: ResponseOptions): void {
  const v = result.version;
  if (v) {
    res.setHeader('ETag', etag(v.versionId));
    res.setHeader('Last-Modified', httpDate(v.lastUpdated));
    if (result.location) res.setHeader('Location', `${request.base}/${v.type}/${v.id}/_history/${v.versionId}`);
  }
  if (result.withheld) {
    res.setHeader('Location', `${request.base}/${result.withheld.type}/${result.withheld.id}`);
    // Nothing of the record to represent: the outcome stands in for it, unless nothing is wanted.
    if (options.write && returnPreference(options.prefer) === 'minimal') {
      res.statusCode = result.status;
      res.end();
    } else sendJson(res, result.status, outcomeOf(result), options.pretty);
    return;
  }
  if (result.status === 304) {
    res.statusCode = 304;
    res.end();
    return;
  }
  if (options.write) {
    const preference = returnPreference(options.prefer);
    if (preference === 'minimal') {
      res.statusCode = result.status;
      res.end();
      return;
    }
    if (preference === 'OperationOutcome') {
      sendJson(res, result.status === 204 ? 200 : result.status, outcomeOf(result), options.pretty);
      return;
    }
  }
  const text = body(result, options.pretty);
  if (text === undefined) {
    res.statusCode = result.status;
    res.end();
    return;
  }
  sendJson(res, result.status === 204 ? 200 : result.status, text, options.pretty);
}
