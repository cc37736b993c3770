// Interop: a third-party app's backend, written from the vendor's pages with Node's http and
// the npm peer @wecom/crypto only, gets a corp token against `zonelab serve` the vendor's way
// and uses it:
//   its command URL (指令回调URL) is verified and receives suite_ticket, checked and decrypted
//   with @wecom/crypto (receiveid = suite_id, doc 14946) and answered "success" -> POST
//   service/get_suite_token (doc 14939) -> POST service/get_corp_token with the
//   permanent_code serve printed (doc 14944) -> chatdata/sync_call_program with that token.
// The credentials come from serve's banner (and are checked against /_zonelab/state).
// usage: node external_provider.js <zonelab> <vendor_style_program>
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { spawn } = require('child_process');
const wecom = require(path.join(__dirname, 'node_modules', '@wecom', 'crypto'));

const ZONELAB = process.argv[2];
const PROGRAM = process.argv[3];
const OVERALL_MS = 50000; // ctest TIMEOUT is 60 s: fail clearly before it kills us
const STEP_MS = 20000;

if (!ZONELAB || !PROGRAM) {
  console.error('usage: node external_provider.js <zonelab> <vendor_style_program>');
  process.exit(2);
}

let zl = null; // the zonelab child
let zlExit = null;
const zlExited = new Promise((resolve) => {
  zlExit = resolve;
});
let zlErr = '';
let base = '';
let tmpDir = null;
let server = null;

function cleanup() {
  if (server) {
    server.closeAllConnections();
    server.close();
  }
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
}

let failing = false;
async function fail(why) {
  if (failing) return;
  failing = true;
  console.error(`external_provider: FAIL: ${why}`);
  if (base) {
    try {
      const j = await request('GET', '/_zonelab/journal?limit=100000', null, 3000);
      console.error('external_provider: zonelab journal (last 30):');
      for (const e of (j.entries || []).slice(-30)) console.error('  ' + JSON.stringify(e));
    } catch (e) {
      /* best effort */
    }
  }
  if (zlErr) console.error('external_provider: zonelab stderr (tail):\n' + zlErr.slice(-4000));
  if (zl && zl.exitCode === null && zl.signalCode === null) {
    zl.kill('SIGTERM');
    const t = setTimeout(() => zl.kill('SIGKILL'), 3000);
    await zlExited;
    clearTimeout(t);
  }
  cleanup();
  process.exit(1);
}

function check(cond, why) {
  if (!cond) throw new Error(why);
}

const overall = setTimeout(() => fail(`not finished after ${OVERALL_MS / 1000} s`), OVERALL_MS);

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p,
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

// One HTTP call to zonelab with a JSON body (or none); the JSON answer.
function request(method, pathAndQuery, body, ms = STEP_MS) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const data = body === null ? null : Buffer.from(JSON.stringify(body));
      const req = http.request(
        base + pathAndQuery,
        {
          method,
          agent: false,
          headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {},
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve(JSON.parse(text));
            } catch (e) {
              reject(new Error(`${method} ${pathAndQuery}: HTTP ${res.statusCode}, not JSON: ${text.slice(0, 200)}`));
            }
          });
        }
      );
      req.on('error', (e) => reject(new Error(`${method} ${pathAndQuery}: ${e.message}`)));
      if (data) req.write(data);
      req.end();
    }),
    ms,
    `${method} ${pathAndQuery}`
  );
}

// The flat XML WeCom sends: <xml><Name><![CDATA[v]]></Name><Num>1</Num>...</xml>.
function xmlFields(xml) {
  const out = {};
  const inner = /^<xml>([\s\S]*)<\/xml>\s*$/.exec(xml);
  if (!inner) return null;
  const re = /<([A-Za-z][A-Za-z0-9_]*)>([\s\S]*?)<\/\1>/g;
  let m;
  while ((m = re.exec(inner[1]))) out[m[1]] = m[2].replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1');
  return out;
}

// ---- the provider's command URL ----

