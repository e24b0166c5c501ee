import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README, currentConfigTable, renderConfigTable } from '../scripts/readme-config.js';
import { configSchema } from '../src/config.js';

describe('README', () => {
  const readme = readFileSync(README, 'utf8');

  it('shows the two quick-start commands', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });

  it('has the configuration table the schema generates (run npm run docs:config)', () => {
    expect(currentConfigTable(readme)).toBe(renderConfigTable());
    for (const name of Object.keys(configSchema.shape)) expect(readme).toContain(`| \`${name}\` |`);
  });
});
