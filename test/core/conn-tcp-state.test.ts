// The IPVS protocol state machines and their timeouts. Expected states, timeouts and activity come
// from net/netfilter/ipvs/ip_vs_proto_tcp.c (tcp_states, tcp_timeouts, tcp_state_active_table,
// set_tcp_state), ip_vs_proto_sctp.c (sctp_states, sctp_timeouts, sctp_events, set_sctp_state),
// ip_vs_proto_udp.c, ip_vs_proto.c (ip_vs_state_name) and ip_vs_ctl.c (ip_vs_set_timeout).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addr } from '../../src/core/addr.ts';
import { Dest } from '../../src/core/dest.ts';
import type { Service } from '../../src/core/service.ts';
import { type Conn, type ConnDirection, type ConnProtocol, CONN_F } from '../../src/core/conn/conn.ts';
import {
  TCP_S, TCP_FLAG, TCP_STATE_NAMES, tcpEventIndex, tcpTransition, tcpStateActive, tcpStateName,
} from '../../src/core/conn/tcp-state.ts';
import { SCTP_CHUNK, SCTP_EVENT, SCTP_STATE_NAMES, sctpEvent } from '../../src/core/conn/sctp-state.ts';
import { Timeouts } from '../../src/core/conn/timeouts.ts';
import { type ConnPacket, connStateName, connTransition, setConnState } from '../../src/core/conn/protocol.ts';

function newDest(): Dest {
  // The state machine only reaches the service through the scheduler's loadChanged hook.
  const svc = { scheduler: {} } as unknown as Service;
  return new Dest(svc, { addr: addr('198.18.1.10'), port: 80, fwd: 'masq', weight: 1, uThreshold: 0, lThreshold: 0 });
}

/** A fresh entry as ip_vs_conn_new leaves it: state 0, 3 s, INACTIVE (+NOOUTPUT unless NAT), counted inactive. */
function newConn(protocol: ConnProtocol, dest: Dest | null, noOutput: boolean, flags = 0): Conn {
  if (dest) dest.inactConns++;
  return {
    protocol, caddr: addr('198.18.0.100'), cport: 40000, vaddr: addr('198.18.0.1'), vport: 80,
    daddr: addr('198.18.1.10'), dport: 80, dest,
    flags: flags | CONN_F.INACTIVE | (noOutput ? CONN_F.NOOUTPUT : 0),
    state: 0, timeout: 3000, expires: 3000, control: null, nControl: 0,
    inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, slot: -1,
  };
}

const { SYN, FIN, ACK, RST, PSH } = TCP_FLAG;
const tcp = (bits: number): ConnPacket => ({
  syn: (bits & SYN) !== 0, fin: (bits & FIN) !== 0, ack: (bits & ACK) !== 0, rst: (bits & RST) !== 0,
});

interface Step {
  readonly desc: string;
  readonly dir: ConnDirection;
  readonly flags: number;
  /** Expected state name and timeout in seconds (tcp_timeouts). */
  readonly state: string;
  readonly timeout: number;
  /** Counted in ActiveConn after the packet (tcp_state_active_table). */
  readonly active: boolean;
}

interface Walk {
  readonly desc: string;
  readonly noOutput: boolean;
  readonly steps: readonly Step[];
}

const handshake: Step[] = [
  { desc: 'client SYN', dir: 'input', flags: SYN, state: 'SYN_RECV', timeout: 60, active: true },
  { desc: 'server SYN+ACK (SYN wins over ACK)', dir: 'output', flags: SYN | ACK, state: 'SYN_RECV', timeout: 60, active: true },
  { desc: 'client ACK', dir: 'input', flags: ACK, state: 'ESTABLISHED', timeout: 900, active: true },
  { desc: 'client data', dir: 'input', flags: ACK | PSH, state: 'ESTABLISHED', timeout: 900, active: true },
  { desc: 'server data', dir: 'output', flags: ACK | PSH, state: 'ESTABLISHED', timeout: 900, active: true },
];

