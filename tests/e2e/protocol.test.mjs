// End-to-end tests of the codexmcp server core: JSON-RPC 2.0 / MCP over stdio.
// Server binary: $CODEXMCP_BIN or <repo>/build/codexmcp.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { rawServer, connectSdk, serverBin, serverExists, withTimeout } from './lib/mcp.mjs';

const T = { timeout: 20000 };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'codexmcp-e2e-proto-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// The core tests must not need codex; point it somewhere harmless anyway.
const serverEnv = { ...process.env, CODEX_HOME: tmp };

if (!serverExists()) {
  test('server binary exists', () => {
    assert.fail(`codexmcp binary not found at ${serverBin()} (build it or set CODEXMCP_BIN)`);
  });
}

/** Run fn(srv) against a fresh raw server; always kills it afterwards. */
async function withServer(args, fn) {
  const srv = rawServer(args, serverEnv);
  try {
    return await fn(srv);
  } catch (err) {
    err.message += `\n--- server stderr ---\n${srv.stderr.slice(-4000)}`;
    throw err;
  } finally {
    await srv.dispose();
  }
}

/** Send raw bytes (caller includes "\n"), expect one error reply, then prove ping still works. */
async function expectError(srv, data, { code, codes, id = null, idOneOf, messageMatch } = {}) {
  await srv.send(data);
  const { msg, raw } = await srv.nextReply();
  const shown = typeof data === 'string' ? data.slice(0, 120) : `<${data.length} bytes>`;
  assert.equal(msg?.jsonrpc, '2.0', `reply to ${shown}: ${raw.slice(0, 300)}`);
  assert.ok(msg.error && typeof msg.error === 'object', `expected an error reply to ${shown}, got ${raw.slice(0, 300)}`);
  assert.ok(!('result' in msg), 'error reply must not carry result');
  assert.equal(typeof msg.error.message, 'string');
  if (code !== undefined) assert.equal(msg.error.code, code, `error code for ${shown}: ${raw.slice(0, 300)}`);
  if (codes) assert.ok(codes.includes(msg.error.code), `error code ${msg.error.code} not in ${codes} for ${shown}`);
  if (idOneOf) assert.ok(idOneOf.some((v) => JSON.stringify(v) === JSON.stringify(msg.id)), `id ${JSON.stringify(msg.id)} not in ${JSON.stringify(idOneOf)}`);
  else assert.deepEqual(msg.id, id, `reply id for ${shown}`);
  if (messageMatch) assert.match(msg.error.message, messageMatch);
  await srv.ping();
  return msg;
}

/** Send a line and expect no reply: the next line must answer a following ping. */
async function expectNoReply(srv, data) {
  await srv.send(data);
  const id = `after-silence-${Math.random()}`;
  await srv.sendJson({ jsonrpc: '2.0', id, method: 'ping' });
  const { msg, raw } = await srv.nextReply();
  assert.equal(msg.id, id, `expected no reply to ${String(data).slice(0, 120)}, but got ${raw.slice(0, 300)}`);
  assert.deepEqual(msg.result, {});
}

const req = (id, method, params) => {
  const o = { jsonrpc: '2.0', id, method };
  if (params !== undefined) o.params = params;
  return o;
};
const line = (o) => JSON.stringify(o) + '\n';
const initParams = (v) => ({ protocolVersion: v, capabilities: {}, clientInfo: { name: 'e2e', version: '1' } });

