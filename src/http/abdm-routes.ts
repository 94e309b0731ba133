import express, { type NextFunction, type Request, type Response } from 'express';
import type { Deps } from '../deps';
import { FhirError } from '../fhir/errors';
import { ENDPOINTS, type Hie } from '../hie/service';
import { parseJson } from '../json/safe-json';
import { readBody } from './body';

/**
 * The ABDM gateway's callbacks, under /abdm (the URL registered as this bridge's callback URL).
 * Every one is a JSON POST answered 202 Accepted once checked, the work continuing afterwards as
 * ABDM's asynchronous API expects; the gateway's bearer token is verified first, except on the
 * data push, which an HIP sends directly and which its encryption authenticates.
 */
export function abdmRouter(deps: Deps, hie: Hie): express.Router {
  const router = express.Router({ caseSensitive: true, strict: false });
  for (const endpoint of ENDPOINTS) {
    router.post(endpoint.path, async (req: Request, res: Response, next: NextFunction) => {
      try {
        if (!hie.has(endpoint.role)) throw new FhirError('not-found', `This server does not act as ${endpoint.role === 'hip' ? 'an HIP' : 'an HIU'}`);
        if (endpoint.gatewayToken) await hie.auth.check(req.headers.authorization);
        const type = String(req.headers['content-type'] ?? '');
        if (!/^application\/json\b/i.test(type)) throw new FhirError('not-supported', 'ABDM callbacks are application/json', { status: 415 });
        const body = parseJson(await readBody(req, deps.config.maxBodyBytes), deps.config.maxJsonDepth);
        const result = await endpoint.handle(hie, body);
        res.statusCode = 202;
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.end(JSON.stringify(result === undefined ? {} : { result }));
      } catch (err) {
        next(err);
      }
    });
    router.all(endpoint.path, (_req: Request, _res: Response, next: NextFunction) => next(new FhirError('not-supported', 'ABDM callbacks are POSTs', { status: 405, headers: { Allow: 'POST' } })));
  }
  return router;
}