const walks: Walk[] = [
  {
    desc: 'NAT, client closes first',
    noOutput: false,
    steps: [
      ...handshake,
      { desc: 'client FIN (FIN wins over ACK)', dir: 'input', flags: FIN | ACK, state: 'CLOSE_WAIT', timeout: 60, active: false },
      { desc: 'server ACKs the FIN', dir: 'output', flags: ACK, state: 'CLOSE_WAIT', timeout: 60, active: false },
      { desc: 'server FIN', dir: 'output', flags: FIN | ACK, state: 'TIME_WAIT', timeout: 120, active: false },
      { desc: 'client final ACK', dir: 'input', flags: ACK, state: 'TIME_WAIT', timeout: 120, active: false },
    ],
  },
  {
    desc: 'NAT, server closes first',
    noOutput: false,
    steps: [
      ...handshake,
      { desc: 'server FIN', dir: 'output', flags: FIN | ACK, state: 'FIN_WAIT', timeout: 120, active: false },
      { desc: 'client ACKs the FIN', dir: 'input', flags: ACK, state: 'FIN_WAIT', timeout: 120, active: false },
      { desc: 'client FIN', dir: 'input', flags: FIN | ACK, state: 'TIME_WAIT', timeout: 120, active: false },
      { desc: 'server final ACK', dir: 'output', flags: ACK, state: 'TIME_WAIT', timeout: 120, active: false },
    ],
  },
  {
    desc: 'NAT, client resets an established conn',
    noOutput: false,
    steps: [
      ...handshake,
      { desc: 'client RST (RST wins over ACK)', dir: 'input', flags: RST | ACK, state: 'CLOSE', timeout: 10, active: false },
      { desc: 'a late ACK in CLOSE stays CLOSE', dir: 'input', flags: ACK, state: 'CLOSE', timeout: 10, active: false },
    ],
  },
  {
    desc: 'NAT, server refuses (RST to the SYN)',
    noOutput: false,
    steps: [
      { desc: 'client SYN', dir: 'input', flags: SYN, state: 'SYN_RECV', timeout: 60, active: true },
      { desc: 'server RST+ACK', dir: 'output', flags: RST | ACK, state: 'CLOSE', timeout: 10, active: false },
    ],
  },
  {
    desc: 'NAT, a client RST while in SYN_RECV keeps SYN_RECV (table quirk)',
    noOutput: false,
    steps: [
      { desc: 'client SYN', dir: 'input', flags: SYN, state: 'SYN_RECV', timeout: 60, active: true },
      { desc: 'client RST', dir: 'input', flags: RST, state: 'SYN_RECV', timeout: 60, active: true },
    ],
  },
  {
    desc: 'half-open: a SYN that never completes',
    noOutput: false,
    steps: [
      { desc: 'client SYN', dir: 'input', flags: SYN, state: 'SYN_RECV', timeout: 60, active: true },
      { desc: 'client retransmits the SYN', dir: 'input', flags: SYN, state: 'SYN_RECV', timeout: 60, active: true },
    ],
  },
  {
    desc: 'a segment with none of SYN/FIN/ACK/RST skips the table and lands in CLOSE',
    noOutput: false,
    steps: [
      ...handshake,
      { desc: 'PSH only', dir: 'input', flags: PSH, state: 'CLOSE', timeout: 10, active: false },
    ],
  },
  {
    desc: 'DR (NOOUTPUT: INPUT_ONLY table), client closes; the server FIN is never seen',
    noOutput: true,
    steps: [
      { desc: 'client SYN', dir: 'input', flags: SYN, state: 'SYN_RECV', timeout: 60, active: true },
      { desc: 'client ACK', dir: 'input', flags: ACK, state: 'ESTABLISHED', timeout: 900, active: true },
      { desc: 'client data', dir: 'input', flags: ACK | PSH, state: 'ESTABLISHED', timeout: 900, active: true },
      { desc: 'client FIN: FIN_WAIT in INPUT_ONLY (INPUT would give CLOSE_WAIT)', dir: 'input', flags: FIN | ACK, state: 'FIN_WAIT', timeout: 120, active: false },
      { desc: 'client ACKs the server FIN it got directly', dir: 'input', flags: ACK, state: 'FIN_WAIT', timeout: 120, active: false },
    ],
  },
  {
    desc: 'DR, client resets',
    noOutput: true,
    steps: [
      { desc: 'client SYN', dir: 'input', flags: SYN, state: 'SYN_RECV', timeout: 60, active: true },
      { desc: 'client ACK', dir: 'input', flags: ACK, state: 'ESTABLISHED', timeout: 900, active: true },
      { desc: 'client RST', dir: 'input', flags: RST, state: 'CLOSE', timeout: 10, active: false },
    ],
  },
  {
    desc: 'NOOUTPUT conn that sees an OUTPUT packet switches to the INPUT/OUTPUT tables for good',
    noOutput: true,
    steps: [
      { desc: 'client SYN (INPUT_ONLY)', dir: 'input', flags: SYN, state: 'SYN_RECV', timeout: 60, active: true },
      { desc: 'server SYN+ACK clears NOOUTPUT', dir: 'output', flags: SYN | ACK, state: 'SYN_RECV', timeout: 60, active: true },
      { desc: 'client ACK', dir: 'input', flags: ACK, state: 'ESTABLISHED', timeout: 900, active: true },
      { desc: 'client FIN now uses INPUT: CLOSE_WAIT', dir: 'input', flags: FIN | ACK, state: 'CLOSE_WAIT', timeout: 60, active: false },
    ],
  },
];

