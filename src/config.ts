import type { Synchronous } from './storage/sqlite/schema';

/** Typed, validated configuration. Read once in main.ts; never read from the environment elsewhere. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  logLevel: LogLevel;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Most entries accepted in one batch or transaction Bundle. */
  maxBundleEntries: number;
  /** Deepest JSON nesting accepted in a request body. */
  maxJsonDepth: number;
  /** Public base URL of the FHIR endpoint; when absent it is derived from each request's Host. */
  baseUrl?: string;
  sqliteSynchronous: Synchronous;
  /** `sqlite`: the embedded store under dataDir; `mongodb`: a replica set or sharded cluster at mongoUrl. */
  store: 'sqlite' | 'mongodb';
  mongoUrl?: string;
  defaultPageSize: number;
  maxPageSize: number;
  /** The size of a search page's resources beyond which it ends early (with a next link). */
  maxPageBytes: number;
  /** The size of a batch or transaction response beyond which further reads in it are refused (413). */
  maxResponseBytes: number;
  /**
   * Request and response bodies in flight, in bytes, across all requests: a request that could
   * need more than is free waits its turn, so memory does not grow with concurrency.
   */
  memoryBudget: number;
  /** The V8 heap ceiling npm start and the image give node (MB); main.ts warns when the running heap differs. */
  heapLimitMb: number;
  shutdownTimeoutMs: number;
  /** Implementation-guide folders (StructureDefinitions, ValueSets, CodeSystems) loaded besides profiles/. */
  igDirs: string[];
  /** `declared`: a write is checked against every profile in its meta.profile; `off`: base rules only. */
  profileEnforcement: 'declared' | 'off';
  /** Profiles every write of a type must conform to (one of them): `Type` or `Bundle#document` → URLs. */
  requiredProfiles: Record<string, string[]>;
  /**
   * What an extension no loaded definition describes is, on $validate and on writes: `warning`
   * (accepted), `error` (refused), `ignore` (accepted; $validate still mentions it). An unknown
   * modifier extension is always an error (extensibility.html#modifierExtension).
   */
  unknownExtensions: (typeof UNKNOWN_EXTENSIONS)[number];
  /** A declared profile the server does not hold: a warning naming it (the rest is checked), or an error. */
  unknownProfiles: 'warning' | 'error';
  /** National identifier formats (ABHA, HPR, HFR): warnings, or errors that refuse a write. */
  identifierChecks: 'warning' | 'error';
  /** JWKS of the token issuer, from a file or a URL; with neither the server runs open on loopback only. */
  jwksFile?: string;
  jwksUrl?: string;
  authIssuer?: string;
  authAudience?: string;
  /** Origins browsers may call from (`*` or scheme://host[:port]); empty: none, or any in the open loopback mode. */
  corsOrigins: string[];
  /** SMART App Launch endpoints of the authorization server, published in the discovery document. */
  smartAuthorizeUrl?: string;
  smartTokenUrl?: string;
  /** Serve Prometheus metrics at /metrics (no patient data: counts by interaction, type and status). */
  metrics: boolean;
  /** Write an AuditEvent for every interaction (hash-chained, append-only). On unless turned off. */
  audit: boolean;
  /** How often the audit chain's head is signed to the checkpoint file and the log (0: never). */
  auditCheckpointSeconds: number;
  /** Allow purpose BTG (break-the-glass) reads by practitioners, with a stated reason, flagged in the audit trail. */
  breakTheGlass: boolean;
  /** The ABDM health-information exchange (src/hie/): off unless a gateway URL is set. */
  abdm: {
    gatewayUrl?: string;
    /** The gateway's signing keys for the calls it makes to us; default `{gatewayUrl}/v0.5/certs`. */
    gatewayJwksUrl?: string;
    clientId?: string;
    clientSecret?: string;
    /** Sent as X-CM-ID: the consent manager (`sbx` in the sandbox, `abdm` in production). */
    cmId: string;
    /** HFR id this facility acts under as a health information provider; the HIP role is on when set. */
    hipId?: string;
    /** The id this facility acts under as a health information user; the HIU role is on when set. */
    hiuId?: string;
    /** The public URL of this server's ABDM endpoints (`…/abdm`), registered with the gateway as the bridge URL. */
    callbackUrl?: string;
    /** Documents per data push page. */
    pushPageSize: number;
    /** Where one-time passwords for care-context linking are POSTed (`{to, message}`), for the facility's SMS service. */
    otpWebhookUrl?: string;
  };
}

