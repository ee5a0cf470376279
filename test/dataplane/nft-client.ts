// The client side of the nft plane's namespace tests and benchmark, run inside the client
// namespace (`ip netns exec <ns> node nft-client.ts MODE …`); prints one JSON document.
//   http VIP N [SRC,SRC,…]   N sequential HTTP GETs, a new TCP connection each (round-robin over
//                            the source addresses when given): {"replies":["kfr1 198.18.0.10",…]}
//   hold VIP K MS            K long-lived connections to VIP:9000, each sending a line every 50 ms
//                            for MS ms: {"conns":[{"rs":"…","sent":n,"received":n,"error":null},…]}
//   udp VIP N                N datagrams to VIP:53 from N sockets: {"replies":[…]}
//   udp1 VIP N               N datagrams to VIP:53 from ONE connected socket (one 5-tuple; a reply
//                            counts only when it comes from VIP:port): {"replies":[…]}
import * as net from 'node:net';
import * as http from 'node:http';
import * as dgram from 'node:dgram';

const [mode, vip, a, b] = process.argv.slice(2);

const [vipHost, vipPort] = vip.includes(':') ? [vip.split(':')[0], Number(vip.split(':')[1])] : [vip, 80];

function get(src: string | undefined): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: vipHost, port: vipPort, path: '/', localAddress: src, agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve(body.trim()));
    });
    req.on('timeout', () => { req.destroy(); resolve('timeout'); });
    req.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
  });
}

async function httpMode(): Promise<void> {
  const n = Number(a);
  const srcs = b ? b.split(',') : [undefined];
  const replies: string[] = [];
  for (let i = 0; i < n; i++) replies.push(await get(srcs[i % srcs.length]));
  process.stdout.write(JSON.stringify({ replies }));
}

async function holdMode(): Promise<void> {
  const k = Number(a);
  const ms = Number(b);
  const conns = await Promise.all(Array.from({ length: k }, () => new Promise<{ rs: string; sent: number; received: number; error: string | null }>((resolve) => {
    const r = { rs: '', sent: 0, received: 0, error: null as string | null };
    const s = net.connect({ host: vipHost, port: vip.includes(':') ? vipPort : 9000 });
    let buf = '';
    let timer: ReturnType<typeof setInterval> | null = null;
    const end = setTimeout(() => { if (timer) clearInterval(timer); s.end(); }, ms);
    s.setEncoding('utf8');
    s.on('connect', () => {
      timer = setInterval(() => { s.write(`ping ${r.sent++}\n`); }, 50);
    });
    s.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const name = line.split(' ')[0];
        if (r.rs === '') r.rs = name;
        else if (r.rs !== name) r.error = `moved from ${r.rs} to ${name}`;
        r.received++;
      }
    });
    s.on('error', (e) => { r.error = (e as NodeJS.ErrnoException).code ?? e.message; });
    s.on('close', () => { clearTimeout(end); if (timer) clearInterval(timer); resolve(r); });
  })));
  process.stdout.write(JSON.stringify({ conns }));
}

async function udpMode(): Promise<void> {
  const n = Number(a);
  const replies: string[] = [];
  for (let i = 0; i < n; i++) {
    replies.push(await new Promise<string>((resolve) => {
      const s = dgram.createSocket('udp4');
      const t = setTimeout(() => { s.close(); resolve('timeout'); }, 2000);
      s.on('message', (m) => { clearTimeout(t); s.close(); resolve(m.toString().trim()); });
      s.send('q', vip.includes(':') ? vipPort : 53, vipHost);
    }));
  }
  process.stdout.write(JSON.stringify({ replies }));
}

async function udpOneSocketMode(): Promise<void> {
  const n = Number(a);
  const replies: string[] = [];
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.connect(vip.includes(':') ? vipPort : 53, vipHost, () => resolve()));
  let pending: ((m: string) => void) | null = null;
  s.on('message', (m) => { pending?.(m.toString().trim()); });
  for (let i = 0; i < n; i++) {
    replies.push(await new Promise<string>((resolve) => {
      const t = setTimeout(() => { pending = null; resolve('timeout'); }, 2000);
      pending = (m) => { clearTimeout(t); pending = null; resolve(m); };
      s.send('q');
    }));
  }
  s.close();
  process.stdout.write(JSON.stringify({ replies }));
}

await (mode === 'http' ? httpMode() : mode === 'hold' ? holdMode() : mode === 'udp1' ? udpOneSocketMode() : udpMode());