test('TCP walks: state, timeout and active/inactive accounting per segment (set_tcp_state)', async (t) => {
  const timeouts = new Timeouts();
  for (const walk of walks) {
    await t.test(walk.desc, () => {
      const d = newDest();
      const c = newConn('tcp', d, walk.noOutput);
      assert.equal(connStateName(c), 'NONE');
      for (const s of walk.steps) {
        setConnState(c, s.dir, tcp(s.flags), timeouts);
        assert.equal(connStateName(c), s.state, s.desc);
        assert.equal(c.timeout, s.timeout * 1000, `${s.desc}: timeout`);
        assert.equal((c.flags & CONN_F.INACTIVE) === 0, s.active, `${s.desc}: INACTIVE flag`);
        assert.deepEqual([d.activeConns, d.inactConns], s.active ? [1, 0] : [0, 1], `${s.desc}: dest counts`);
      }
    });
  }
});

test('NOOUTPUT is cleared by the first OUTPUT packet only', () => {
  const timeouts = new Timeouts();
  const c = newConn('tcp', null, true);
  setConnState(c, 'input', tcp(SYN), timeouts);
  assert.notEqual(c.flags & CONN_F.NOOUTPUT, 0, 'input keeps NOOUTPUT');
  setConnState(c, 'output', tcp(SYN | ACK), timeouts);
  assert.equal(c.flags & CONN_F.NOOUTPUT, 0, 'output clears NOOUTPUT');
});

test('without a dest the INACTIVE flag is left alone (set_tcp_state only accounts when bound)', () => {
  const c = newConn('tcp', null, false);
  setConnState(c, 'input', tcp(SYN), new Timeouts());
  assert.equal(connStateName(c), 'SYN_RECV');
  assert.notEqual(c.flags & CONN_F.INACTIVE, 0);
});

test('entering ESTABLISHED marks the controlling template ASSURED (ip_vs_control_assure_ct)', () => {
  const timeouts = new Timeouts();
  const ct = newConn('tcp', null, false, CONN_F.TEMPLATE);
  const c = newConn('tcp', null, false);
  c.control = ct;
  assert.equal(connStateName(ct), 'NONE');
  setConnState(c, 'input', tcp(SYN), timeouts);
  assert.equal(connStateName(ct), 'NONE', 'SYN_RECV does not assure');
  setConnState(c, 'input', tcp(ACK), timeouts);
  assert.equal(connStateName(ct), 'ASSURED');
});

// tcp_states[] transcribed from ip_vs_proto_tcp.c; columns sNO sES sSS sSR sFW sTW sCL sCW sLA sLI sSA.
const KERNEL_TCP_TABLES: Record<'input' | 'output' | 'input-only', Record<'syn' | 'fin' | 'ack' | 'rst', string>> = {
  input: {
    syn: 'SR ES ES SR SR SR SR SR SR SR SR',
    fin: 'CL CW SS TW TW TW CL CW LA LI TW',
    ack: 'ES ES SS ES FW TW CL CW CL LI ES',
    rst: 'CL CL CL SR CL CL CL CL LA LI SR',
  },
  output: {
    syn: 'SS ES SS SR SS SS SS SS SS LI SR',
    fin: 'TW FW SS TW FW TW CL TW LA LI TW',
    ack: 'ES ES SS ES FW TW CL CW LA ES ES',
    rst: 'CL CL SS CL CL TW CL CL CL CL CL',
  },
  'input-only': {
    syn: 'SR ES ES SR SR SR SR SR SR SR SR',
    fin: 'CL FW SS TW FW TW CL CW LA LI TW',
    ack: 'ES ES SS ES FW TW CL CW CL LI ES',
    rst: 'CL CL CL SR CL CL CL CL LA LI CL',
  },
};
const ABBR = ['NO', 'ES', 'SS', 'SR', 'FW', 'TW', 'CL', 'CW', 'LA', 'LI', 'SA'];