const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];
const SYNC_MODES = ['OFF', 'NORMAL', 'FULL'] as const;
const UNKNOWN_EXTENSIONS = ['warning', 'error', 'ignore'] as const;

type Parser<T> = (raw: string, name: string) => T;

const int = (min: number, max: number): Parser<number> => (raw, name) => {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got '${raw}'`);
  }
  return Number(raw);
};
const oneOf = <T extends string>(values: readonly T[]): Parser<T> => (raw, name) => {
  const v = (name === 'SQLITE_SYNCHRONOUS' ? raw.toUpperCase() : raw.toLowerCase()) as T;
  if (!values.includes(v)) throw new Error(`${name} must be one of ${values.join(', ')}, got '${raw}'`);
  return v;
};
const onOff: Parser<boolean> = (raw, name) => {
  const v = raw.trim().toLowerCase();
  if (v !== 'on' && v !== 'off') throw new Error(`${name} must be on or off, got '${raw}'`);
  return v === 'on';
};
const text: Parser<string> = (raw, name) => {
  if (raw.trim() === '') throw new Error(`${name} must not be empty`);
  return raw;
};
const NRCES = 'https://nrces.in/ndhm/fhir/r4/StructureDefinition';

/** The ABDM national profiles (NRCeS IG), required by `REQUIRED_PROFILES=national`. */
export const NATIONAL_PROFILES: Record<string, string[]> = {
  Patient: [`${NRCES}/Patient`],
  Practitioner: [`${NRCES}/Practitioner`],
  Organization: [`${NRCES}/Organization`],
  DiagnosticReport: [`${NRCES}/DiagnosticReportLab`, `${NRCES}/DiagnosticReportImaging`],
  'Bundle#document': [`${NRCES}/DocumentBundle`],
};

/** `national`, or `Type=url|url,Type=url` (a resource must conform to one of its type's URLs). */
const requiredProfiles: Parser<Record<string, string[]>> = (raw, name) => {
  if (raw.trim() === '') return {};
  if (raw.trim() === 'national') return NATIONAL_PROFILES;
  const out: Record<string, string[]> = {};
  for (const entry of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Z][A-Za-z]+(?:#[a-z-]+)?)=(.+)$/.exec(entry);
    if (!m) throw new Error(`${name} entries are Type=url|url (or the preset national), got '${entry}'`);
    out[m[1]] = m[2].split('|').map((u) => u.trim());
  }
  return out;
};

/** Comma-separated values (a flag may also be given several times: see flagValues). */
const list: Parser<string[]> = (raw) => raw.split(',').map((s) => s.trim()).filter(Boolean);
const url: Parser<string> = (raw, name) => {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`${name} must be an http(s) URL, got '${raw}'`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`${name} must be an http(s) URL`);
  return raw.replace(/\/+$/, '');
};
const origins: Parser<string[]> = (raw, name) => list(raw, name).map((o) => {
  if (o === '*') return o;
  let u: URL;
  try {
    u = new URL(o);
  } catch {
    throw new Error(`${name} entries are * or origins such as https://app.example.in, got '${o}'`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== o.replace(/\/$/, '')) {
    throw new Error(`${name} entries are * or origins (scheme://host[:port], no path), got '${o}'`);
  }
  return u.origin;
});
const mongoUrl: Parser<string> = (raw, name) => {
  if (!/^mongodb(\+srv)?:\/\/[^/?]+/.test(raw.trim())) throw new Error(`${name} must be a MongoDB connection string (mongodb://host:port/database?replicaSet=rs0)`);
  return raw.trim();
};
const bytes: Parser<number> = (raw, name) => {
  const m = /^(\d+)(kb|mb|b)?$/i.exec(raw.trim());
  if (!m) throw new Error(`${name} must be a size such as 1048576, 512kb or 16mb, got '${raw}'`);
  const n = Number(m[1]) * ({ b: 1, kb: 1024, mb: 1024 * 1024 }[(m[2] ?? 'b').toLowerCase() as 'b' | 'kb' | 'mb']);
  if (n < 1024 || n > 1024 * 1024 * 1024) throw new Error(`${name} must be between 1kb and 1024mb`);
  return n;
};

