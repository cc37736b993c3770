// Interop: an external app, written with Node's http and the npm peer @wecom/crypto only,
// runs the whole data-zone flow against `zonelab serve`, using nothing but the vendor app
// API, the control face (/_zonelab/) and its own callback URL:
//   gettoken -> set_receive_callback -> a new message (control face) -> the program gets
//   conversation_new_message and calls spec_notify_app -> URL verification GET and the
//   encrypted program_notify POST on our callback URL (checked and decrypted with
//   @wecom/crypto) -> sync_call_program with that notify_id.
// usage: node external_app.js <zonelab> <vendor_style_program>
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
const MSGID = 'ext_app_0001';

if (!ZONELAB || !PROGRAM) {
  console.error('usage: node external_app.js <zonelab> <vendor_style_program>');
  process.exit(2);
}

let zl = null; // the zonelab child
let zlExit = null; // {code, signal} once it exited
const zlExited = new Promise((resolve) => {
  zlExit = resolve;
});
let zlErr = ''; // zonelab's stderr (its program's log goes there too)
let base = ''; // http://127.0.0.1:PORT of zonelab
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
  console.error(`external_app: FAIL: ${why}`);
  if (base) {
    // The emulator's own account of the callback side, when it still answers.
    try {
      const j = await request('GET', '/_zonelab/journal?limit=100000', null, 3000);
      const shown = (j.entries || []).filter((e) => e.face !== 'control' || e.kind !== 'start');
      console.error('external_app: zonelab journal (last 30):');
      for (const e of shown.slice(-30)) console.error('  ' + JSON.stringify(e));
    } catch (e) {
      /* best effort */
    }
  }
  if (zlErr) console.error('external_app: zonelab stderr (tail):\n' + zlErr.slice(-4000));
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

// One HTTP call to zonelab; a JSON answer is parsed. A new connection per call (agent: false).
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
            let json;
            try {
              json = JSON.parse(text);
            } catch (e) {
              reject(new Error(`${method} ${pathAndQuery}: HTTP ${res.statusCode}, not JSON: ${text.slice(0, 200)}`));
              return;
            }
            json.__status = res.statusCode;
            resolve(json);
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
  while ((m = re.exec(inner[1]))) {
    out[m[1]] = m[2].replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1');
  }
  return out;
}

// ---- the app's callback server ----

const app = {}; // filled from the world: corpid, agentid, secret, token, aesKey
const seen = { verifications: 0, notifies: [], errors: [] };
let onNotify = null;
let onRefused = null; // the first refused callback request ends the wait for program_notify
const notified = new Promise((resolve, reject) => {
  onNotify = resolve;
  onRefused = reject;
});
notified.catch(() => {}); // may be refused before anyone waits

