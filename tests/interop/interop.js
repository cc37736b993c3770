// Interop: zonelab's WXBizMsgCrypt (C, through wxcrypt_peer) against the
// independent npm package @wecom/crypto, over seeded random cases.
// usage: node interop.js <wxcrypt_peer> [cases] [seed]
'use strict';
const path = require('path');
const { spawnSync } = require('child_process');
const wecom = require(path.join(__dirname, 'node_modules', '@wecom', 'crypto'));

const peer = process.argv[2];
const cases = Number(process.argv[3] || 1000);
let seed = Number(process.argv[4] || 20261122) >>> 0;

// mulberry32: small, seeded, reproducible.
function rnd() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (s) => s[Math.floor(rnd() * s.length)];
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const alnum = (n) => Array.from({ length: n }, () => pick(ALNUM)).join('');
// Message alphabet: ASCII, XML/JSON specials, Chinese, an emoji (4 UTF-8 bytes).
const MSG = [...ALNUM, ...' <>&"\'\\/{}[]:,\n\t', ...'会话存档数据与智能专区', '😀'];
const message = (n) => Array.from({ length: n }, () => pick(MSG)).join('');

const list = [];
for (let i = 0; i < cases; i++) {
  const len = rnd() < 0.1 ? 0 : Math.floor(rnd() * (rnd() < 0.2 ? 2000 : 200));
  list.push({
    key: alnum(43),
    id: rnd() < 0.15 ? '' : alnum(1 + Math.floor(rnd() * 32)),
    msg: message(len),
    random: alnum(16),
    token: alnum(1 + Math.floor(rnd() * 32)),
    timestamp: String(1400000000 + Math.floor(rnd() * 400000000)),
    nonce: String(Math.floor(rnd() * 1e10)),
  });
}

// Node's side first: its ciphertexts (fixed random) are inputs for C.
const nodeEnc = list.map((c) => wecom.encrypt(c.key, c.msg, c.id, Buffer.from(c.random)));
const reqs = [];
list.forEach((c, i) => {
  reqs.push({ op: 'encrypt', key: c.key, id: c.id, msg: c.msg, random: null });
  reqs.push({ op: 'encrypt', key: c.key, id: c.id, msg: c.msg, random: c.random });
  reqs.push({ op: 'decrypt', key: c.key, id: c.id, enc: nodeEnc[i] });
  reqs.push({ op: 'sign', token: c.token, timestamp: c.timestamp, nonce: c.nonce, enc: nodeEnc[i] });
});
const run = spawnSync(peer, [], {
  input: reqs.map((r) => JSON.stringify(r)).join('\n') + '\n',
  maxBuffer: 1 << 28,
});
if (run.status !== 0) {
  process.stderr.write(run.stderr);
  console.error(`interop: peer exited with ${run.status}`);
  process.exit(1);
}
const res = run.stdout.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
if (res.length !== reqs.length) {
  console.error(`interop: ${reqs.length} requests, ${res.length} answers`);
  process.exit(1);
}

let passed = 0;
let failed = 0;
list.forEach((c, i) => {
  const [encRandom, encFixed, dec, sig] = res.slice(4 * i, 4 * i + 4);
  const errs = [];
  // (a) C encrypts with a fresh random prefix -> Node decrypts: message and id equal.
  if (encRandom.code !== 0) errs.push(`C encrypt failed ${encRandom.code}`);
  else {
    const d = wecom.decrypt(c.key, encRandom.out);
    if (d.message !== c.msg) errs.push('Node decrypt of C ciphertext: message differs');
    if (d.id !== c.id) errs.push(`Node decrypt of C ciphertext: id ${JSON.stringify(d.id)}`);
  }
  // (b) Same fixed random -> byte-identical ciphertext.
  if (encFixed.code !== 0 || encFixed.out !== nodeEnc[i]) errs.push('fixed-random ciphertext differs');
  // (c) C decrypts Node's ciphertext, strictly (receiveid checked).
  // An empty message with an empty receiveid leaves exactly 20 bytes, which the
  // strict rule (the official sample's) refuses with -40008; @wecom/crypto accepts it.
  if (c.msg === '' && c.id === '') {
    if (dec.code !== -40008) errs.push(`C decrypt of a 20-byte plaintext: code ${dec.code}, want -40008`);
  } else if (dec.code !== 0 || dec.msg !== c.msg) errs.push(`C decrypt of Node ciphertext: code ${dec.code}`);
  // (d) Signatures equal.
  const want = wecom.getSignature(c.token, c.timestamp, c.nonce, nodeEnc[i]);
  if (sig.code !== 0 || sig.sig !== want) errs.push(`signature ${sig.sig} != ${want}`);
  if (errs.length === 0) passed++;
  else {
    if (failed === 0) console.error(`first failing case #${i}: ${JSON.stringify(c)}\n  ${errs.join('\n  ')}`);
    failed++;
  }
});
console.log(`interop: ${cases} cases (C encrypt -> Node decrypt, fixed-random ciphertext, C decrypt, signature)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed === cases ? 0 : 1);
