export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';

/** Prefer: return=… (http.html#ops). Unknown preferences are ignored, as RFC 7240 asks. */
export function returnPreference(prefer: string | undefined): ReturnPreference {
  const m = /(?:^|[;,\s])return\s*=\s*"?(minimal|representation|OperationOutcome)"?/i.exec(prefer ?? '');
  if (!m) return 'representation';
  const v = m[1].toLowerCase();
  return v === 'minimal' ? 'minimal' : v === 'operationoutcome' ? 'OperationOutcome' : 'representation';
}
