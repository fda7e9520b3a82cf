// Credential encryption at rest: AES-256-GCM, a fresh 96-bit nonce per write, and the row's
// identity (id, service, scope, organization) as associated data, so a ciphertext copied into
// another row fails to decrypt. Each ciphertext records the id of the master key it used.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export interface CredentialIdentity {
  id: string;
  service: string;
  scope: string;
  organization: string | null;
}

export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

function aad(who: CredentialIdentity): Buffer {
  return Buffer.from(`portico-credential|${who.id}|${who.service}|${who.scope}|${who.organization ?? ''}`);
}

export function encryptPayload(key: Buffer, who: CredentialIdentity, payload: unknown): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad(who));
  const ct = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, cipher.getAuthTag(), ct]).toString('base64');
}

/** Throws when the key, the row identity or the bytes do not match. */
export function decryptPayload(key: Buffer, who: CredentialIdentity, ciphertext: string): unknown {
  const raw = Buffer.from(ciphertext, 'base64');
  if (raw.length < 29) throw new Error('ciphertext too short');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(aad(who));
  decipher.setAuthTag(raw.subarray(12, 28));
  const plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
  return JSON.parse(plain.toString('utf8'));
}