test('tcpTransition reproduces all three kernel tables cell by cell', async (t) => {
  const eventFlags = { syn: SYN, fin: FIN, ack: ACK, rst: RST } as const;
  for (const [table, rows] of Object.entries(KERNEL_TCP_TABLES)) {
    for (const [event, row] of Object.entries(rows)) {
      await t.test(`${table} ${event}`, () => {
        const got = ABBR.map((_, state) => ABBR[tcpTransition(
          state, table === 'output' ? 'output' : 'input', table === 'input-only',
          eventFlags[event as keyof typeof eventFlags],
        )]).join(' ');
        assert.equal(got, row);
      });
    }
  }
});

test('event index from the flags: RST > SYN > FIN > ACK, none → -1 (tcp_state_idx)', () => {
  const rows: [string, number, number][] = [
    ['RST+SYN+FIN+ACK', RST | SYN | FIN | ACK, 3],
    ['SYN+FIN+ACK', SYN | FIN | ACK, 0],
    ['FIN+ACK', FIN | ACK, 1],
    ['ACK', ACK, 2],
    ['PSH', PSH, -1],
    ['nothing', 0, -1],
  ];
  for (const [desc, flags, idx] of rows) assert.equal(tcpEventIndex(flags), idx, desc);
});

test('TCP state names, default timeouts and activity (tcp_state_name_table, tcp_timeouts, tcp_state_active_table)', () => {
  const t = new Timeouts();
  const rows: [number, string, number, boolean][] = [
    [TCP_S.NONE, 'NONE', 2, false],
    [TCP_S.ESTABLISHED, 'ESTABLISHED', 900, true],
    [TCP_S.SYN_SENT, 'SYN_SENT', 120, true],
    [TCP_S.SYN_RECV, 'SYN_RECV', 60, true],
    [TCP_S.FIN_WAIT, 'FIN_WAIT', 120, false],
    [TCP_S.TIME_WAIT, 'TIME_WAIT', 120, false],
    [TCP_S.CLOSE, 'CLOSE', 10, false],
    [TCP_S.CLOSE_WAIT, 'CLOSE_WAIT', 60, false],
    [TCP_S.LAST_ACK, 'LAST_ACK', 30, false],
    [TCP_S.LISTEN, 'LISTEN', 120, false],
    [TCP_S.SYNACK, 'SYNACK', 120, true],
  ];
  assert.equal(TCP_STATE_NAMES.length, rows.length);
  for (const [state, name, timeout, active] of rows) {
    assert.equal(tcpStateName(state), name);
    assert.equal(t.tcp[state], timeout * 1000, name);
    assert.equal(tcpStateActive(state), active, name);
  }
  assert.equal(tcpStateName(11), 'ERR!');
});

test('--set changes exactly TCP ESTABLISHED, TCP FIN_WAIT and UDP; 0 = unchanged (ip_vs_set_timeout)', async (t) => {
  const rows: { desc: string; set: { tcp: number; tcpfin: number; udp: number }; get: [number, number, number] }[] = [
    { desc: 'defaults untouched by 0 0 0', set: { tcp: 0, tcpfin: 0, udp: 0 }, get: [900, 120, 300] },
    { desc: 'all three', set: { tcp: 3600, tcpfin: 30, udp: 60 }, get: [3600, 30, 60] },
    { desc: 'only tcpfin', set: { tcp: 0, tcpfin: 45, udp: 0 }, get: [900, 45, 300] },
    { desc: 'the maximum ipvsadm accepts', set: { tcp: 2678400, tcpfin: 0, udp: 0 }, get: [2678400, 120, 300] },
  ];
  for (const r of rows) {
    await t.test(r.desc, () => {
      const to = new Timeouts();
      const res = to.setTimeouts(r.set);
      assert.ok(res.ok);
      const g = to.getTimeouts();
      assert.deepEqual([g.tcp, g.tcpfin, g.udp], r.get);
      assert.equal(to.tcp[TCP_S.ESTABLISHED], r.get[0] * 1000);
      assert.equal(to.tcp[TCP_S.FIN_WAIT], r.get[1] * 1000);
      assert.equal(to.udp[0], r.get[2] * 1000);
      // Every other state keeps its default.
      assert.equal(to.tcp[TCP_S.TIME_WAIT], 120_000);
      assert.equal(to.tcp[TCP_S.CLOSE_WAIT], 60_000);
      assert.equal(to.tcp[TCP_S.SYN_RECV], 60_000);
      assert.equal(to.sctp[8], 900_000);
    });
  }
  await t.test('the new ESTABLISHED timeout applies to the next transition', () => {
    const to = new Timeouts();
    to.setTimeouts({ tcp: 7200, tcpfin: 0, udp: 0 });
    const c = newConn('tcp', null, false);
    setConnState(c, 'input', tcp(SYN), to);
    setConnState(c, 'input', tcp(ACK), to);
    assert.equal(c.timeout, 7_200_000);
  });
});

