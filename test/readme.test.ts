import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_EXAMPLE, README, currentConfigTable, renderConfigTable, renderEnvExample } from '../scripts/readme-config.js';
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

  it('has the .env.example the schema generates, every variable commented out at its default (run npm run docs:config)', () => {
    const example = readFileSync(ENV_EXAMPLE, 'utf8');
    expect(example).toBe(renderEnvExample());
    for (const name of Object.keys(configSchema.shape)) expect(example).toMatch(new RegExp(`^# ${name}=`, 'm'));
    // Copying it as is changes nothing: no line sets a variable.
    expect(example.split('\n').filter((l) => l.trim() && !l.startsWith('#'))).toEqual([]);
  });
});
