// Fake Anthropic Messages API for driving the REAL Claude Code CLI offline
// (ANTHROPIC_BASE_URL=http://127.0.0.1:PORT, ANTHROPIC_API_KEY=anything).
// See /work/shared/REFERENCE.md §6.1.
//
//   POST /v1/messages               streaming SSE (message_start,
//                                   content_block_start/delta/stop,
//                                   message_delta, message_stop) or, when the
//                                   body has no `stream: true`, one JSON message
//   POST /v1/messages/count_tokens  {"input_tokens": N}
//   anything else                   404 (recorded)
//
// The test scripts the conversation:
//
//   const fake = await startFakeAnthropic({ script: [
//     (req) => ({ tool_use: { name: 'mcp__codex__codex', input: { PROMPT: '…' } } }),
//     (req) => ({ text: 'done' }),
//   ] });
//
// Each MAIN-conversation request takes the next script step; a step returns
// (or is) a reply spec:
//   { text }                         one text block, stop_reason end_turn
//   { tool_use: {name, input, id?} } one tool_use block (optionally after a
//                                    text block when `text` is also given),
//                                    stop_reason tool_use
//   { tool_uses: [{name,input,id?}…] } several tool_use blocks
//   { status, error }                an HTTP error answer (e.g. 529 overloaded)
// When the script is used up, main requests get { text: 'done' }.
//
// Claude Code also makes side requests (title/topic generation, haiku calls,
// quota probes, …). They are told apart from the main conversation by
// opts.isMain(body) — by default: the request offers tools (side requests do
// not). Side requests are answered with a short text and recorded with
// kind 'side', so they never consume a script step.
//
// Every request is recorded in `requests` as
//   { kind: 'main'|'side'|'count_tokens'|'other', method, url, headers, body,
//     time, step? (index of the script step that answered a main request) }.
import http from 'node:http';

/**
 * Token count answered by /v1/messages/count_tokens: a simple, deterministic
 * estimate, ceil(characters / 3) of the JSON-serialized `messages` (JSON
 * escaping and structure included). Real tokenizers give about 3-4
 * characters per token for English and code, so this is realistic and on the
 * high (safe) side: a result that passes here also passes the real API.
 */
export function estimateTokens(body) {
  const text = JSON.stringify(body?.messages ?? []);
  return Math.ceil(text.length / 3);
}

/** Default test of a main-conversation request: it offers tools. */
export function defaultIsMain(body) {
  return Array.isArray(body?.tools) && body.tools.length > 0;
}

let seq = 0;
const nextId = (prefix) => `${prefix}_fake${String(++seq).padStart(6, '0')}`;

/** Normalize a script step's answer into { blocks, stopReason } or { status, error }. */
function normalizeReply(spec) {
  if (spec == null) spec = { text: 'done' };
  if (typeof spec === 'string') spec = { text: spec };
  if (spec.status) return { status: spec.status, error: spec.error ?? { type: 'api_error', message: 'fake error' } };
  const blocks = [];
  if (typeof spec.text === 'string') blocks.push({ type: 'text', text: spec.text });
  const uses = spec.tool_uses ?? (spec.tool_use ? [spec.tool_use] : []);
  for (const u of uses) {
    blocks.push({ type: 'tool_use', id: u.id ?? nextId('toolu'), name: u.name, input: u.input ?? {} });
  }
  if (blocks.length === 0) blocks.push({ type: 'text', text: 'done' });
  return { blocks, stopReason: uses.length ? 'tool_use' : 'end_turn' };
}

/** Every tool_result block in a request body's messages: [{ tool_use_id, content, is_error, text }]. */
export function toolResultsOf(body) {
  const out = [];
  for (const m of Array.isArray(body?.messages) ? body.messages : []) {
    if (!Array.isArray(m?.content)) continue;
    for (const b of m.content) {
      if (b?.type !== 'tool_result') continue;
      out.push({ tool_use_id: b.tool_use_id, content: b.content, is_error: b.is_error, text: toolResultText(b.content) });
    }
  }
  return out;
}

/** Text of a tool_result's content (a string, or the text blocks joined with "\n"). */
export function toolResultText(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((c) => c && c.type === 'text' && typeof c.text === 'string')
    .map((c) => c.text)
    .join('\n');
}

