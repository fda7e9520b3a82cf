// `portico rotate-master-key`: re-encrypt every stored credential under a new master key.
import { JSON_OPTION, type Command } from '../lib/command.ts';
import { CliError } from '../lib/errors.ts';
import { out, plural, printJson } from '../lib/output.ts';

type Rotate = (env: NodeJS.ProcessEnv) => Promise<{ rotated: number; keyFile: string | null }>;

export const rotateMasterKeyCommand: Command = {
  name: 'rotate-master-key',
  summary: 'Re-encrypt every stored credential under a new master key.',
  description: [
    'With the key in ./data/master.key (no $PORTICO_MASTER_KEY), a new key is generated and',
    'replaces the file (the old one is kept as master.key.old). With $PORTICO_MASTER_KEY, give the',
    'new key in $PORTICO_NEW_MASTER_KEY and set PORTICO_MASTER_KEY to it afterwards.',
    'All credentials are re-encrypted in one transaction. Restart the gateway processes afterwards.',
  ].join('\n'),
  options: { ...JSON_OPTION },
  examples: ['portico rotate-master-key', 'PORTICO_NEW_MASTER_KEY="$(openssl rand -base64 32)" portico rotate-master-key   # key from the environment'],
  async run(p) {
    // Looked up at run time so that the rest of the CLI works with a gateway build without it.
    const gateway = (await import('@portico/gateway')) as Record<string, unknown>;
    const rotate = gateway.rotateMasterKey as Rotate | undefined;
    if (typeof rotate !== 'function') throw new CliError('this gateway build does not provide rotateMasterKey');
    let result: { rotated: number; keyFile: string | null };
    try {
      result = await rotate(process.env);
    } catch (err) {
      if ((err as Error)?.name === 'ConfigError') throw new CliError(`invalid configuration: ${(err as Error).message}`);
      throw err;
    }
    const { rotated, keyFile } = result;
    if (p.values.json) {
      printJson({ rotated, key_file: keyFile });
      return;
    }
    out(`Re-encrypted ${plural(rotated, 'credential')} under the new master key.`);
    if (keyFile) out(`The new key is in ${keyFile} (mode 0600); the previous one in ${keyFile}.old.`);
    else out('Now set PORTICO_MASTER_KEY to the value of PORTICO_NEW_MASTER_KEY and restart the gateway.');
  },
};