const suite = {}; // suite_id, token, aesKey: what the provider configured for its suite
const seen = { verifications: 0, tickets: [], errors: [] };
let onTicket = null;
let onRefused = null;
const ticketed = new Promise((resolve, reject) => {
  onTicket = resolve;
  onRefused = reject;
});
ticketed.catch(() => {});

function handleCommand(req, res, body) {
  const u = new URL(req.url, 'http://x');
  const q = (k) => u.searchParams.get(k);
  const sig = q('msg_signature');
  const ts = q('timestamp');
  const nonce = q('nonce');
  const answer = (status, text) => {
    res.writeHead(status, { 'Content-Type': 'text/plain' });
    res.end(text);
  };
  const refuse = (why) => {
    seen.errors.push(`${req.method} ${req.url}: ${why}`);
    answer(400, why);
    onRefused(new Error(`the command URL refused ${req.method}: ${why}`));
  };
  if (u.pathname !== '/suite/receive') return answer(404, '');
  if (!sig || !ts || !nonce) return refuse('msg_signature, timestamp and nonce are required');

  if (req.method === 'GET') {
    const echostr = q('echostr');
    if (!echostr) return refuse('echostr missing');
    if (wecom.getSignature(suite.token, ts, nonce, echostr) !== sig)
      return refuse('URL verification: msg_signature does not match');
    let d;
    try {
      d = wecom.decrypt(suite.aesKey, echostr);
    } catch (e) {
      return refuse(`URL verification: echostr does not decrypt: ${e.message}`);
    }
    // "第三方事件的回调，表示suiteid" (doc 12976)
    if (d.id !== suite.suite_id) return refuse(`URL verification: receiveid ${JSON.stringify(d.id)}`);
    seen.verifications++;
    return answer(200, d.message);
  }

  if (req.method === 'POST') {
    const outer = xmlFields(body);
    if (!outer || !outer.Encrypt) return refuse(`no <Encrypt> in the body: ${body.slice(0, 200)}`);
    if (wecom.getSignature(suite.token, ts, nonce, outer.Encrypt) !== sig)
      return refuse('msg_signature does not match the <Encrypt> text');
    let d;
    try {
      d = wecom.decrypt(suite.aesKey, outer.Encrypt);
    } catch (e) {
      return refuse(`<Encrypt> does not decrypt: ${e.message}`);
    }
    if (d.id !== suite.suite_id) return refuse(`receiveid ${JSON.stringify(d.id)}, want the suite_id`);
    const f = xmlFields(d.message);
    if (!f) return refuse(`plaintext is not <xml>: ${d.message.slice(0, 200)}`);
    // "服务商在收到推送后都必须直接返回字符串 "success"" (doc 14946)
    answer(200, 'success');
    if (f.InfoType === 'suite_ticket') {
      seen.tickets.push({ outer, fields: f, plain: d.message, verifiedBefore: seen.verifications });
      onTicket(seen.tickets[seen.tickets.length - 1]);
    }
    return undefined;
  }
  return answer(405, '');
}

