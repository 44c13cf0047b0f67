/** The node itself: `GET /v1/status` and `GET /v1/peers`. */
import type { FastifyInstance } from 'fastify';
import { peerToJson, statusToJson } from '../json.js';
import type { PeersJson, StatusJson } from '../json.js';
import { jsonResponse } from '../route-group.js';
import type { RouteContext, RouteGroup } from '../route-group.js';

function register(app: FastifyInstance, context: RouteContext): void {
  app.get('/v1/status', (): StatusJson => statusToJson(context.api.status()));
  app.get('/v1/peers', (): PeersJson => ({ peers: context.api.peers().map(peerToJson) }));
}

export const nodeRoutes: RouteGroup = {
  name: 'node',
  register,
  paths: {
    '/v1/status': {
      get: {
        operationId: 'getStatus',
        summary: 'Chain, height, view, primary, validators connected, sync state, mempool, peers',
        tags: ['node'],
        responses: { '200': jsonResponse('Node status', 'Status') },
      },
    },
    '/v1/peers': {
      get: {
        operationId: 'getPeers',
        summary: 'Connected libp2p peers and the institutions they belong to',
        tags: ['node'],
        responses: { '200': jsonResponse('Connected peers', 'Peers') },
      },
    },
  },
};