describe('lifecycle', () => {
  for (const v of ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25']) {
    test(`initialize echoes ${v}`, T, () =>
      withServer([], async (srv) => {
        const r = await srv.request(req(1, 'initialize', initParams(v)));
        assert.equal(r.jsonrpc, '2.0');
        assert.equal(r.id, 1);
        assert.equal(r.result.protocolVersion, v);
        assert.ok(r.result.capabilities?.tools && typeof r.result.capabilities.tools === 'object');
        assert.ok(r.result.capabilities?.logging && typeof r.result.capabilities.logging === 'object');
        assert.equal(r.result.serverInfo?.name, 'codexmcp');
        assert.equal(typeof r.result.serverInfo?.version, 'string');
      }));
  }

  for (const v of ['1999-01-01', '2026-07-28', 'garbage']) {
    test(`initialize with unsupported ${v} → 2025-11-25`, T, () =>
      withServer([], async (srv) => {
        const r = await srv.request(req('init', 'initialize', initParams(v)));
        assert.equal(r.id, 'init');
        assert.equal(r.result?.protocolVersion, '2025-11-25', JSON.stringify(r));
      }));
  }

  test('ping works before initialize, with string id', T, () =>
    withServer([], async (srv) => {
      const r = await srv.request(req('123', 'ping'));
      assert.deepEqual(r, { jsonrpc: '2.0', id: '123', result: {} });
    }));

  test('other requests before initialize are refused', T, () =>
    withServer([], async (srv) => {
      for (const [id, method] of [[1, 'tools/list'], [2, 'tools/call'], [3, 'logging/setLevel']]) {
        const params = method === 'tools/call' ? { name: 'codex', arguments: { prompt: 'x' } } : method === 'logging/setLevel' ? { level: 'info' } : undefined;
        const e = await expectError(srv, line(req(id, method, params)), { codes: [-32600, -32002], id });
        assert.match(e.error.message, /initiali[sz]/i);
      }
      // Still initializable afterwards.
      await srv.initialize();
      const r = await srv.request(req(9, 'tools/list'));
      assert.ok(Array.isArray(r.result?.tools));
    }));

  test('notifications/initialized is never answered; unknown notifications neither', T, () =>
    withServer([], async (srv) => {
      await expectNoReply(srv, line({ jsonrpc: '2.0', method: 'notifications/unknown-before-init' }));
      const r = await srv.request(req(0, 'initialize', initParams('2025-11-25')));
      assert.equal(r.id, 0);
      await expectNoReply(srv, line({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      await expectNoReply(srv, line({ jsonrpc: '2.0', method: 'notifications/unknown' }));
      await expectNoReply(srv, line({ jsonrpc: '2.0', method: 'totally/unknown', params: { a: 1 } }));
      await expectNoReply(srv, line({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'nope', reason: 'x' } }));
      await expectNoReply(srv, line({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 12345 } }));
      await expectNoReply(srv, line({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } }));
      await expectNoReply(srv, line({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }));
    }));

  test('server/discover → -32601', T, () =>
    withServer([], async (srv) => {
      await srv.initialize();
      await expectError(srv, line(req(7, 'server/discover', {})), { code: -32601, id: 7 });
    }));
});

describe('tools', () => {
  test('tools/list includes codex with an object inputSchema; bad cursors → -32602', T, () =>
    withServer([], async (srv) => {
      await srv.initialize();
      const r = await srv.request(req(2, 'tools/list'));
      assert.ok(Array.isArray(r.result?.tools), JSON.stringify(r));
      const tools = [...r.result.tools];
      let cursor = r.result.nextCursor;
      for (let i = 0; cursor !== undefined && i < 10; i++) {
        assert.equal(typeof cursor, 'string');
        const page = await srv.request(req(`page${i}`, 'tools/list', { cursor }));
        assert.ok(Array.isArray(page.result?.tools), JSON.stringify(page));
        tools.push(...page.result.tools);
        cursor = page.result.nextCursor;
      }
      const codex = tools.find((t) => t.name === 'codex');
      assert.ok(codex, `no codex tool in ${JSON.stringify(tools.map((t) => t.name))}`);
      assert.equal(codex.inputSchema?.type, 'object');
      for (const t of tools) assert.match(t.name, /^[A-Za-z0-9_.-]{1,128}$/);

      // params: {} and an explicit null-free params object are fine.
      const r2 = await srv.request(req(3, 'tools/list', {}));
      assert.ok(Array.isArray(r2.result?.tools));

      await expectError(srv, line(req(4, 'tools/list', { cursor: 'garbage' })), { code: -32602, id: 4 });
      await expectError(srv, line(req(5, 'tools/list', { cursor: 42 })), { code: -32602, id: 5 });
      await expectError(srv, line(req(6, 'tools/list', { cursor: { a: 1 } })), { code: -32602, id: 6 });
    }));

  test('tools/call with an unknown tool → -32602 naming it', T, () =>
    withServer([], async (srv) => {
      await srv.initialize();
      const e = await expectError(srv, line(req(8, 'tools/call', { name: 'no_such_tool_xyz', arguments: {} })), { code: -32602, id: 8 });
      assert.match(e.error.message, /no_such_tool_xyz/);
    }));
});

