import type { Resource } from 'fhir/r4';
import { AuditTrail } from '../../src/audit/trail';
import { checkpointLogFor } from '../../src/audit/checkpoint-log';
import { openAccess, type Authenticator } from '../../src/auth/access';
import { loadConfig, type Config } from '../../src/config';
import type { Deps } from '../../src/deps';
import { createLogger } from '../../src/logger';
import { baseValidator, consentCoverage, PROFILES_DIR } from '../../src/main';
import { openStore } from '../../src/storage';
import { profileRegistry } from '../../src/validation/profiles/registry';
import type { StoreDeps } from '../../src/storage/store';
import { openMongoTestStore, resolvedMongoTarget } from '../support/mongo';
import { counterIds, TestClock } from './clock';
import { testIndex, testSearchParameters } from './search';

export { counterIds, TestClock };

export function testConfig(overrides: Partial<Config> = {}): Config {
  // Tests audit only where they check the trail: an AuditEvent per request would change what
  // system-level searches and history return in every other test.
  return { ...loadConfig({}, []), dataDir: ':memory:', audit: false, ...overrides };
}

/** Deps on a fresh in-memory store (or MongoDB database, see below), silent logs, a frozen clock. */
export function testDeps(options: { config?: Partial<Config>; clock?: TestClock; auth?: Authenticator } = {}): Deps & { clock: TestClock } {
  const config = testConfig(options.config);
  const clock = options.clock ?? new TestClock();
  const ids = counterIds();
  const storeDeps: StoreDeps = { now: clock.now, newId: ids.newId, index: (r) => testIndex().index(r) };
  // `npm run test:mongo` runs the API suite again with TEST_STORE=mongodb (a fresh database per app).
  const store = process.env.TEST_STORE === 'mongodb'
    ? openMongoTestStore(resolvedMongoTarget(), storeDeps)
    : openStore({ kind: 'sqlite', dataDir: config.dataDir, synchronous: 'NORMAL' }, storeDeps);
  const index = (r: Resource, codes?: ReadonlySet<string>) => testIndex().index(r, codes);
  const audit = config.audit ? new AuditTrail(store) : undefined;
  const auditCheckpoints = checkpointLogFor(config.dataDir);
  return {
    config, store, search: testSearchParameters(), validator: baseValidator(config), auth: options.auth ?? openAccess(), clock, ids,
    logger: createLogger('error', true), startedAt: clock.now(), index, audit, auditCheckpoints,
    coverage: consentCoverage(profileRegistry([PROFILES_DIR, ...config.igDirs])).coverage,
  };
}