test('--set out of range is refused as a whole with SET_TIMEOUT_INVALID', async (t) => {
  const rows: { desc: string; set: { tcp: number; tcpfin: number; udp: number } }[] = [
    { desc: 'negative tcp', set: { tcp: -1, tcpfin: 0, udp: 0 } },
    { desc: 'udp above 31 days', set: { tcp: 10, tcpfin: 10, udp: 2678401 } },
    { desc: 'fractional tcpfin', set: { tcp: 10, tcpfin: 1.5, udp: 10 } },
  ];
  for (const r of rows) {
    await t.test(r.desc, () => {
      const to = new Timeouts();
      const res = to.setTimeouts(r.set);
      assert.equal(res.ok, false);
      if (!res.ok) {
        assert.equal(res.error.code, 'SET_TIMEOUT_INVALID');
        assert.equal(res.error.errno, 'EINVAL');
      }
      assert.deepEqual(to.getTimeouts(), { tcp: 900, tcpfin: 120, udp: 300 }, 'nothing applied');
    });
  }
});

test('UDP: one state "UDP", 300 s re-armed by every datagram, never active (ip_vs_proto_udp.c)', () => {
  const to = new Timeouts();
  const d = newDest();
  const c = newConn('udp', d, false);
  const ct = newConn('udp', null, false, CONN_F.TEMPLATE);
  c.control = ct;
  setConnState(c, 'input', {}, to);
  assert.equal(connStateName(c), 'UDP');
  assert.equal(c.timeout, 300_000);
  assert.deepEqual([d.activeConns, d.inactConns], [0, 1]);
  assert.equal(connStateName(ct), 'NONE', 'a request does not assure the template');
  setConnState(c, 'output', {}, to);
  assert.equal(connStateName(ct), 'ASSURED', 'a reply does');
  assert.deepEqual([d.activeConns, d.inactConns], [0, 1]);
});

test('SCTP association walks (sctp_states, sctp_timeouts, set_sctp_state)', async (t) => {
  const C = SCTP_CHUNK;
  const rows: { desc: string; noOutput: boolean; steps: [string, ConnDirection, number, number | undefined, string, number, boolean][] }[] = [
    {
      desc: 'NAT: setup, data, graceful shutdown',
      noOutput: false,
      steps: [
        ['client INIT', 'input', C.INIT, undefined, 'INIT1', 4, false],
        ['server INIT ACK', 'output', C.INIT_ACK, undefined, 'C-SENT', 61, false],
        ['client COOKIE ECHO', 'input', C.COOKIE_ECHO, undefined, 'C-REPLIED', 61, false],
        ['server COOKIE ACK', 'output', C.COOKIE_ACK, undefined, 'ESTABLISHED', 900, true],
        ['client DATA', 'input', C.DATA, undefined, 'ESTABLISHED', 900, true],
        ['server SACK counts as DATA', 'output', C.SACK, undefined, 'ESTABLISHED', 900, true],
        ['client SHUTDOWN', 'input', C.SHUTDOWN, undefined, 'S-RECEIVED', 61, false],
        ['server SHUTDOWN ACK', 'output', C.SHUTDOWN_ACK, undefined, 'S-ACK-SENT', 61, false],
        ['client SHUTDOWN COMPLETE', 'input', C.SHUTDOWN_COMPLETE, undefined, 'CLOSED', 61, false],
      ],
    },
    {
      desc: 'NAT: INIT refused with ABORT',
      noOutput: false,
      steps: [
        ['client INIT', 'input', C.INIT, undefined, 'INIT1', 4, false],
        ['server ABORT', 'output', C.ABORT, undefined, 'REJECTED', 4, false],
      ],
    },
    {
      desc: 'NAT: COOKIE ECHO bundled with ABORT counts as ABORT',
      noOutput: false,
      steps: [
        ['client INIT', 'input', C.INIT, undefined, 'INIT1', 4, false],
        ['server INIT ACK', 'output', C.INIT_ACK, undefined, 'C-SENT', 61, false],
        ['client COOKIE ECHO + ABORT', 'input', C.COOKIE_ECHO, C.ABORT, 'CLOSED', 61, false],
      ],
    },
    {
      desc: 'DR (INPUT_ONLY): COOKIE ECHO alone establishes',
      noOutput: true,
      steps: [
        ['client INIT', 'input', C.INIT, undefined, 'INIT1', 4, false],
        ['client COOKIE ECHO', 'input', C.COOKIE_ECHO, undefined, 'ESTABLISHED', 900, true],
        ['client chunk type 192 (FORWARD TSN) counts as DATA', 'input', 192, undefined, 'ESTABLISHED', 900, true],
        ['client ABORT', 'input', C.ABORT, undefined, 'CLOSED', 61, false],
      ],
    },
  ];
  for (const r of rows) {
    await t.test(r.desc, () => {
      const to = new Timeouts();
      const d = newDest();
      const c = newConn('sctp', d, r.noOutput);
      for (const [desc, dir, chunk, next, state, timeout, active] of r.steps) {
        setConnState(c, dir, { sctpChunk: chunk, sctpNextChunk: next }, to);
        assert.equal(connStateName(c), state, desc);
        assert.equal(c.timeout, timeout * 1000, `${desc}: timeout`);
        assert.deepEqual([d.activeConns, d.inactConns], active ? [1, 0] : [0, 1], `${desc}: dest counts`);
      }
    });
  }
});

