// The route table: docs/api.md's routes (the contract keepvsadm is written against) plus keepvs's
// additions (marked). A path not here is NOT_FOUND; a known path with another method is
// METHOD_NOT_ALLOWED.
import type { Route } from '../router.ts';
import { addService, clear, deleteService, editService, listServices, zero } from './services.ts';
import { addDest, deleteDest, editDest } from './dests.ts';
import { connections, dumpData, dumpStats, getTimeouts, info, setTimeouts } from './status.ts';
import { explain } from './explain.ts';
import { bfdSessions } from './bfd.ts';

export const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/v1/info', handler: info },
  { method: 'GET', path: '/v1/services', handler: listServices },
  { method: 'GET', path: '/v1/connections', handler: connections },
  { method: 'GET', path: '/v1/timeouts', handler: getTimeouts },
  { method: 'PUT', path: '/v1/timeouts', handler: setTimeouts, mutates: true },
  { method: 'POST', path: '/v1/services', handler: addService, mutates: true },
  { method: 'PUT', path: '/v1/services', handler: editService, mutates: true },
  { method: 'DELETE', path: '/v1/services', handler: deleteService, mutates: true },
  { method: 'POST', path: '/v1/clear', handler: clear, mutates: true },
  { method: 'POST', path: '/v1/zero', handler: zero, mutates: true },
  { method: 'POST', path: '/v1/dests', handler: addDest, mutates: true },
  { method: 'PUT', path: '/v1/dests', handler: editDest, mutates: true },
  { method: 'DELETE', path: '/v1/dests', handler: deleteDest, mutates: true },
  { method: 'POST', path: '/v1/explain', handler: explain },
  // keepvs additions: the SIGUSR1/SIGUSR2 dump texts without signals or files.
  { method: 'GET', path: '/v1/dump/data', handler: dumpData },
  { method: 'GET', path: '/v1/dump/stats', handler: dumpStats },
  // keepvs addition: the bfd_instance sessions keepvs -f runs (docs/api.md).
  { method: 'GET', path: '/v1/bfd', handler: bfdSessions },
  // GET /metrics is answered by the server itself (src/api/server.ts), which owns the collector.
];