describe('logging', () => {
  async function waitLog(srv, level, timeoutMs = 3000) {
    const want = (n) => n.method === 'notifications/message' && n.params?.data === `log level set to ${level}`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = srv.notifications.find(want);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "log level set to ${level}" notification; got ${JSON.stringify(srv.notifications)}`);
      const raw = await srv.nextRaw(left).catch((e) => {
        throw new Error(`${e.message}; notifications so far: ${JSON.stringify(srv.notifications)}`);
      });
      const msg = JSON.parse(raw);
      if (msg.method !== undefined && msg.id === undefined) srv.notifications.push(msg);
      else throw new Error(`unexpected reply while waiting for log notification: ${raw}`);
    }
  }

  test('logging/setLevel debug/info → {} plus notifications/message', T, () =>
    withServer([], async (srv) => {
      await srv.initialize();
      for (const level of ['debug', 'info']) {
        const r = await srv.request(req(`lvl-${level}`, 'logging/setLevel', { level }));
        assert.deepEqual(r.result, {}, JSON.stringify(r));
        const n = await waitLog(srv, level);
        assert.deepEqual(n.params, { level: 'info', logger: 'codexmcp', data: `log level set to ${level}` });
        assert.equal(n.jsonrpc, '2.0');
        assert.ok(!('id' in n));
      }
    }));

  test('logging/setLevel above info → {} and no info notification', T, () =>
    withServer([], async (srv) => {
      await srv.initialize();
      for (const level of ['notice', 'warning', 'error', 'critical', 'alert', 'emergency']) {
        const r = await srv.request(req(`lvl-${level}`, 'logging/setLevel', { level }));
        assert.deepEqual(r.result, {});
      }
      await srv.ping();
      const infos = srv.notifications.filter((n) => n.method === 'notifications/message' && n.params?.level === 'info');
      assert.deepEqual(infos, []);
    }));

  test('logging/setLevel with a bad level → -32602', T, () =>
    withServer([], async (srv) => {
      await srv.initialize();
      await expectError(srv, line(req(1, 'logging/setLevel', { level: 'verbose' })), { code: -32602, id: 1 });
      await expectError(srv, line(req(2, 'logging/setLevel', { level: 3 })), { code: -32602, id: 2 });
      await expectError(srv, line(req(3, 'logging/setLevel', {})), { code: -32602, id: 3 });
      await expectError(srv, line(req(4, 'logging/setLevel')), { code: -32602, id: 4 });
    }));
});

describe('JSON-RPC errors', () => {
  test('unparseable lines → -32700 with id null (or the id, when the line is well-formed around it)', T, () =>
    withServer([], async (srv) => {
      await srv.initialize();
      await expectError(srv, 'this is not json\n', { code: -32700 });
      await expectError(srv, '{"jsonrpc":"2.0","id":1,"method":"ping"\n', { code: -32700 });
      await expectError(srv, '{"jsonrpc":"2.0","id":1,"method":"ping"} trailing\n', { code: -32700 });
      await expectError(srv, "{'jsonrpc':'2.0'}\n", { code: -32700 });
      await expectError(srv, Buffer.from([0xff, 0x0a]), { code: -32700 });
      // Well-formed but for invalid UTF-8 in the method: answered under its id.
      await expectError(srv, Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"pi'), Buffer.from([0xff, 0xfe]), Buffer.from('ng"}\n')]), { code: -32700, id: 1 });
      await expectError(srv, Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":"'), Buffer.from([0xc3]), Buffer.from('","method":"ping"}\n')]), { code: -32700 });
    }));

  test('parse errors before initialize too', T, () =>
    withServer([], async (srv) => {
      await expectError(srv, 'nope\n', { code: -32700 });
      await expectError(srv, Buffer.from([0xff, 0x0a]), { code: -32700 });
    }));

  test('non-object messages → -32600 with id null', T, () =>
    withServer([], async (srv) => {
      await srv.initialize();
      for (const m of ['42', '"x"', 'true', 'null', '3.5']) {
        await expectError(srv, m + '\n', { code: -32600 });
      }
    }));

  test('wrong or missing jsonrpc → -32600', T, () =>
    withServer([], async (srv) => {
      await srv.initialize();
      await expectError(srv, line({ id: 1, method: 'ping' }), { code: -32600, idOneOf: [1, null] });
      await expectError(srv, line({ jsonrpc: '1.0', id: 2, method: 'ping' }), { code: -32600, idOneOf: [2, null] });
      await expectError(srv, line({ jsonrpc: 2.0, id: 3, method: 'ping' }), { code: -32600, idOneOf: [3, null] });
      await expectError(srv, line({ jsonrpc: null, id: 4, method: 'ping' }), { code: -32600, idOneOf: [4, null] });
    }));

  test('missing or non-string method → -32600', T, () =>
    withServer([], async (srv) => {
      await srv.initialize();
      await expectError(srv, line({ jsonrpc: '2.0', id: 1 }), { code: -32600, idOneOf: [1, null] });
      await expectError(srv, line({ jsonrpc: '2.0', id: 2, method: 42 }), { code: -32600, idOneOf: [2, null] });
      await expectError(srv, line({ jsonrpc: '2.0', id: 3, method: null }), { code: -32600, idOneOf: [3, null] });
      await expectError(srv, line({ jsonrpc: '2.0', id: 4, method: ['ping'] }), { code: -32600, idOneOf: [4, null] });
      await expectError(srv, '{}\n', { code: -32600 });
    }));

  test('invalid ids (null, boolean, object, array) → -32600 with id null', T, () =>
    withServer([], async (srv) => {
      await srv.initialize();
      for (const idText of ['null', 'true', 'false', '{"a":1}', '[1]']) {
        await expectError(srv, `{"jsonrpc":"2.0","id":${idText},"method":"ping"}\n`, { code: -32600, id: null });
      }
    }));

  test('any JSON number is an id, answered with the id exactly as written', T, () =>
    withServer([], async (srv) => {
      await srv.initialize();
      for (const idText of ['1.5', '1.50', '0.1', '-0', '1e3', '2.5E-7', '1e400', '123456789012345678901234567890']) {
        await srv.send(`{"jsonrpc":"2.0","id":${idText},"method":"ping"}\n`);
        const { raw } = await srv.nextReply();
        assert.equal(raw, `{"jsonrpc":"2.0","id":${idText},"result":{}}`);
      }
    }));

  test('\\u0000 in a request is valid JSON: answered under its id; the log never quotes a prompt', T, () =>
    withServer([], async (srv) => {
      await srv.initialize();
      const cd = '/nonexistent-dir-for-nul';
      await srv.send(
        `{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"codex","arguments":{"PROMPT":"SECRET-PROMPT\\u0000x","cd":"${cd}"}}}\n`,
      );
      const r = await srv.nextReply();
      assert.equal(r.msg.id, 41, r.raw);
      assert.match(JSON.parse(r.msg.result.content[0].text).error, /^cd .* is not an existing directory/);
      await srv.send('{"jsonrpc":"2.0","id":42,"method":"ping\\u0000"}\n');
      const m = await srv.nextReply();
      assert.equal(m.msg.id, 42);
      assert.equal(m.msg.error.code, -32601);
      // A line that is not valid UTF-8 inside a prompt: -32700, and the log at
      // the default level says why without the text of the line.
      await srv.send(Buffer.from('{"jsonrpc":"2.0","id":43,"method":"tools/call","params":{"arguments":{"PROMPT":"SECRET-PROMPT \xff"}}}\n', 'latin1'));
      const e = await srv.nextReply();
      assert.equal(e.msg.error.code, -32700);
      await srv.ping();
      assert.match(srv.stderr, /malformed line of \d+ bytes/);
      assert.doesNotMatch(srv.stderr, /SECRET-PROMPT/);
    }));

  test('unknown method → -32601 with the same id', T, () =>
    withServer([], async (srv) => {
      await srv.initialize();
      await expectError(srv, line(req(77, 'no/such/method')), { code: -32601, id: 77 });
      await expectError(srv, line(req('str-id', 'resources/list')), { code: -32601, id: 'str-id' });
      await expectError(srv, line(req(78, 'resources/list', {})), { code: -32601, id: 78 });
    }));

  test('ids keep exact type and value', T, () =>
    withServer([], async (srv) => {
      // Big integer beyond 2^53: compare raw text.
      await srv.send('{"jsonrpc":"2.0","id":9007199254740993,"method":"ping"}\n');
      let { raw } = await srv.nextReply();
      assert.match(raw, /"id":\s*9007199254740993\s*[,}]/, raw);
      assert.match(raw, /"result":\s*\{\s*\}/, raw);

      await srv.send('{"jsonrpc":"2.0","id":-9007199254740993,"method":"ping"}\n');
      ({ raw } = await srv.nextReply());
      assert.match(raw, /"id":\s*-9007199254740993\s*[,}]/, raw);

      for (const id of [0, -1, 1, 2147483648, '0', '', 'abc', '9007199254740993', 'ünï "q" \\ 🚀']) {
        const r = await srv.request(req(id, 'ping'));
        assert.deepEqual(r, { jsonrpc: '2.0', id, result: {} });
      }
      await srv.initialize();
      // Errors keep ids too.
      const { msg } = await srv.request(req('9007199254740993', 'no/such'), 5000, { raw: true });
      assert.equal(msg.id, '9007199254740993');
      assert.equal(msg.error.code, -32601);
      await srv.send('{"jsonrpc":"2.0","id":9007199254740993,"method":"no/such"}\n');
      ({ raw } = await srv.nextReply());
      assert.match(raw, /"id":\s*9007199254740993\s*[,}]/, raw);
      assert.match(raw, /-32601/);
    }));

  test('trailing \\r is accepted', T, () =>
    withServer([], async (srv) => {
      await srv.send('{"jsonrpc":"2.0","id":5,"method":"ping"}\r\n');
      const { msg } = await srv.nextReply();
      assert.deepEqual(msg, { jsonrpc: '2.0', id: 5, result: {} });
      await srv.send(line(req(6, 'initialize', initParams('2025-06-18'))).replace('\n', '\r\n'));
      const { msg: m2 } = await srv.nextReply();
      assert.equal(m2.result?.protocolVersion, '2025-06-18');
    }));

  test('blank lines are not answered', T, () =>
    withServer([], async (srv) => {
      await expectNoReply(srv, '\n');
      await expectNoReply(srv, '\r\n');
    }));

  test('several requests in one write are all answered', T, () =>
    withServer([], async (srv) => {
      await srv.send(line(req(1, 'ping')) + line(req(2, 'ping')) + line(req(3, 'ping')));
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push((await srv.nextReply()).msg.id);
      assert.deepEqual(ids.sort(), [1, 2, 3]);
    }));

  test('a request split over several writes is answered', T, () =>
    withServer([], async (srv) => {
      const text = line(req('split', 'ping'));
      for (const ch of text) {
        await srv.send(ch);
      }
      const { msg } = await srv.nextReply();
      assert.deepEqual(msg, { jsonrpc: '2.0', id: 'split', result: {} });
    }));
});

describe('batches', () => {
  test('2025-03-26: array of requests → array of replies', T, () =>
    withServer([], async (srv) => {
      const init = await srv.initialize('2025-03-26');
      assert.equal(init.protocolVersion, '2025-03-26');
      await srv.send(
        JSON.stringify([
          req(1, 'ping'),
          { jsonrpc: '2.0', method: 'notifications/whatever' },
          req('two', 'tools/list'),
          req(3, 'no/such'),
          42,
        ]) + '\n',
      );
      const { msg, raw } = await srv.nextReply();
      assert.ok(Array.isArray(msg), `expected an array reply, got ${raw.slice(0, 300)}`);
      assert.equal(msg.length, 4, raw.slice(0, 500));
      const byId = new Map(msg.map((m) => [JSON.stringify(m.id), m]));
      assert.deepEqual(byId.get('1'), { jsonrpc: '2.0', id: 1, result: {} });
      assert.ok(byId.get('"two"')?.result?.tools.some((t) => t.name === 'codex'));
      assert.equal(byId.get('3')?.error?.code, -32601);
      assert.equal(byId.get('null')?.error?.code, -32600);
      await srv.ping();
    }));

  test('2025-03-26: all-notification batch → no output; empty batch → single -32600', T, () =>
    withServer([], async (srv) => {
      await srv.initialize('2025-03-26');
      await expectNoReply(srv, JSON.stringify([{ jsonrpc: '2.0', method: 'notifications/a' }, { jsonrpc: '2.0', method: 'notifications/initialized' }]) + '\n');
      const e = await expectError(srv, '[]\n', { code: -32600, id: null });
      assert.ok(!Array.isArray(e));
    }));

  for (const v of ['2024-11-05', '2025-06-18', '2025-11-25']) {
    test(`${v}: a batch is rejected with -32600 id null`, T, () =>
      withServer([], async (srv) => {
        await srv.initialize(v);
        const e = await expectError(srv, JSON.stringify([req(1, 'ping'), req(2, 'ping')]) + '\n', { code: -32600, id: null });
        assert.ok(!Array.isArray(e));
        await expectError(srv, '[]\n', { code: -32600, id: null });
      }));
  }
});

describe('limits', () => {
  test('--max-line-bytes: a 2 MiB line → error with id null, reading resumes', T, () =>
    withServer(['--max-line-bytes', '1048576'], async (srv) => {
      await srv.initialize();
      const big = '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"' + 'a'.repeat(2 * 1024 * 1024) + '"}}\n';
      await expectError(srv, big, { id: null });
      // Non-JSON oversized garbage too, arriving in pieces.
      for (let i = 0; i < 4; i++) await srv.send('z'.repeat(512 * 1024));
      await srv.send('\n');
      const { msg } = await srv.nextReply();
      assert.ok(msg.error, JSON.stringify(msg));
      assert.equal(msg.id, null);
      await srv.ping();
      // A line under the limit still works.
      const ok = '{"jsonrpc":"2.0","id":"under","method":"ping","params":{"pad":"' + 'b'.repeat(900 * 1024) + '"}}\n';
      await srv.send(ok);
      const { msg: m2 } = await srv.nextReply();
      assert.deepEqual(m2, { jsonrpc: '2.0', id: 'under', result: {} });
    }));

  test('100,000 nested [ → -32700, no crash', T, () =>
    withServer([], async (srv) => {
      await srv.initialize();
      await expectError(srv, '['.repeat(100000) + '\n', { code: -32700 });
      await expectError(srv, '{"a":'.repeat(50000) + '\n', { code: -32700 });
    }));
});

describe('shutdown and process', () => {
  test('closing stdin → exit 0', T, () =>
    withServer([], async (srv) => {
      await srv.initialize();
      srv.closeStdin();
      assert.deepEqual(await srv.waitExit(5000), { code: 0, signal: null });
    }));

  test('closing stdin right after requests still answers them, then exit 0', T, () =>
    withServer([], async (srv) => {
      await srv.send(line(req(1, 'ping')) + line(req(2, 'initialize', initParams('2025-11-25'))) + line(req(3, 'ping')));
      srv.closeStdin();
      const ex = await srv.waitClosed(5000);
      assert.deepEqual(ex, { code: 0, signal: null });
      const ids = srv.rawLines.filter((l) => l.trim()).map((l) => JSON.parse(l).id);
      assert.deepEqual(ids.sort(), [1, 2, 3]);
    }));

  test('EOF in the middle of a line → exit 0', T, () =>
    withServer([], async (srv) => {
      await srv.ping();
      await srv.send('{"jsonrpc":"2.0",');
      srv.closeStdin();
      assert.deepEqual(await srv.waitExit(5000), { code: 0, signal: null });
    }));

  for (const sig of ['SIGTERM', 'SIGINT']) {
    test(`${sig} → exit 0 after answering`, T, () =>
      withServer([], async (srv) => {
        await srv.initialize();
        await srv.send(line(req('a', 'ping')) + line(req('b', 'tools/list')));
        const got = [];
        for (let i = 0; i < 2; i++) got.push((await srv.nextReply()).msg.id);
        assert.deepEqual(got.sort(), ['a', 'b']);
        srv.kill(sig);
        assert.deepEqual(await srv.waitExit(5000), { code: 0, signal: null });
      }));
  }

  test('stdin redirected from a regular file works', T, async () => {
    const file = path.join(tmp, 'requests.jsonl');
    fs.writeFileSync(
      file,
      line(req(1, 'initialize', initParams('2025-11-25'))) +
        line({ jsonrpc: '2.0', method: 'notifications/initialized' }) +
        line(req(2, 'ping')) +
        line(req(3, 'tools/list')),
    );
    const fd = fs.openSync(file, 'r');
    const srv = rawServer([], serverEnv, { stdin: fd });
    fs.closeSync(fd);
    try {
      const ex = await srv.waitClosed(5000);
      assert.deepEqual(ex, { code: 0, signal: null }, srv.stderr);
      const replies = srv.rawLines.filter((l) => l.trim()).map((l) => JSON.parse(l));
      assert.equal(replies.length, 3, srv.stdout);
      assert.deepEqual(replies.map((r) => r.id).sort(), [1, 2, 3]);
      assert.equal(replies.find((r) => r.id === 1).result.protocolVersion, '2025-11-25');
      assert.ok(replies.find((r) => r.id === 3).result.tools.some((t) => t.name === 'codex'));
    } finally {
      await srv.dispose();
    }
  });

  test('stdout is only JSON lines (nothing else leaks)', T, () =>
    withServer([], async (srv) => {
      await srv.initialize();
      await srv.ping();
      await srv.request(req(9, 'tools/list'));
      srv.closeStdin();
      await srv.waitClosed(5000);
      const text = srv.stdout;
      assert.ok(text.endsWith('\n'));
      for (const l of text.split('\n').slice(0, -1)) JSON.parse(l);
    }));
});

describe('command line', () => {
  function run(args, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const child = spawn(serverBin(), args, { env: serverEnv, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.stdin.on('error', () => {});
      child.stdin.end();
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${args.join(' ')} did not exit within ${timeoutMs} ms`));
      }, timeoutMs);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(t);
        resolve({ code, signal, stdout, stderr });
      });
    });
  }

  test('--help prints usage on stdout, exit 0', T, async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /usage/i);
    assert.match(r.stdout, /codexmcp/);
  });

  test('--version prints a version, exit 0', T, async () => {
    const r = await run(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\d+\.\d+/);
  });

  test('unknown flag → exit 2 with a message on stderr', T, async () => {
    const r = await run(['--definitely-not-a-flag']);
    assert.equal(r.code, 2);
    assert.ok(r.stderr.trim().length > 0);
    assert.equal(r.stdout, '');
  });
});