/**
 * Start the fake. opts: { script?: Array<fn|spec>, isMain?: (body) => bool,
 * sideText?: string, log?: boolean }.
 * Returns { url, port, requests, main(), toolResults(), toolResult(id), close() }.
 */
export async function startFakeAnthropic(opts = {}) {
  const script = opts.script ?? [];
  const isMain = opts.isMain ?? defaultIsMain;
  const sideText = opts.sideText ?? 'ok';
  const requests = [];
  const sockets = new Set();
  let step = 0;

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((err) => {
        try {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: `fake internal error: ${err?.stack ?? err}` } }));
        } catch {}
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req, res, raw) {
    let body = null;
    try {
      body = raw.length ? JSON.parse(raw.toString('utf8')) : null;
    } catch {
      body = { _unparsed: raw.toString('utf8').slice(0, 10000) };
    }
    const path = req.url.split('?')[0].replace(/\/+$/, '');
    const record = { kind: 'other', method: req.method, url: req.url, headers: req.headers, body, time: Date.now() };
    requests.push(record);
    if (opts.log) process.stderr.write(`[fake-anthropic] ${req.method} ${req.url} ${raw.length} bytes\n`);

    if (req.method === 'POST' && path.endsWith('/v1/messages/count_tokens')) {
      record.kind = 'count_tokens';
      record.answer = estimateTokens(body);
      json(res, 200, { input_tokens: record.answer });
      return;
    }
    if (!(req.method === 'POST' && path.endsWith('/v1/messages'))) {
      json(res, 404, { type: 'error', error: { type: 'not_found_error', message: `not found in fake: ${req.method} ${path}` } });
      return;
    }

    let reply;
    if (isMain(body)) {
      record.kind = 'main';
      if (step < script.length) {
        record.step = step;
        const s = script[step++];
        reply = normalizeReply(typeof s === 'function' ? await s(record) : s);
      } else {
        reply = normalizeReply({ text: 'done' });
      }
    } else {
      record.kind = 'side';
      reply = normalizeReply({ text: sideText });
    }
    record.reply = reply;

    if (reply.status) {
      json(res, reply.status, { type: 'error', error: reply.error });
      return;
    }
    const model = typeof body?.model === 'string' ? body.model : 'claude-fake';
    const message = {
      id: nextId('msg'),
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: estimateTokens(body), output_tokens: 1 },
    };
    const outputTokens = Math.max(1, Math.ceil(JSON.stringify(reply.blocks).length / 3));
    if (body?.stream !== true) {
      json(res, 200, {
        ...message,
        content: reply.blocks,
        stop_reason: reply.stopReason,
        usage: { ...message.usage, output_tokens: outputTokens },
      });
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'close',
      'request-id': nextId('req'),
    });
    const send = (type, data) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    send('message_start', { message });
    reply.blocks.forEach((b, index) => {
      if (b.type === 'text') {
        send('content_block_start', { index, content_block: { type: 'text', text: '' } });
        send('content_block_delta', { index, delta: { type: 'text_delta', text: b.text } });
      } else {
        send('content_block_start', { index, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } });
        send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(b.input) } });
      }
      send('content_block_stop', { index });
    });
    send('message_delta', { delta: { stop_reason: reply.stopReason, stop_sequence: null }, usage: { output_tokens: outputTokens } });
    send('message_stop', {});
    res.end();
  }

  function json(res, status, obj) {
    const text = JSON.stringify(obj);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), connection: 'close' });
    res.end(text);
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    /** Main-conversation requests, in order. */
    main() {
      return requests.filter((r) => r.kind === 'main');
    },
    /** Every tool_result seen in any /v1/messages request (main or side), oldest first, deduplicated by tool_use_id (last copy wins). */
    toolResults() {
      const byId = new Map();
      for (const r of requests) {
        if (r.kind !== 'main' && r.kind !== 'side') continue;
        for (const tr of toolResultsOf(r.body)) byId.set(tr.tool_use_id, { ...tr, request: r });
      }
      return [...byId.values()];
    },
    /** The tool_result for one tool_use id, as the model first received it (first request carrying it), or undefined. */
    toolResult(toolUseId) {
      for (const r of requests) {
        if (r.kind !== 'main' && r.kind !== 'side') continue;
        const tr = toolResultsOf(r.body).find((t) => t.tool_use_id === toolUseId);
        if (tr) return { ...tr, request: r };
      }
      return undefined;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
