/** The isolation property on PostgreSQL (isolation-suite.ts; PGlite in isolation.test.ts). */
import { describeWith } from '../support/services.js';
import { isolationTests } from './isolation-suite.js';

describeWith('postgres', 'isolation property (postgres)', () => isolationTests('postgres'));
