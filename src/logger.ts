import winston from 'winston';

export type Logger = winston.Logger;

/**
 * Structured JSON logs on stdout. Callers log events and ids, never resource content, request
 * bodies, query strings or tokens: those carry patient data and secrets.
 */
export function createLogger(level: string, silent = false): Logger {
  return winston.createLogger({
    level,
    silent,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    defaultMeta: { service: 'abdm-fhir-gateway' },
    transports: [new winston.transports.Console()],
  });
}
