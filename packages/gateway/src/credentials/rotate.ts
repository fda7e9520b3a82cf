// `portico rotate-master-key`: re-encrypt every credential under a new master key in one
// transaction. A file-based key (./data/master.key) is replaced in place (the old one kept
// as master.key.old until the next rotation); a key from PORTICO_MASTER_KEY must be replaced
// by the operator, so the new one is read from PORTICO_NEW_MASTER_KEY.
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '../config.ts';
import { openStore, type Store } from '../store/db.ts';
import { migrate } from '../store/migrations.ts';
import { decryptPayload, encryptPayload, masterKeyId } from './crypto.ts';

/** Re-encrypts every row encrypted under `oldKey`; throws (and changes nothing) if any fails. */
export async function reencryptAll(store: Store, oldKey: Buffer, newKey: Buffer): Promise<number> {
  const oldId = masterKeyId(oldKey);
  const newId = masterKeyId(newKey);
  return store.db.transaction().execute(async (trx) => {
    const rows = await trx.selectFrom('credentials').selectAll().execute();
    let n = 0;
    for (const row of rows) {
      if (row.key_id === newId) continue;
      if (row.key_id !== oldId) throw new Error(`credential ${row.id} is encrypted under an unknown master key (${row.key_id})`);
      const payload = decryptPayload(oldKey, row, row.ciphertext);
      const ciphertext = encryptPayload(newKey, row, payload);
      await trx.updateTable('credentials').set({ ciphertext, key_id: newId, updated_at: new Date().toISOString() }).where('id', '=', row.id).execute();
      n++;
    }
    return n;
  });
}

export async function rotateMasterKey(env: NodeJS.ProcessEnv = process.env): Promise<{ rotated: number; keyFile: string | null }> {
  const config = loadConfig(env);
  const fromFile = !env.PORTICO_MASTER_KEY;
  let newKey: Buffer;
  if (env.PORTICO_NEW_MASTER_KEY) {
    newKey = Buffer.from(env.PORTICO_NEW_MASTER_KEY.trim(), 'base64');
    if (newKey.length !== 32) throw new ConfigError('PORTICO_NEW_MASTER_KEY', 'must be 32 bytes encoded as base64');
  } else if (fromFile) {
    newKey = randomBytes(32);
  } else {
    throw new ConfigError('PORTICO_NEW_MASTER_KEY', 'is required when PORTICO_MASTER_KEY comes from the environment');
  }
  const store = openStore(config.database);
  try {
    await migrate(store);
    // The new key reaches the disk before the database commits, so no crash can leave
    // credentials encrypted under a key nobody kept.
    const keyFile = fromFile ? resolve(config.dataDir, 'master.key') : null;
    if (keyFile) writeFileSync(keyFile + '.new', newKey.toString('base64') + '\n', { mode: 0o600 });
    let rotated: number;
    try {
      rotated = await reencryptAll(store, config.masterKey, newKey);
    } catch (err) {
      if (keyFile) rmSync(keyFile + '.new', { force: true });
      throw err;
    }
    if (keyFile) {
      renameSync(keyFile, keyFile + '.old');
      renameSync(keyFile + '.new', keyFile);
    }
    return { rotated, keyFile };
  } finally {
    await store.close();
  }
}