/** Each setting: environment variable, CLI flag, default, parser, one-line meaning (for --help). The README documents this table. */
export const SETTINGS = {
  port: { env: 'PORT', flag: '--port', default: '8080', parse: int(0, 65535), about: 'TCP port (0 picks a free one)' },
  host: { env: 'HOST', flag: '--host', default: '127.0.0.1', parse: text, about: 'Interface to listen on (0.0.0.0 in containers; needs a JWKS)' },
  dataDir: { env: 'DATA_DIR', flag: '--data-dir', default: './data', parse: text, about: 'Directory of the embedded database (fhir.sqlite)' },
  logLevel: { env: 'LOG_LEVEL', flag: '--log-level', default: 'info', parse: oneOf(LOG_LEVELS), about: 'error, warn, info (one line per request) or debug' },
  maxBodyBytes: { env: 'MAX_BODY_SIZE', flag: '--max-body-size', default: '16mb', parse: bytes, about: 'Largest request body (b, kb, mb); larger is a 413' },
  maxBundleEntries: { env: 'MAX_BUNDLE_ENTRIES', flag: '--max-bundle-entries', default: '10000', parse: int(1, 1000000), about: 'Most entries in one batch or transaction; more is a 413' },
  maxJsonDepth: { env: 'MAX_JSON_DEPTH', flag: '--max-json-depth', default: '64', parse: int(8, 1000), about: 'Deepest JSON nesting accepted in a body' },
  baseUrl: { env: 'BASE_URL', flag: '--base-url', default: undefined, parse: url, about: "Public base URL used in Location and Bundle links (default: from the request's Host)" },
  sqliteSynchronous: { env: 'SQLITE_SYNCHRONOUS', flag: '--sqlite-synchronous', default: 'NORMAL', parse: oneOf(SYNC_MODES), about: 'NORMAL survives a process crash; FULL also survives power loss' },
  store: { env: 'STORE', flag: '--store', default: 'sqlite', parse: oneOf(['sqlite', 'mongodb'] as const), about: 'sqlite (embedded, in DATA_DIR) or mongodb (MONGO_URL)' },
  mongoUrl: { env: 'MONGO_URL', flag: '--mongo-url', default: undefined, parse: mongoUrl, about: 'With STORE=mongodb: connection string of a replica set or sharded cluster' },
  defaultPageSize: { env: 'DEFAULT_PAGE_SIZE', flag: '--default-page-size', default: '50', parse: int(1, 10000), about: 'Page size when _count is absent' },
  maxPageSize: { env: 'MAX_PAGE_SIZE', flag: '--max-page-size', default: '1000', parse: int(1, 10000), about: 'Largest _count honoured' },
  maxPageBytes: { env: 'MAX_PAGE_BYTES', flag: '--max-page-bytes', default: '8mb', parse: bytes, about: 'A search page ends early (with a next link) once its resources reach this size, so memory does not grow with _count' },
  maxResponseBytes: { env: 'MAX_RESPONSE_BYTES', flag: '--max-response-bytes', default: '64mb', parse: bytes, about: 'A batch or transaction response stops carrying read results at this size (later reads: 413)' },
  memoryBudget: { env: 'MEMORY_BUDGET', flag: '--memory-budget', default: '256mb', parse: bytes, about: 'Bodies in flight across all requests; a request that could exceed it waits, so RSS stays bounded' },
  heapLimitMb: { env: 'HEAP_LIMIT_MB', flag: '--heap-limit-mb', default: '1024', parse: int(128, 65536), about: 'Heap ceiling in MB: npm start and the Docker image run node --max-old-space-size with it (node started by hand: pass the flag yourself)' },
  igDirs: { env: 'IG_DIRS', flag: '--ig', default: '', parse: list, about: 'Implementation guides to load besides profiles/ (folders or .tgz; flag repeatable)' },
  profileEnforcement: { env: 'PROFILE_ENFORCEMENT', flag: '--profile-enforcement', default: 'declared', parse: oneOf(['declared', 'off'] as const), about: 'declared: writes are checked against their meta.profile; off: base rules only' },
  requiredProfiles: { env: 'REQUIRED_PROFILES', flag: '--required-profiles', default: '', parse: requiredProfiles, about: 'national, or Type=url|url,...: profiles every write of a type must conform to' },
  unknownExtensions: { env: 'UNKNOWN_EXTENSIONS', flag: '--unknown-extensions', default: 'warning', parse: oneOf(UNKNOWN_EXTENSIONS), about: 'An extension no definition describes: warning, error or ignore' },
  unknownProfiles: { env: 'UNKNOWN_PROFILES', flag: '--unknown-profiles', default: 'warning', parse: oneOf(['warning', 'error'] as const), about: 'A declared profile the server does not hold: warning or error' },
  identifierChecks: { env: 'IDENTIFIER_CHECKS', flag: '--identifier-checks', default: 'warning', parse: oneOf(['warning', 'error'] as const), about: 'Malformed ABHA/HPR/HFR identifiers: warning or error' },
  jwksFile: { env: 'JWKS_FILE', flag: '--jwks-file', default: undefined, parse: text, about: 'Public keys (JWKS) of the token issuer; turns authentication on' },
  jwksUrl: { env: 'JWKS_URL', flag: '--jwks-url', default: undefined, parse: url, about: 'The same, fetched from the issuer' },
  authIssuer: { env: 'AUTH_ISSUER', flag: '--auth-issuer', default: undefined, parse: text, about: 'Required iss of every token (required with a JWKS)' },
  authAudience: { env: 'AUTH_AUDIENCE', flag: '--auth-audience', default: undefined, parse: text, about: 'Required aud of every token (required with a JWKS)' },
  corsOrigins: { env: 'CORS_ORIGINS', flag: '--cors-origins', default: '', parse: origins, about: 'Origins browser apps may call from: * or https://app.example.in,... (default none; any in the open loopback mode)' },
  smartAuthorizeUrl: { env: 'SMART_AUTHORIZE_URL', flag: '--smart-authorize-url', default: undefined, parse: url, about: "The authorization server's authorize endpoint, for SMART discovery" },
  smartTokenUrl: { env: 'SMART_TOKEN_URL', flag: '--smart-token-url', default: undefined, parse: url, about: "The authorization server's token endpoint, for SMART discovery" },
  metrics: { env: 'METRICS', flag: '--metrics', default: 'on', parse: onOff, about: 'on or off: Prometheus metrics at /metrics (counts and latencies, no patient data)' },
  audit: { env: 'AUDIT', flag: '--audit', default: 'on', parse: onOff, about: 'on or off: an AuditEvent for every interaction, hash-chained' },
  auditCheckpointSeconds: { env: 'AUDIT_CHECKPOINT_SECONDS', flag: '--audit-checkpoint-seconds', default: '60', parse: int(0, 86400), about: "How often the audit chain's head is signed to DATA_DIR/audit-checkpoints.jsonl and the log (0: never)" },
  breakTheGlass: { env: 'BREAK_THE_GLASS', flag: '--break-the-glass', default: 'off', parse: onOff, about: "on lets practitioners read any patient's data with purpose BTG and a reason" },
  abdmGatewayUrl: { env: 'ABDM_GATEWAY_URL', flag: '--abdm-gateway-url', default: undefined, parse: url, about: 'ABDM gateway base (sandbox https://dev.abdm.gov.in/gateway); turns the health-information exchange on' },
  abdmGatewayJwksUrl: { env: 'ABDM_GATEWAY_JWKS_URL', flag: '--abdm-gateway-jwks-url', default: undefined, parse: url, about: "The gateway's signing keys (default: ABDM_GATEWAY_URL/v0.5/certs)" },
  abdmClientId: { env: 'ABDM_CLIENT_ID', flag: '--abdm-client-id', default: undefined, parse: text, about: 'Client id of this bridge at the ABDM gateway' },
  abdmClientSecret: { env: 'ABDM_CLIENT_SECRET', flag: '--abdm-client-secret', default: undefined, parse: text, about: 'Its client secret (prefer the variable to the flag)' },
  abdmCmId: { env: 'ABDM_CM_ID', flag: '--abdm-cm-id', default: 'sbx', parse: text, about: 'Consent manager id sent as X-CM-ID (sbx in the sandbox)' },
  abdmHipId: { env: 'ABDM_HIP_ID', flag: '--abdm-hip-id', default: undefined, parse: text, about: 'HFR id of this facility as a health information provider (turns the HIP role on)' },
  abdmHiuId: { env: 'ABDM_HIU_ID', flag: '--abdm-hiu-id', default: undefined, parse: text, about: 'Id of this facility as a health information user (turns the HIU role on)' },
  abdmCallbackUrl: { env: 'ABDM_CALLBACK_URL', flag: '--abdm-callback-url', default: undefined, parse: url, about: 'Public URL of this server\'s /abdm endpoints, as registered with the gateway' },
  abdmPushPageSize: { env: 'ABDM_PUSH_PAGE_SIZE', flag: '--abdm-push-page-size', default: '7', parse: int(1, 100), about: 'Documents per data push page (HIP)' },
  abdmOtpWebhookUrl: { env: 'ABDM_OTP_WEBHOOK_URL', flag: '--abdm-otp-webhook-url', default: undefined, parse: url, about: 'HIP linking: one-time passwords are POSTed here as {to, message} for the facility\'s SMS service' },
  shutdownTimeoutMs: { env: 'SHUTDOWN_TIMEOUT_MS', flag: '--shutdown-timeout-ms', default: '10000', parse: int(0, 600000), about: 'How long SIGTERM waits for in-flight requests' },
} as const;

