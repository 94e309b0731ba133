import { randomUUID } from 'node:crypto';
import type { Bundle, Resource } from 'fhir/r4';
import type { Issue } from './fhir/errors';
import { bundleScope } from './validation/profiles/references';
import { AuditTrail } from './audit/trail';
import { checkpointLogFor } from './audit/checkpoint-log';
import http, { type Server } from 'node:http';
import { bearerAccess, exposureProblem, openAccess, type Authenticator } from './auth/access';
import { TokenVerifier, type KeySource } from './auth/verifier';
import { createApp } from './app';
import { createHie } from './hie';
import { helpText, loadConfig, wantsHelp, type Config } from './config';
import type { Deps } from './deps';
import { createLogger, type Logger } from './logger';
import { openStore, startStore, type StoreConfig } from './storage';
import { Indexer } from './search/extract';
import { loadSearchParameters } from './search/parameters';
import path from 'node:path';
import v8 from 'node:v8';
import { warmUp } from './validation/base-schema';
import { validateBase } from './validation/base-validator';
import { validationEngine, type ValidationEngine } from './validation/profiles/engine';
import { profileRegistry, type ProfileRegistry } from './validation/profiles/registry';
import { deriveCoverage, type Derived } from './consent/coverage';
import type { Coverage } from './consent/tables';

/** Our own conformance resources (SearchParameters, later profiles), shipped with the server. */
export const PROFILES_DIR = path.resolve(__dirname, '../../profiles');

export function baseValidator(config: Config): Deps['validator'] {
  const engine = (): ValidationEngine => validationEngine([PROFILES_DIR, ...config.igDirs], config.unknownExtensions, config.unknownProfiles);
  return {
    validate: (body, context) => {
      const issues = validateBase(body, { ...context, maxDepth: config.maxJsonDepth, terminology: engine().registry.terminology });
      // A well-formed resource's extensions are checked against their definitions, on every write and $validate.
      if (issues.some((i) => i.severity === 'error' || i.severity === 'fatal')) return issues;
      return [...issues, ...engine().extensions(body)];
    },
    validateProfiles: (resource, extra = []) => {
      const declared = new Set(declaredProfiles(resource));
      const asked = extra.filter((url) => !declared.has(url));
      const at = `${resource.resourceType}.meta.profile`;
      const own = [...[...declared].map((url) => engine().validate(resource, url, at)), ...asked.map((url) => engine().validate(resource, url, at, { asked: true }))].flat();
      return resource.resourceType === 'Bundle' ? [...own, ...entryProfileIssues(engine(), resource as Bundle)] : own;
    },
    warmUp: () => { warmUp(); engine().compileAll(); },
  };
}

/**
 * The resources inside a stored Bundle (a document, a collection) are checked against the
 * profiles each declares, with the Bundle in scope so their references resolve to its entries.
 * (A transaction's entries are written one by one and checked as they are.)
 */
function entryProfileIssues(engine: ValidationEngine, bundle: Bundle): Issue[] {
  if (bundle.type === 'transaction' || bundle.type === 'batch') return [];
  const scope = { bundle: bundleScope(bundle as unknown as Parameters<typeof bundleScope>[0], 'Bundle') };
  const entries: unknown[] = Array.isArray(bundle.entry) ? bundle.entry : [];
  return entries.flatMap((entry, i) => {
    const resource = (entry as { resource?: unknown } | null)?.resource;
    return declaredProfiles(resource).flatMap((url) =>
      engine.validate(resource as Resource, url, `Bundle.entry[${i}].resource.meta.profile`, { scope, at: `Bundle.entry[${i}].resource` }));
  });
}

/** The profile URLs a resource declares; malformed `meta.profile` values (reported by base validation) are skipped. */
function declaredProfiles(resource: unknown): string[] {
  const profile: unknown = (resource as { meta?: { profile?: unknown } } | null)?.meta?.profile;
  return Array.isArray(profile) ? profile.filter((url): url is string => typeof url === 'string') : [];
}

/** Authentication from configuration: a verifier over the configured JWKS, or open (loopback only). */
export function buildAuth(config: Config, now: () => Date): { auth: Authenticator; verifier?: TokenVerifier } {
  if (!config.jwksFile && !config.jwksUrl) return { auth: openAccess() };
  const source: KeySource = config.jwksFile ? { kind: 'file', path: config.jwksFile } : { kind: 'url', url: config.jwksUrl as string };
  const verifier = new TokenVerifier(source, { issuer: config.authIssuer as string, audience: config.authAudience as string, now });
  return { auth: bearerAccess(verifier), verifier };
}

const coverages = new WeakMap<ProfileRegistry, Derived>();

