/**
 * `GET /v1/events`: a WebSocket stream of committed blocks. The first
 * message is `{"type":"hello","chainId","height"}`; then one
 * `{"type":"block",…}` per committed block, in height order (blocks at or
 * below the hello height may be repeated once; skip them). Clients send
 * nothing; a message larger than 4 KiB closes the connection.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, ApiErrorCode } from '../errors.js';
import { EventHub } from '../event-hub.js';
import { errorResponses } from '../route-group.js';
import type { RouteContext, RouteGroup } from '../route-group.js';

/** Time clients get to answer the close frame at shutdown before they are cut. */
const WS_CLOSE_GRACE_MS = 1000;

function register(app: FastifyInstance, context: RouteContext): void {
  const { api, limits, metrics } = context;
  const hub = new EventHub(
    { maxBufferedBytes: limits.wsMaxBufferedBytes, pingIntervalMs: limits.wsPingIntervalMs },
    metrics,
    context.logger,
  );
  const unsubscribe = api.subscribe((event) => {
    hub.broadcast(event);
  });
  app.addHook('preClose', (done) => {
    unsubscribe();
    hub.close(WS_CLOSE_GRACE_MS);
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    hub.terminateAll();
    done();
  });

  app.route({
    method: 'GET',
    url: '/v1/events',
    preHandler: (request: FastifyRequest, _reply, done) => {
      if (request.ws && hub.size >= limits.maxWsClients) {
        done(
          new ApiError(ApiErrorCode.tooManyClients, 503, 'too many event stream clients', {
            maxClients: limits.maxWsClients,
            retryAfterSeconds: 5,
          }),
        );
        return;
      }
      done();
    },
    handler: () => {
      throw new ApiError(
        ApiErrorCode.upgradeRequired,
        426,
        '/v1/events is a WebSocket endpoint: send an Upgrade: websocket request',
      );
    },
    wsHandler: (socket) => {
      const { chainId, height } = api.status();
      hub.add(socket, { type: 'hello', chainId, height });
    },
  });
}

export const eventRoutes: RouteGroup = {
  name: 'events',
  register,
  paths: {
    '/v1/events': {
      get: {
        operationId: 'streamEvents',
        summary: 'WebSocket stream of committed blocks and their receipts',
        description:
          'Upgrade to a WebSocket. Messages are JSON text frames (schema `Event`): first `hello`, then one ' +
          '`block` per committed block. A client that reads too slowly (its unsent data passes the server ' +
          'bound) is disconnected; reconnect and catch up with GET /v1/blocks/{height}.',
        tags: ['events'],
        responses: {
          '101': {
            description: 'Switching to the WebSocket protocol; messages follow the `Event` schema',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Event' } } },
          },
          ...errorResponses({
            426: 'Not a WebSocket upgrade request (UPGRADE_REQUIRED)',
            503: 'Too many clients (TOO_MANY_CLIENTS)',
          }),
        },
      },
    },
  },
};
