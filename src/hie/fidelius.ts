import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { decodeBase64, ecdhSecret, FideliusError, keyPairFromSeed } from './fidelius-keys';

export { encodeX509, FideliusError, parsePublicKey, publicKeyFromPrivate } from './fidelius-keys';
export type { FideliusErrorCode, ParsedPublicKey, PublicKeyEncoding } from './fidelius-keys';

/**
 * ABDM's "Fidelius" end-to-end encryption of health information (HIU ⇄ HIP data flow).
 *
 * 1. The HIU (requester) makes an ephemeral key pair and a 32-byte nonce and sends the public key and
 *    nonce in the health-information request's `keyMaterial`.
 * 2. The HIP (sender) makes its own pair and nonce, derives the shared secret by ECDH with the HIU's
 *    public key, encrypts each FHIR Bundle, and pushes the ciphertexts with its public key and nonce.
 * 3. Both sides derive the same AES key and IV: x = senderNonce XOR requesterNonce; salt = x[0..20),
 *    IV = x[20..32); key = HKDF-SHA256(IKM = ECDH secret, salt, info = empty, 32 bytes). The content is
 *    base64(AES-256-GCM ciphertext ‖ 128-bit tag), no AAD.
 *
 * The curve is BouncyCastle's `CustomNamedCurves.getByName("curve25519")`: Curve25519 mapped to
 * SHORT-WEIERSTRASS form, not RFC 7748 X25519. Every Java peer (fidelius-cli, the NHA wrapper) uses it,
 * so keys are SEC1 points 0x04‖X‖Y, private keys big-endian scalars, and the ECDH secret is the
 * Weierstrass x-coordinate, 32 bytes big-endian. An X25519 library (clamped scalars, little-endian
 * Montgomery u) computes a different secret and cannot interoperate.
 *
 * Pure: the only effect is the randomness `generateKeyMaterial` draws, and that source is injectable.
 */

const NONCE_BYTES = 32;
const TAG_BYTES = 16;

/** Draws `size` random bytes; node:crypto's `randomBytes` unless a test injects its own. */
export type RandomSource = (size: number) => Uint8Array;

/** What one party publishes and keeps; every field base64, as the ABDM `keyMaterial` carries them. */
export interface KeyMaterial {
  /** 32-byte big-endian scalar. Keep it; never send it. */
  privateKey: string;
  /** Uncompressed SEC1 point (65 bytes, "B…"), what fidelius-cli calls `publicKey`. */
  publicKey: string;
  /** The same key as X.509 SubjectPublicKeyInfo DER with explicit parameters, as BouncyCastle writes it. */
  x509PublicKey: string;
  /** 32 random bytes. */
  nonce: string;
}

export interface EncryptInput {
  plaintext: string | Uint8Array; // a string is encoded as UTF-8
  senderPrivateKey: string;
  senderNonce: string;
  /** Raw SEC1 (uncompressed or compressed) or X.509 (explicit parameters or named curve), base64. */
  requesterPublicKey: string;
  requesterNonce: string;
}

export interface DecryptInput {
  content: string;
  requesterPrivateKey: string;
  requesterNonce: string;
  /** Raw SEC1 (uncompressed or compressed) or X.509 (explicit parameters or named curve), base64. */
  senderPublicKey: string;
  senderNonce: string;
}

function parseNonce(value: string, what: string): Buffer {
  const nonce = decodeBase64(value, 'invalid-nonce', what);
  if (nonce.length !== NONCE_BYTES) throw new FideliusError('invalid-nonce', `${what} is ${nonce.length} bytes; expected ${NONCE_BYTES}`);
  return nonce;
}

function draw(random: RandomSource, size: number): Buffer {
  const bytes = random(size);
  if (bytes.length !== size) throw new RangeError(`the random source gave ${bytes.length} bytes, not ${size}`);
  return Buffer.from(bytes);
}

/** A fresh key pair and nonce for one exchange: the key from 48 random bytes, then the nonce from 32. */
export function generateKeyMaterial(random: RandomSource = randomBytes): KeyMaterial {
  return { ...keyPairFromSeed(draw(random, 48)), nonce: draw(random, NONCE_BYTES).toString('base64') };
}

/**
 * The AES-256-GCM key and IV both parties derive: the ECDH secret through HKDF salted by the XORed
 * nonces. XOR commutes, so sender and requester get the same salt and IV from their own side.
 */
function sessionKey(privateKey: string, peerPublicKey: string, ownNonce: string, peerNonce: string): { key: Buffer; iv: Buffer } {
  const own = parseNonce(ownNonce, 'our nonce');
  const their = parseNonce(peerNonce, "the peer's nonce");
  const secret = ecdhSecret(privateKey, peerPublicKey);
  const x = Buffer.alloc(NONCE_BYTES);
  for (let i = 0; i < NONCE_BYTES; i++) x[i] = own[i] ^ their[i];
  const key = Buffer.from(hkdfSync('sha256', secret, x.subarray(0, 20), Buffer.alloc(0), 32));
  return { key, iv: x.subarray(NONCE_BYTES - 12) };
}

/** The HIP's side: base64(AES-256-GCM(plaintext) ‖ tag), the `content` of a pushed entry. */
export function encrypt(input: EncryptInput): string {
  return encryptor(input)(input.plaintext);
}

/**
 * Encryption with one key exchange for several entries, as one push page carries them: the ECDH
 * and HKDF are done once. Every entry of a page is encrypted under the same key and IV, because
 * ABDM's push gives a page one keyMaterial and an entry no nonce of its own; GCM under a repeated
 * IV leaks the XOR of those plaintexts and weakens their tags, so a sender should use fresh key
 * material for every page (hie/hip does) and keep pages small.
 */
export function encryptor(input: Omit<EncryptInput, 'plaintext'>): (plaintext: string | Uint8Array) => string {
  const { key, iv } = sessionKey(input.senderPrivateKey, input.requesterPublicKey, input.senderNonce, input.requesterNonce);
  return (plaintext) => {
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    return Buffer.concat([cipher.update(data), cipher.final(), cipher.getAuthTag()]).toString('base64');
  };
}

/** Decryption with one key exchange for all the entries of a page. */
export function decryptor(input: Omit<DecryptInput, 'content'>): (content: string) => Buffer {
  const { key, iv } = sessionKey(input.requesterPrivateKey, input.senderPublicKey, input.requesterNonce, input.senderNonce);
  return (text) => {
    const content = decodeBase64(text, 'invalid-content', 'the content');
    if (content.length < TAG_BYTES) throw new FideliusError('invalid-content', `the content is ${content.length} bytes, shorter than the GCM tag`);
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(content.subarray(content.length - TAG_BYTES));
    const body = decipher.update(content.subarray(0, content.length - TAG_BYTES));
    try {
      return Buffer.concat([body, decipher.final()]);
    } catch {
      throw new FideliusError('authentication', 'the content did not authenticate: wrong key or nonce, or altered in transit');
    }
  };
}

/** The HIU's side: the plaintext of a pushed entry's `content`, or 'authentication' if it does not verify. */
export function decrypt(input: DecryptInput): Buffer {
  return decryptor(input)(input.content);
}