/**
 * What each health-information type covers, derived once per set of loaded profiles (coverage.ts).
 * Throws CoverageError when a record profile is missing: start-up stops rather than guess. A
 * hand-written fallback is what drifted before, and covering nothing but the Patient would turn
 * every consent of that type into silent refusals; the stand-ins under profiles/ ship with the
 * server, so a missing one means a damaged installation or an IG that redefines the NRCeS URLs.
 */
export function consentCoverage(registry: ProfileRegistry): Derived {
  let derived = coverages.get(registry);
  if (!derived) {
    derived = deriveCoverage({ profile: (url) => registry.profile(url), valueSet: (url) => registry.terminology.valueSet(url) });
    coverages.set(registry, derived);
  }
  return derived;
}

/** Composition root: config → deps → listen. The only module that sees everything. */
export function buildDeps(
  config: Config, logger: Logger, auth: Authenticator = openAccess(),
  coverage: Coverage = consentCoverage(profileRegistry([PROFILES_DIR, ...config.igDirs])).coverage,
): Deps {
  const clock = { now: () => new Date() };
  const ids = { newId: () => randomUUID() };
  const search = loadSearchParameters([PROFILES_DIR]);
  const indexer = new Indexer(search);
  const storeConfig: StoreConfig = config.store === 'mongodb'
    ? { kind: 'mongodb', url: config.mongoUrl as string }
    : { kind: 'sqlite', dataDir: config.dataDir, synchronous: config.sqliteSynchronous };
  const store = openStore(storeConfig, {
    now: clock.now, newId: ids.newId, index: (r) => indexer.index(r),
    onBackgroundError: (err) => logger.error('background indexing failed; searches will retry it', { error: err instanceof Error ? err.message : String(err) }),
  });
  const index = (r: Resource, codes?: ReadonlySet<string>) => indexer.index(r, codes);
  const audit = config.audit ? new AuditTrail(store) : undefined;
  const auditCheckpoints = checkpointLogFor(config.dataDir);
  return { config, store, search, validator: baseValidator(config), auth, clock, ids, logger, startedAt: clock.now(), index, audit, auditCheckpoints, coverage };
}

/**
 * Signs the audit chain's head when it has moved (checkpoint.ts): to the checkpoint file and as a
 * log line, which shipped logs keep out of reach of anyone who can edit this machine's files.
 */
export function checkpointNow(deps: Deps, last?: { sequence: number }): { sequence: number } | undefined {
  const head = deps.audit?.committedHead(deps.clock.now());
  if (!head || !deps.auditCheckpoints || head.sequence === last?.sequence) return last;
  const checkpoint = deps.auditCheckpoints.write(head);
  deps.logger.info('audit checkpoint', { chain: head.chain, sequence: head.sequence, hash: head.hash, checkpoint });
  return head;
}

function startCheckpoints(deps: Deps): void {
  const seconds = deps.config.auditCheckpointSeconds;
  if (!deps.audit || !deps.auditCheckpoints || seconds === 0) return;
  let last: { sequence: number } | undefined;
  const timer = setInterval(() => {
    try {
      last = checkpointNow(deps, last);
    } catch (err) {
      deps.logger.error('audit checkpoint failed', { error: (err as Error).message });
    }
  }, seconds * 1000);
  timer.unref();
}

/**
 * SIGTERM/SIGINT: stop accepting, let in-flight requests finish (bounded), then close the store.
 * The process then exits by itself once nothing is left on the event loop.
 */