describe('SDK client', () => {
  test('connect, listTools, ping, setLoggingLevel', T, async () => {
    const { client, close, stderr } = await connectSdk([], serverEnv);
    try {
      assert.equal(client.getServerVersion()?.name, 'codexmcp');
      const caps = client.getServerCapabilities();
      assert.ok(caps?.tools);
      assert.ok(caps?.logging);
      const { tools } = await withTimeout(client.listTools(), 5000, 'listTools');
      const codex = tools.find((t) => t.name === 'codex');
      assert.ok(codex, JSON.stringify(tools));
      assert.equal(codex.inputSchema.type, 'object');
      assert.deepEqual(await withTimeout(client.ping(), 5000, 'ping'), {});

      let resolveLog;
      const gotLog = new Promise((r) => (resolveLog = r));
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        if (n.params.data === 'log level set to debug') resolveLog(n);
      });
      assert.deepEqual(await withTimeout(client.setLoggingLevel('debug'), 5000, 'setLoggingLevel'), {});
      const n = await withTimeout(gotLog, 5000, 'logging notification');
      assert.equal(n.params.level, 'info');
      assert.equal(n.params.logger, 'codexmcp');
    } catch (err) {
      err.message += `\n--- server stderr ---\n${stderr().slice(-4000)}`;
      throw err;
    } finally {
      await close();
    }
  });
});