function handleCallback(req, res, body) {
  const u = new URL(req.url, 'http://x');
  const q = (k) => u.searchParams.get(k); // URL-decoded (echostr carries + / =)
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
    onRefused(new Error(`the callback server refused ${req.method} ${u.pathname}: ${why}`));
  };
  if (u.pathname !== '/callback') return answer(404, '');
  if (!sig || !ts || !nonce) return refuse('msg_signature, timestamp and nonce are required');

  if (req.method === 'GET') {
    // URL verification: signature over echostr, decrypt, answer the plaintext alone.
    const echostr = q('echostr');
    if (!echostr) return refuse('echostr missing');
    if (wecom.getSignature(app.token, ts, nonce, echostr) !== sig)
      return refuse('URL verification: msg_signature does not match');
    let d;
    try {
      d = wecom.decrypt(app.aesKey, echostr);
    } catch (e) {
      return refuse(`URL verification: echostr does not decrypt: ${e.message}`);
    }
    if (d.id !== app.corpid) return refuse(`URL verification: receiveid ${JSON.stringify(d.id)}`);
    seen.verifications++;
    return answer(200, d.message);
  }

  if (req.method === 'POST') {
    const outer = xmlFields(body);
    if (!outer || !outer.Encrypt) return refuse(`no <Encrypt> in the body: ${body.slice(0, 200)}`);
    if (wecom.getSignature(app.token, ts, nonce, outer.Encrypt) !== sig)
      return refuse('program_notify: msg_signature does not match the <Encrypt> text');
    let d;
    try {
      d = wecom.decrypt(app.aesKey, outer.Encrypt);
    } catch (e) {
      return refuse(`program_notify: <Encrypt> does not decrypt: ${e.message}`);
    }
    if (d.id !== app.corpid) return refuse(`program_notify: receiveid ${JSON.stringify(d.id)}`);
    const f = xmlFields(d.message);
    if (!f) return refuse(`program_notify: plaintext is not <xml>: ${d.message.slice(0, 200)}`);
    seen.notifies.push({ outer, plain: d.message, fields: f, verifiedBefore: seen.verifications });
    answer(200, '');
    onNotify(seen.notifies[seen.notifies.length - 1]);
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
          handleCallback(req, res, Buffer.concat(chunks).toString('utf8'));
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

// ---- the flow ----

async function main() {
  const cbPort = await startServer();
  const callbackUrl = `http://127.0.0.1:${cbPort}/callback`;

  // A copy of the default world whose app calls back to us.
  const world = JSON.parse(
    fs.readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'worlds', 'default.json'), 'utf8')
  );
  const corp = world.corps[0];
  const a = corp.apps[0];
  const program = corp.programs.find((p) => p.agentids.includes(a.agentid));
  check(program, 'the default world has no program associated with its app');
  a.callback_url = callbackUrl;
  Object.assign(app, {
    corpid: corp.corpid,
    agentid: a.agentid,
    secret: a.secret,
    token: a.token,
    aesKey: a.encoding_aes_key,
  });
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zonelab-external-app-'));
  const worldFile = path.join(tmpDir, 'world.json');
  fs.writeFileSync(worldFile, JSON.stringify(world, null, 1));

  const banner = await withTimeout(startZonelab(worldFile), STEP_MS, '"zonelab: ready"');
  check(
    banner.includes(`corpid=${app.corpid} agentid=${app.agentid} corpsecret=${app.secret}`),
    `the banner does not show the world's app credentials:\n${banner}`
  );

  // gettoken: a wrong secret first, then the right one.
  const enc = encodeURIComponent;
  const bad = await request('GET', `/cgi-bin/gettoken?corpid=${enc(app.corpid)}&corpsecret=${enc(app.secret + 'x')}`, null);
  check(bad.errcode === 40001, `gettoken with a wrong secret: errcode ${bad.errcode}, want 40001`);
  const tok = await request('GET', `/cgi-bin/gettoken?corpid=${enc(app.corpid)}&corpsecret=${enc(app.secret)}`, null);
  check(
    tok.errcode === 0 && typeof tok.access_token === 'string' && tok.access_token && tok.expires_in > 0,
    `gettoken: ${JSON.stringify(tok)}`
  );
  const chatdata = (name, body) =>
    request('POST', `/cgi-bin/chatdata/${name}?access_token=${enc(tok.access_token)}`, body);

  const src = await chatdata('set_receive_callback', { program_id: program.program_id });
  check(src.errcode === 0, `set_receive_callback: ${JSON.stringify(src)}`);

  // A new message, through the control face; send_time defaults to the emulator's now.
  const arch = await request('POST', '/_zonelab/messages', {
    messages: [
      {
        msgid: MSGID,
        sender: { type: 1, id: 'zhangsan' },
        receivers: [{ type: 1, id: 'lisi' }],
        msgtype: 1,
        content: { content: 'hello from an external app' },
      },
    ],
  });
  check(arch.__status === 200 && arch.ok === true && arch.archived === 1, `/_zonelab/messages: ${JSON.stringify(arch)}`);
  const evs = (arch.events || []).filter((e) => e.msgid === MSGID && e.program_id === program.program_id);
  check(evs.length === 1 && evs[0].token, `/_zonelab/messages reported no event for ${MSGID}: ${JSON.stringify(arch)}`);
  const eventToken = evs[0].token;

  // The program's spec_notify_app reaches our callback URL, after URL verification.
  const n = await withTimeout(notified, STEP_MS, 'program_notify on the callback URL');
  check(seen.errors.length === 0, `the callback server refused requests:\n  ${seen.errors.join('\n  ')}`);
  check(n.verifiedBefore >= 1, 'program_notify arrived before any URL verification GET');
  check(n.outer.ToUserName === app.corpid, `outer ToUserName ${n.outer.ToUserName}`);
  if (n.outer.AgentID !== undefined)
    check(n.outer.AgentID === String(app.agentid), `outer AgentID ${n.outer.AgentID}`);
  const f = n.fields;
  check(f.ToUserName === app.corpid, `ToUserName ${f.ToUserName}, want ${app.corpid}`);
  check(f.FromUserName === 'sys', `FromUserName ${f.FromUserName}, want sys`);
  check(f.MsgType === 'event', `MsgType ${f.MsgType}, want event`);
  check(f.Event === 'program_notify', `Event ${f.Event}, want program_notify`);
  check(/^\d+$/.test(f.CreateTime || ''), `CreateTime ${f.CreateTime}`);
  check(f.NotifyId && Buffer.byteLength(f.NotifyId) <= 128, `NotifyId ${JSON.stringify(f.NotifyId)}`);
  check(f.AgentID === undefined, 'the program_notify plaintext carries an AgentID');
  check(f.NotifyScene === undefined || /^\d+$/.test(f.NotifyScene), `NotifyScene ${f.NotifyScene}`);
  const notifyId = f.NotifyId;

  // sync_call_program with that notify_id: the program proxies sync_msg (the event's token).
  const call = await chatdata('sync_call_program', {
    program_id: program.program_id,
    ability_id: 'invoke_sync_msg',
    notify_id: notifyId,
    request_data: JSON.stringify({ token: eventToken, limit: 1000 }),
  });
  check(call.errcode === 0 && typeof call.response_data === 'string', `sync_call_program invoke_sync_msg: ${JSON.stringify(call)}`);
  const sync = JSON.parse(call.response_data);
  check(sync.errcode === 0 && Array.isArray(sync.msg_list), `invoke_sync_msg response_data: ${call.response_data.slice(0, 300)}`);
  const mine = sync.msg_list.filter((m) => m.msgid === MSGID);
  check(
    mine.length === 1 && mine[0].sender.id === 'zhangsan' && mine[0].msgtype === 1 &&
      mine[0].service_encrypt_info && mine[0].service_encrypt_info.encrypted_secret_key,
    `invoke_sync_msg did not return ${MSGID} (${sync.msg_list.length} messages: ` +
      `${sync.msg_list.map((m) => m.msgid).join(',')})`
  );

  // get_callback_data with the same notify_id: the program's answer comes back unchanged.
  const cbd = await chatdata('sync_call_program', {
    program_id: program.program_id,
    ability_id: 'get_callback_data',
    notify_id: notifyId,
    request_data: '{}',
  });
  check(cbd.errcode === 0 && typeof cbd.response_data === 'string', `sync_call_program get_callback_data: ${JSON.stringify(cbd)}`);
  const data = JSON.parse(cbd.response_data);
  check(typeof data.errcode === 'number', `get_callback_data response_data: ${cbd.response_data}`);
  if (data.errcode === 0)
    check(
      data.event_type === 'conversation_new_message' && data.conversation_new_message &&
        data.conversation_new_message.token === eventToken,
      `get_callback_data returned another event: ${cbd.response_data}`
    );

  // A notify_id that was never issued.
  const bogus = await chatdata('sync_call_program', {
    program_id: program.program_id,
    ability_id: 'invoke_sync_msg',
    notify_id: 'bogus-notify-id-0000',
    request_data: JSON.stringify({ limit: 1 }),
  });
  check(bogus.errcode === 710646, `sync_call_program with a bogus notify_id: errcode ${bogus.errcode}, want 710646`);

  check(seen.notifies.length === 1, `${seen.notifies.length} program_notify POSTs, want 1`);
  check(seen.errors.length === 0, `the callback server refused requests:\n  ${seen.errors.join('\n  ')}`);

  // Stop: SIGTERM, clean exit 0.
  zl.kill('SIGTERM');
  const ex = await withTimeout(zlExited, 15000, 'zonelab to exit after SIGTERM');
  check(ex.code === 0, `zonelab exited with code ${ex.code}, signal ${ex.signal} after SIGTERM`);

  clearTimeout(overall);
  cleanup();
  console.log(
    `external_app: ok: gettoken (wrong secret 40001), set_receive_callback, 1 message archived, ` +
      `${seen.verifications} URL verification(s), program_notify ${notifyId} decrypted with @wecom/crypto, ` +
      `invoke_sync_msg returned ${MSGID} (${sync.msg_list.length} messages), ` +
      `get_callback_data answered errcode ${data.errcode}, bogus notify_id 710646, zonelab exit 0`
  );
}

main().catch((e) => fail(e.message));