test('SCTP chunk → event mapping (sctp_events)', () => {
  const E = SCTP_EVENT;
  const rows: [string, number, number | undefined, number][] = [
    ['DATA', 0, undefined, E.DATA], ['INIT', 1, undefined, E.INIT], ['INIT ACK', 2, undefined, E.INIT_ACK],
    ['SACK', 3, undefined, E.DATA], ['HEARTBEAT', 4, undefined, E.DATA], ['HEARTBEAT ACK', 5, undefined, E.DATA],
    ['ABORT', 6, undefined, E.ABORT], ['SHUTDOWN', 7, undefined, E.SHUTDOWN], ['SHUTDOWN ACK', 8, undefined, E.SHUTDOWN_ACK],
    ['ERROR', 9, undefined, E.ERROR], ['COOKIE ECHO', 10, undefined, E.COOKIE_ECHO], ['COOKIE ACK', 11, undefined, E.COOKIE_ACK],
    ['ECNE', 12, undefined, E.DATA], ['CWR', 13, undefined, E.DATA], ['SHUTDOWN COMPLETE', 14, undefined, E.SHUTDOWN_COMPLETE],
    ['AUTH (15) beyond the table', 15, undefined, E.DATA],
    ['COOKIE ACK + ABORT', 11, 6, E.ABORT], ['COOKIE ECHO + DATA', 10, 0, E.COOKIE_ECHO], ['DATA + ABORT stays DATA', 0, 6, E.DATA],
  ];
  for (const [desc, chunk, next, ev] of rows) assert.equal(sctpEvent(chunk, next), ev, desc);
  assert.equal(SCTP_STATE_NAMES.length, 14);
});

test('connTransition predicts without changing the entry', () => {
  const to = new Timeouts();
  const c = newConn('tcp', null, true);
  const p = connTransition(c, 'input', tcp(SYN), to);
  assert.deepEqual(p, { state: TCP_S.SYN_RECV, timeoutMs: 60_000 });
  assert.equal(c.state, 0);
  assert.notEqual(c.flags & CONN_F.NOOUTPUT, 0);
});

test('state names of templates and fwmark entries (ip_vs_state_name)', () => {
  const tpl = newConn('ip', null, false, CONN_F.TEMPLATE);
  assert.equal(connStateName(tpl), 'NONE');
  tpl.state = 1;
  assert.equal(connStateName(tpl), 'ASSURED');
  tpl.state = 2;
  assert.equal(connStateName(tpl), 'ERR!');
  const tcpTpl = newConn('tcp', null, false, CONN_F.TEMPLATE);
  assert.equal(connStateName(tcpTpl), 'NONE', 'a TCP template is named from the template table, not the TCP one');
});
