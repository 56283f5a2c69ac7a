import { InviteServerTransaction } from '../../../../src/sip/transaction/invite-server-transaction.js';
import type { ClientTransaction, ServerTransaction } from '../../../../src/sip/transaction/types.js';
import type { TransportProtocol } from '../../../../src/sip/transport/types.js';
import { flowFrom, flowTo, makeRequest, makeResponse, targetOf } from './support.js';
import { clientReported, runTransactionSuite } from './transaction.case.js';

const none = Buffer.alloc(0);
const viaProto = (p: TransportProtocol) => p.toUpperCase();

for (const method of ['INVITE', 'OPTIONS']) {
  runTransactionSuite({
    kind: method === 'INVITE' ? 'ict' : 'nict',
    transportFailureAfterEnd: 'not reported',
    make(layer, protocol, _tu, user) {
      const req = makeRequest(method, { protocol: viaProto(protocol) });
      let txn: ClientTransaction | undefined;
      return {
        state: () => txn?.state ?? 'none',
        sendFirst: () => void (txn = layer.sendRequest(req, { target: targetOf(protocol), user })),
        finish: () => layer.receive(makeResponse(req, 486), none, flowTo(targetOf(protocol))),
        reported: () => clientReported(user.events),
      };
    },
  });
}

for (const method of ['INVITE', 'BYE']) {
  runTransactionSuite({
    kind: method === 'INVITE' ? 'ist' : 'nist',
    transportFailureAfterEnd: 'reported',
    make(layer, protocol, tu) {
      const req = makeRequest(method, { protocol: viaProto(protocol) });
      let txn: ServerTransaction | undefined;
      let finished = false;
      return {
        state: () => txn?.state ?? 'none',
        sendFirst: () => {
          layer.receive(req, none, flowFrom(protocol));
          txn = tu.requests.at(-1)!.txn;
          txn.respond(makeResponse(req, 486));
          finished = true;
        },
        finish: () => {
          if (!finished) txn!.respond(makeResponse(req, 486));
          // the INVITE server transaction needs the ACK to leave Completed
          if (txn instanceof InviteServerTransaction) {
            layer.receive(makeRequest('ACK', { protocol: viaProto(protocol), toTag: 'totag9', cseqMethod: 'ACK' }), none, flowFrom(protocol));
          }
        },
        reported: () => tu.errors.filter((e) => e.txn === txn).map((e) => e.code),
      };
    },
  });
}