function startServer() {
  return new Promise((resolve, reject) => {
    server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        try {
          handleCommand(req, res, Buffer.concat(chunks).toString('utf8'));
        } catch (e) {
          seen.errors.push(`${req.method} ${req.url}: ${e.stack}`);
          res.writeHead(500);
          res.end();
        }
      });
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

// ---- zonelab ----

function startZonelab(worldFile) {
  const quoted = "'" + PROGRAM.replace(/'/g, "'\\''") + "'";
  zl = spawn(
    ZONELAB,
    ['serve', '--world', worldFile, '--port', '0', '--program', `PORT=$ZONELAB_PORT exec ${quoted}`],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  );
  zl.on('exit', (code, signal) => zlExit({ code, signal }));
  zl.stderr.on('data', (c) => {
    zlErr += c.toString('utf8');
    if (zlErr.length > 1 << 20) zlErr = zlErr.slice(-(1 << 19));
  });
  return new Promise((resolve, reject) => {
    let out = '';
    zl.on('error', (e) => reject(new Error(`cannot start ${ZONELAB}: ${e.message}`)));
    zlExited.then(({ code, signal }) =>
      reject(new Error(`zonelab exited (code ${code}, signal ${signal}) before "zonelab: ready"`))
    );
    zl.stdout.on('data', (c) => {
      out += c.toString('utf8');
      const m = /^zonelab: listening on (http:\/\/\S+)$/m.exec(out);
      if (m) base = m[1];
      if (/^zonelab: ready$/m.test(out)) {
        if (!base) reject(new Error(`"zonelab: ready" without a listening line:\n${out}`));
        else resolve(out);
      }
    });
  });
}

// name=value pairs of the banner line that starts with prefix.
function bannerLine(banner, prefix, where) {
  const line = banner.split('\n').find((l) => l.startsWith(prefix) && l.includes(where));
  check(line, `the banner has no line "${prefix}... ${where}":\n${banner}`);
  const out = {};
  for (const m of line.matchAll(/([a-z_]+)=(\S*)/g)) out[m[1]] = m[2];
  return out;
}

// ---- the flow ----

async function main() {
  const cbPort = await startServer();
  const commandUrl = `http://127.0.0.1:${cbPort}/suite/receive`;

  // A copy of the default world whose suite sends its command callbacks to us.
  const world = JSON.parse(
    fs.readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'worlds', 'default.json'), 'utf8')
  );
  const s = world.providers[0].suites[0];
  s.callback_url = commandUrl;
  Object.assign(suite, { suite_id: s.suite_id, token: s.token, aesKey: s.encoding_aes_key });
  const corp = world.corps[0];
  const a = corp.apps.find((x) => x.suite_id === s.suite_id);
  check(a, 'the default world has no app of its suite');
  const program = corp.programs.find((p) => p.agentids.includes(a.agentid));
  check(program, 'the default world has no program associated with the app');
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zonelab-external-provider-'));
  const worldFile = path.join(tmpDir, 'world.json');
  fs.writeFileSync(worldFile, JSON.stringify(world, null, 1));

  const banner = await withTimeout(startZonelab(worldFile), STEP_MS, '"zonelab: ready"');

  // What the provider's admin console would show, as serve prints it.
  const p = bannerLine(banner, 'zonelab: provider ', 'provider_secret=');
  const sl = bannerLine(banner, 'zonelab: suite ', `suite_id=${suite.suite_id} `);
  const al = bannerLine(banner, 'zonelab: app ', `suite_id=${suite.suite_id} `);
  check(p.corpid === world.providers[0].corpid, `banner provider corpid ${p.corpid}`);
  check(sl.suite_secret && sl.token === suite.token && sl.encoding_aes_key === suite.aesKey,
    `the banner's suite line does not match the world: ${JSON.stringify(sl)}`);
  check(sl.callback_url === commandUrl, `banner callback_url ${sl.callback_url}, want ${commandUrl}`);
  check(al.auth_corpid === corp.corpid && al.permanent_code, `banner app line: ${JSON.stringify(al)}`);
  const st = await request('GET', '/_zonelab/state', null);
  const sa = (st.apps || []).find((x) => x.suite_id === suite.suite_id);
  check(sa && sa.permanent_code === al.permanent_code && sa.auth_corpid === al.auth_corpid,
    `/_zonelab/state disagrees with the banner: ${JSON.stringify(sa)}`);

  // suite_ticket on our command URL, after it was verified.
  const t = await withTimeout(ticketed, STEP_MS, 'suite_ticket on the command URL');
  check(seen.errors.length === 0, `the command URL refused requests:\n  ${seen.errors.join('\n  ')}`);
  check(t.verifiedBefore >= 1, 'suite_ticket arrived before any URL verification GET');
  // "收到的数据包中ToUserName为产生事件的SuiteId，AgentID为空"
  check(t.outer.ToUserName === suite.suite_id, `outer ToUserName ${t.outer.ToUserName}`);
  check(!t.outer.AgentID, `outer AgentID ${JSON.stringify(t.outer.AgentID)}, want empty`);
  const f = t.fields;
  check(f.SuiteId === suite.suite_id, `SuiteId ${f.SuiteId}`);
  check(/^\d+$/.test(f.TimeStamp || ''), `TimeStamp ${f.TimeStamp}`);
  check(f.SuiteTicket && Buffer.byteLength(f.SuiteTicket) <= 512, `SuiteTicket ${f.SuiteTicket}`);
  check(
    t.plain.indexOf('<SuiteId>') < t.plain.indexOf('<InfoType>') &&
      t.plain.indexOf('<InfoType>') < t.plain.indexOf('<TimeStamp>') &&
      t.plain.indexOf('<TimeStamp>') < t.plain.indexOf('<SuiteTicket>'),
    `element order of doc 14947's example: ${t.plain}`
  );

  // get_suite_token: POST, everything in the body.
  const stok = await request('POST', '/cgi-bin/service/get_suite_token', {
    suite_id: suite.suite_id,
    suite_secret: sl.suite_secret,
    suite_ticket: f.SuiteTicket,
  });
  // "因历史原因，该接口在调用失败时才返回errcode。没返回errcode视为调用成功"
  check(!stok.errcode && typeof stok.suite_access_token === 'string' && stok.expires_in > 0,
    `get_suite_token: ${JSON.stringify(stok)}`);

  // get_corp_token with the permanent_code serve printed.
  const enc = encodeURIComponent;
  const ctok = await request(
    'POST',
    `/cgi-bin/service/get_corp_token?suite_access_token=${enc(stok.suite_access_token)}`,
    { auth_corpid: al.auth_corpid, permanent_code: al.permanent_code }
  );
  check(!ctok.errcode && typeof ctok.access_token === 'string' && ctok.expires_in > 0,
    `get_corp_token: ${JSON.stringify(ctok)}`);

  // "获取之后，就跟普通企业一样使用token调用API接口" (doc 14944)
  const call = await request('POST', `/cgi-bin/chatdata/sync_call_program?access_token=${enc(ctok.access_token)}`, {
    program_id: program.program_id,
    ability_id: 'invoke_sync_msg',
    request_data: JSON.stringify({ limit: 1 }),
  });
  check(call.errcode === 0 && typeof call.response_data === 'string', `sync_call_program: ${JSON.stringify(call)}`);
  const sync = JSON.parse(call.response_data);
  check(sync.errcode === 0 && Array.isArray(sync.msg_list), `invoke_sync_msg response_data: ${call.response_data.slice(0, 300)}`);

  // A suite token is not an access_token ("token类型用错", errcode 40014).
  const wrong = await request('POST', `/cgi-bin/chatdata/sync_call_program?access_token=${enc(stok.suite_access_token)}`, {
    program_id: program.program_id,
    ability_id: 'invoke_sync_msg',
    request_data: '{}',
  });
  check(wrong.errcode === 40014, `sync_call_program with the suite token: errcode ${wrong.errcode}, want 40014`);
  check(seen.errors.length === 0, `the command URL refused requests:\n  ${seen.errors.join('\n  ')}`);

  zl.kill('SIGTERM');
  const ex = await withTimeout(zlExited, 15000, 'zonelab to exit after SIGTERM');
  check(ex.code === 0, `zonelab exited with code ${ex.code}, signal ${ex.signal} after SIGTERM`);

  clearTimeout(overall);
  cleanup();
  console.log(
    `external_provider: ok: ${seen.verifications} URL verification(s), suite_ticket decrypted with ` +
      `@wecom/crypto, get_suite_token, get_corp_token (permanent_code from the banner), ` +
      `sync_call_program invoke_sync_msg (${sync.msg_list.length} message(s)), suite token on ` +
      `chatdata 40014, zonelab exit 0`
  );
}

main().catch((e) => fail(e.message));