type Key = keyof typeof SETTINGS;

/** Flags that may be repeated; their values are joined with commas (`--ig a --ig b` is `a,b`). */
const REPEATABLE = new Set(['--ig']);

function flagValues(argv: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  const set = (flag: string, value: string): void => {
    values.set(flag, REPEATABLE.has(flag) && values.has(flag) ? `${values.get(flag)},${value}` : value);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    if (eq > 0) set(arg.slice(0, eq), arg.slice(eq + 1));
    else if (i + 1 < argv.length) set(arg, argv[++i]);
    else throw new Error(`flag ${arg} needs a value`);
  }
  return values;
}

function checkAbdm(abdm: Config['abdm']): void {
  if (!abdm.gatewayUrl) {
    if (abdm.hipId || abdm.hiuId) throw new Error('ABDM_HIP_ID and ABDM_HIU_ID need ABDM_GATEWAY_URL');
    return;
  }
  if (!abdm.clientId || !abdm.clientSecret) throw new Error('ABDM_GATEWAY_URL needs ABDM_CLIENT_ID and ABDM_CLIENT_SECRET (the gateway session)');
  if (!abdm.hipId && !abdm.hiuId) throw new Error('ABDM_GATEWAY_URL needs a role: ABDM_HIP_ID, ABDM_HIU_ID or both');
  if (!abdm.callbackUrl) throw new Error('ABDM_GATEWAY_URL needs ABDM_CALLBACK_URL, the public URL of this server\'s /abdm endpoints');
}

