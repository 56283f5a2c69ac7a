// Short sipp runs through the gateway's policy pipeline, UDP and TCP: the interop tier's proof that calls
// complete end to end and are torn down at the far end. The 1,000-call and loss runs are in test/load.
import { test } from 'node:test';
import { callsCase, callsLabel } from './calls-case.js';

test(callsLabel('u1', 20, 0), (t) => callsCase(t, 'u1', 20, 0, 50));
test(callsLabel('t1', 20, 0), (t) => callsCase(t, 't1', 20, 0, 50));
