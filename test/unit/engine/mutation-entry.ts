// One process for the unit tests of the engine's routing decisions, so a mutation run (npm run test:mutation)
// starts Node once per mutant instead of once per file. Not a test file itself: npm test runs the files on their own.
import './core/edge-policy.test.js';
import './core/engine-core-dialog.test.js';
import './core/engine-core-uac.test.js';
import './core/engine-core-uas.test.js';
import './core/peer-header.test.js';
import './core/proxy-core.test.js';
import './source-trust.test.js';
import './source-rate.test.js';
import './core/addressing.test.js';
import './edge-guard.test.js';
import './core/ingress-forward.test.js';