/** `--help` or `-h` anywhere among the arguments: print the settings (helpText) instead of starting. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.some((arg) => arg === '--help' || arg === '-h');
}

/** Every setting with its variable, flag, default and meaning, generated from SETTINGS. */
export function helpText(): string {
  const rows = Object.values(SETTINGS).map((s) => [s.env, s.flag, s.default === undefined || s.default === '' ? '-' : s.default, s.about]);
  const widths = [0, 1, 2].map((col) => Math.max(...rows.map((r) => r[col].length)));
  const line = (r: string[]): string => `  ${r.slice(0, 3).map((cell, i) => cell.padEnd(widths[i])).join('  ')}  ${r[3]}`.trimEnd();
  return [
    'abdm-fhir-gateway: an HL7 FHIR R4 server for ABDM',
    '',
    'Usage: npm start -- [--flag value | --flag=value ...]   (or: node dist/src/main.js [flags])',
    '',
    'Every setting is an environment variable with a matching flag; a flag wins over the variable.',
    '',
    line(['Variable', 'Flag', 'Default', 'Meaning']),
    ...rows.map(line),
    '',
  ].join('\n');
}

/** CLI flags win over environment variables, which win over defaults. Throws on any bad value. */
export function loadConfig(env: NodeJS.ProcessEnv, argv: readonly string[]): Config {
  const flags = flagValues(argv);
  const known = new Set(Object.values(SETTINGS).map((s) => s.flag as string));
  for (const flag of flags.keys()) if (!known.has(flag)) throw new Error(`unknown flag ${flag}`);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(SETTINGS) as Key[]) {
    const s = SETTINGS[key];
    const raw = flags.get(s.flag) ?? env[s.env] ?? s.default;
    out[key] = raw === undefined ? undefined : (s.parse as Parser<unknown>)(raw, s.env);
  }
  const abdmKeys = Object.keys(out).filter((k) => k.startsWith('abdm'));
  const abdm = Object.fromEntries(abdmKeys.map((k) => [k[4].toLowerCase() + k.slice(5), out[k]]));
  for (const k of abdmKeys) delete out[k];
  out.abdm = abdm;
  const config = out as unknown as Config;
  checkAbdm(config.abdm);
  if (config.defaultPageSize > config.maxPageSize) throw new Error('DEFAULT_PAGE_SIZE must not exceed MAX_PAGE_SIZE');
  if (config.jwksFile && config.jwksUrl) throw new Error('set JWKS_FILE or JWKS_URL, not both');
  if (config.store === 'mongodb' && !config.mongoUrl) throw new Error('STORE=mongodb needs MONGO_URL, the connection string of a replica set or sharded cluster');
  if ((config.jwksFile || config.jwksUrl) && (!config.authIssuer || !config.authAudience)) {
    throw new Error('with JWKS_FILE or JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE are required: tokens are checked against both');
  }
  return config;
}
