/** The isolation property on PGlite (isolation-suite.ts; PostgreSQL in isolation-postgres.test.ts). */
import { describe } from 'vitest';
import { isolationTests } from './isolation-suite.js';

describe('isolation property (pglite)', () => isolationTests('pglite'));