function installShutdown(server: Server, deps: Deps, state: { accepting: boolean }): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    state.accepting = false;
    deps.logger.info('shutting down', { signal });
    const force = setTimeout(() => server.closeAllConnections(), deps.config.shutdownTimeoutMs);
    force.unref();
    server.close(() => {
      (deps.hie?.idle() ?? Promise.resolve()).then(() => deps.store.close()).then(() => checkpointNow(deps)).then(
        () => { deps.logger.info('stopped'); process.exitCode = 0; },
        (err: unknown) => { deps.logger.error('store close failed', { error: String(err) }); process.exitCode = 1; },
      );
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** Start-up stops here: one line on stderr naming the problem (and the setting), exit code 2. */
function fail(message: string): never {
  process.stderr.write(`${message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(2);
}

/** Why the server cannot listen, in the operator's terms: the setting to change, not a stack trace. */
export function listenProblem(err: NodeJS.ErrnoException, config: Pick<Config, 'port' | 'host'>): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return `cannot start: port ${config.port} on ${config.host} is already in use; stop what holds it or choose another port with PORT (or --port)`;
    case 'EACCES':
      return `cannot start: port ${config.port} needs privileges this process lacks; choose a port above 1023 with PORT (or --port)`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `configuration error: HOST '${config.host}' is not an address of this machine (${err.code}); set HOST (or --host) to one, e.g. 127.0.0.1`;
    default:
      return `cannot start: listening on ${config.host}:${config.port} failed: ${err.message}`;
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    process.stdout.write(helpText());
    return;
  }
  let config: Config;
  try {
    config = loadConfig(process.env, argv);
  } catch (err) {
    fail(`configuration error: ${(err as Error).message} (see --help)`);
  }
  const logger = createLogger(config.logLevel);
  const { auth, verifier } = buildAuth(config, () => new Date());
  const exposed = exposureProblem(config.host, !auth.open);
  if (exposed) fail(`configuration error: ${exposed}`);
  try {
    await verifier?.load();
  } catch (err) {
    fail(`configuration error: the JWKS could not be loaded (${config.jwksFile ? 'JWKS_FILE' : 'JWKS_URL'}): ${(err as Error).message}`);
  }
  let registry: ProfileRegistry;
  try {
    registry = profileRegistry([PROFILES_DIR, ...config.igDirs]);
  } catch (err) {
    fail(`configuration error: ${(err as Error).message}`);
  }
  const missing = Object.values(config.requiredProfiles).flat().filter((url) => !registry.has(url));
  if (missing.length > 0) fail(`configuration error: REQUIRED_PROFILES names profiles no loaded IG defines (${missing.join(', ')}); load the IG with --ig`);
  let derived: Derived;
  try {
    derived = consentCoverage(registry);
  } catch (err) {
    fail(`configuration error: what each health-information type covers cannot be derived from the loaded profiles: ${(err as Error).message}`);
  }
  for (const warning of derived.warnings) logger.warn(warning);
  logger.info('consent coverage derived from the record profiles', { profiles: derived.sources });
  if (auth.open) logger.warn('NO AUTHENTICATION: every caller has full access; listening on loopback only. Set JWKS_FILE or JWKS_URL to require tokens.');
  let deps: Deps;
  try {
    deps = buildDeps(config, logger, auth, derived.coverage);
  } catch (err) {
    // The embedded store opens its database here: a DATA_DIR that cannot be created or written.
    fail(`configuration error: ${config.store === 'sqlite' ? `DATA_DIR '${config.dataDir}'` : 'the store'} cannot be opened: ${(err as Error).message}`);
  }
  try {
    await startStore(deps.store);
  } catch (err) {
    await deps.store.close().catch(() => undefined);
    fail(`configuration error: the ${config.store} store cannot start: ${(err as Error).message}`);
  }
  if (config.abdm.gatewayUrl) {
    deps.hie = createHie(deps);
    // The gateway may be unreachable at start-up: its keys are fetched again when a call arrives.
    await deps.hie.auth.load().catch((err: unknown) => logger.warn('the ABDM gateway keys could not be loaded yet', { error: (err as Error).message }));
    logger.info('ABDM exchange on', { hip: config.abdm.hipId ?? null, hiu: config.abdm.hiuId ?? null, callbacks: config.abdm.callbackUrl });
  }
  startCheckpoints(deps);
  const started = Date.now();
  deps.validator.warmUp?.();
  const state = { accepting: true };
  const server = http.createServer(createApp(deps, { accepting: () => state.accepting }));
  // A port in use, a privileged port or a foreign HOST: one line naming the setting, not a stack trace.
  const cannotListen = (err: NodeJS.ErrnoException): void => {
    void deps.store.close().catch(() => undefined).finally(() => fail(listenProblem(err, config)));
  };
  server.once('error', cannotListen);
  server.listen(config.port, config.host, () => {
    server.off('error', cannotListen);
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const heapMb = Math.round(v8.getHeapStatistics().heap_size_limit / 1048576);
    // --max-old-space-size sets old space; the limit V8 reports also counts young space (~5%).
    if (Math.abs(heapMb - config.heapLimitMb) > config.heapLimitMb * 0.1 + 64) {
      logger.warn(`the heap limit is ${heapMb} MB, not HEAP_LIMIT_MB=${config.heapLimitMb}: start with npm start, or node --max-old-space-size=${config.heapLimitMb}`);
    }
    logger.info('listening', {
      base: `http://${config.host}:${port}/fhir`, store: config.store, ...(config.store === 'sqlite' ? { dataDir: config.dataDir } : {}),
      pid: process.pid, heapLimitMb: heapMb, memoryBudgetMb: Math.round(config.memoryBudget / 1048576), startupMs: Date.now() - started, uptimeMs: Math.round(process.uptime() * 1000),
    });
  });
  applyServerTimeouts(server);
  installShutdown(server, deps, state);
}

/**
 * Keep-alive outlives the usual 60 s idle timeout of proxies and load balancers in front of us, so
 * it is never the server that closes a connection a client is about to reuse.
 */
export function applyServerTimeouts(server: http.Server): void {
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 120_000;
}

if (require.main === module) void main();
