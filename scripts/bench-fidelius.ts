/**
 * Fidelius encryption cost (run by hand: `npm run bench:fidelius -- --rounds 200 --kb 50`).
 * Each round encrypts a `--kb` KB FHIR-like document as the HIP does (its private key, the HIU's
 * X.509 public key) and decrypts it as the HIU does (its private key, the HIP's raw public key), so
 * every call pays what a real one pays: parsing and checking the peer key, ECDH, HKDF and AES-GCM.
 * Key-material generation is timed too. Prints the median and 95th percentile of each, in ms.
 */
import { decrypt, encrypt, generateKeyMaterial } from '../src/hie/fidelius';
import { median, percentile } from './lib/bench-util';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const ROUNDS = Number(args.get('rounds') ?? 200);
const KB = Number(args.get('kb') ?? 50);

/** Milliseconds `fn` takes, and what it returned. */
function timed<T>(fn: () => T): [number, T] {
  const t = process.hrtime.bigint();
  const out = fn();
  return [Number(process.hrtime.bigint() - t) / 1e6, out];
}

function main(): void {
  const entry = { resourceType: 'Observation', status: 'final', code: { text: 'Haemoglobin' }, valueQuantity: { value: 13.2, unit: 'g/dL' } };
  const document = JSON.stringify({ resourceType: 'Bundle', type: 'document', entry: Array.from({ length: Math.ceil((KB * 1024) / 130) }, () => ({ resource: entry })) }).slice(0, KB * 1024);
  const times = { keygen: [] as number[], encrypt: [] as number[], decrypt: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    const [tk, hiu] = timed(() => generateKeyMaterial());
    const hip = generateKeyMaterial();
    const [te, content] = timed(() => encrypt({ plaintext: document, senderPrivateKey: hip.privateKey, senderNonce: hip.nonce, requesterPublicKey: hiu.x509PublicKey, requesterNonce: hiu.nonce }));
    const [td, plain] = timed(() => decrypt({ content, requesterPrivateKey: hiu.privateKey, requesterNonce: hiu.nonce, senderPublicKey: hip.publicKey, senderNonce: hip.nonce }));
    if (plain.toString('utf8') !== document) throw new Error('round trip failed');
    times.keygen.push(tk);
    times.encrypt.push(te);
    times.decrypt.push(td);
  }
  console.log(`Fidelius, ${ROUNDS} rounds, ${(Buffer.byteLength(document) / 1024).toFixed(0)} KB document (ms):`);
  for (const [name, xs] of Object.entries(times)) {
    console.log(`  ${name.padEnd(8)} median ${median(xs).toFixed(2).padStart(7)}   p95 ${percentile(xs, 95).toFixed(2).padStart(7)}`);
  }
}

main();
