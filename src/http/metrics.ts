import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Deps } from '../deps';
import { isResourceType } from '../fhir/definitions';
import { memoryBudgetOf } from './memory-budget';

/**
 * Prometheus metrics (`GET /metrics`, text exposition format) with prom-client: requests by
 * interaction, resource type and status; latency by interaction; the memory budget in use and the
 * requests waiting for it; the configured limits; the audit chain's length; the process's own
 * figures. Labels come from bounded sets only (interaction names, R4 types, status codes): a
 * made-up type in a URL is counted as `other`, so no caller can grow the series without bound.
 * One registry per app, so tests and several apps in a process do not share counters.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'interaction' | 'type' | 'status'>;
  private readonly latency: Histogram<'interaction'>;

  constructor(deps: Deps) {
    // The standard process_* and nodejs_* names, which dashboards expect.
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'fhir_requests_total', help: 'Requests answered, by interaction, resource type and status',
      labelNames: ['interaction', 'type', 'status'], registers: [this.registry],
    });
    this.latency = new Histogram({
      name: 'fhir_request_duration_seconds', help: 'Time from request to the end of the response, by interaction',
      labelNames: ['interaction'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10], registers: [this.registry],
    });
    const budget = memoryBudgetOf(deps, deps.config.memoryBudget);
    new Gauge({ name: 'fhir_memory_budget_in_use_bytes', help: 'Bodies in flight, reserved against MEMORY_BUDGET', registers: [this.registry], collect() { this.set(budget.inUse()); } });
    new Gauge({ name: 'fhir_memory_budget_waiting_requests', help: 'Requests waiting for room in MEMORY_BUDGET', registers: [this.registry], collect() { this.set(budget.queued()); } });
    const limit = new Gauge({ name: 'fhir_limit', help: 'Configured limits (bytes, entries, resources)', labelNames: ['name'], registers: [this.registry] });
    limit.set({ name: 'max_body_bytes' }, deps.config.maxBodyBytes);
    limit.set({ name: 'max_bundle_entries' }, deps.config.maxBundleEntries);
    limit.set({ name: 'max_page_bytes' }, deps.config.maxPageBytes);
    limit.set({ name: 'max_response_bytes' }, deps.config.maxResponseBytes);
    limit.set({ name: 'memory_budget_bytes' }, deps.config.memoryBudget);
    new Gauge({
      name: 'fhir_audit_chain_events', help: 'AuditEvents this process has committed to its hash chain', registers: [this.registry],
      collect() { this.set(deps.audit?.committedHead(new Date())?.sequence ?? 0); },
    });
  }

  /** Counts a finished request; `locals` is what serving it learnt (interaction, resource type). */
  observe(locals: Record<string, unknown>, status: number, seconds: number): void {
    const interaction = typeof locals.interaction === 'string' ? locals.interaction : 'none';
    const type = typeof locals.resourceType === 'string' && isResourceType(locals.resourceType) ? locals.resourceType : 'other';
    this.requests.inc({ interaction, type, status: String(status) });
    this.latency.observe({ interaction }, seconds);
  }

  async expose(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await this.registry.metrics();
    res.statusCode = 200;
    res.setHeader('Content-Type', this.registry.contentType);
    res.end(text);
  }
}

const perDeps = new WeakMap<Deps, Metrics>();

export function metricsOf(deps: Deps): Metrics {
  let m = perDeps.get(deps);
  if (!m) perDeps.set(deps, (m = new Metrics(deps)));
  return m;
}
