// One process for the message layer's unit tests, so a mutation run (npm run test:mutation) starts Node once per
// mutant instead of once per file. Not a test file itself: npm test runs the files on their own.
import './parse.test.js';
import './torture.test.js';
import './message-layer.test.js';
import './accessors.test.js';
import './app-text.test.js';
import './parse-rules.test.js';
import './srf-addresses.test.js';
