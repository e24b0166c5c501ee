/**
 * Secrets at rest (platform tokens): AES-256-GCM under QUORUM_ENCRYPTION_KEY. Without a key in
 * development, one is generated once into DATA_DIR so that restarts can still read old rows.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ensurePrivateDir } from './private-dir.js';
import { join } from 'node:path';
import type { Logger } from './core/ports.js';

export interface SecretBox {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

export function loadEncryptionKey(options: { key: string | undefined; dataDir: string; log: Logger }): Buffer {
  if (options.key) return Buffer.from(options.key, 'base64');
  const file = join(options.dataDir, 'encryption.key');
  if (!existsSync(file)) {
    ensurePrivateDir(options.dataDir);
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  }
  options.log.warn(
    { event: 'config.dev_key', file },
    'QUORUM_ENCRYPTION_KEY is not set: using a development key from DATA_DIR. Set it in production.',
  );
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('the encryption key must be 32 bytes');
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.');
    },
    open(sealed) {
      const [version, iv, tag, body] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || !body) throw new Error('not a sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
    },
  };
}
