// The load tier's call runs through the gateway's policy pipeline: 1,000 calls over UDP and over TCP, and 200
// calls with 10% loss on both legs recovered by retransmissions. Every call is checked at both ends.
import { test } from 'node:test';
import { callsCase, callsLabel } from '../interop/sipp/calls-case.js';

test(callsLabel('u1', 1000, 0), (t) => callsCase(t, 'u1', 1000, 0));
test(callsLabel('t1', 1000, 0), (t) => callsCase(t, 't1', 1000, 0));
test(callsLabel('u1', 200, 10), (t) => callsCase(t, 'u1', 200, 10));
