// Fake OpenAI Responses API (POST /v1/responses, SSE answers) for driving the
// real codex CLI offline. Behaviour is chosen by directives in the user's
// prompt ([[name]] or [[name:arg]]), so parallel calls sharing one fake server
// stay independent. See /work/shared/REFERENCE.md §4.
//
// Review turns (`codex exec review`, isReviewRequest) whose prompt holds no
// answer directive get a scripted reviewer: first an exec_command running the
// git command the prompt implies (reviewCommand), then, on the follow-up, a
// JSON review (reviewAnswer) naming each changed file's first added line;
// such a follow-up also takes directives ([[sleep:MS]], [[reply:…]], …) from
// the command's output, so a changed file can steer the answer.
//
// [[cut]] sends the start of an answer (response.created, an item added, half
// a frame of text) and then destroys the socket, every time; [[cut:N]] does so
// to the first N requests with that prompt and answers the next ones whole
// (as the prompt's other directives say). Such records get `cut: true`.
//
// [[escalated]] beside [[shell:CMD]] asks for CMD to run outside the sandbox
// (exec_command's sandbox_permissions "require_escalated"). Requests of
// codex's approval reviewer (x-openai-subagent: guardian) are answered
// "allow", whatever they show; such records get `guardian: true`.
import assert from 'node:assert/strict';
import http from 'node:http';
import { pollUntil } from './procs.mjs';

const DIRECTIVE_RE = /\[\[([a-z0-9_]+)(?::([\s\S]*?))?\]\]/g;

/** Parse `[[name]]` / `[[name:arg]]` directives. Returns Map name -> arg (string|undefined). */
export function parseDirectives(text) {
  const out = new Map();
  for (const m of text.matchAll(DIRECTIVE_RE)) {
    if (!out.has(m[1])) out.set(m[1], m[2]);
  }
  return out;
}

/** Text of a message input item (concatenated input_text/output_text parts). */
function messageText(item) {
  if (typeof item.content === 'string') return item.content;
  if (!Array.isArray(item.content)) return '';
  return item.content
    .filter((p) => p && typeof p.text === 'string')
    .map((p) => p.text)
    .join('');
}

/**
 * Codex also sends user-role messages that are not the user's prompt:
 * `<environment_context>…`, `<user_instructions>…`, `# AGENTS.md instructions…`,
 * `<permissions instructions>` etc. They all start with an XML-ish tag or the
 * AGENTS.md header. A real prompt is anything else.
 */
export function isContextText(text) {
  const t = text.trimStart();
  return (
    /^<(environment_context|user_instructions|permissions|collaboration_mode|apps_instructions|skills_instructions|turn_aborted|user_shell_command|subagent_notification|INSTRUCTIONS)[\s>]/.test(t) ||
    t.startsWith('# AGENTS.md instructions')
  );
}

/** All real user prompts in a request body's input, oldest first. */
export function userPrompts(body) {
  const input = Array.isArray(body?.input) ? body.input : [];
  const prompts = [];
  for (const item of input) {
    if (!item || item.type !== 'message' || item.role !== 'user') continue;
    const text = messageText(item);
    if (isContextText(text)) continue;
    prompts.push(text);
  }
  return prompts;
}

/**
 * [[bigreply:N]]: an answer of exactly N characters (N >= 26) of code-like
 * text with quotes, tabs, non-ASCII and emoji, from BIGREPLY-START to
 * BIGREPLY-END. With [[shell:…]] it is the answer after the command ran.
 */
export function bigReply(n) {
  const body = 'if (x["key"] != \'val\') {\n\treturn "ünïcode ✓ 🦀";\n}\n';
  let text = 'BIGREPLY-START';
  while (text.length < n - 12) text += body;
  text = text.slice(0, n - 12);
  // Never end inside a surrogate pair.
  if (/[\ud800-\udbff]$/.test(text)) text = text.slice(0, -1) + 'x';
  return text + 'BIGREPLY-END';
}

let seq = 0;
const nextId = (prefix) => `${prefix}_${++seq}`;

function messageItem(text) {
  return {
    type: 'message',
    role: 'assistant',
    id: nextId('msg'),
    status: 'completed',
    content: [{ type: 'output_text', text, annotations: [] }],
  };
}

function reasoningItem(text) {
  return {
    type: 'reasoning',
    id: nextId('rs'),
    summary: [{ type: 'summary_text', text }],
  };
}

function functionCallItem(name, args) {
  const callId = nextId('call');
  return {
    type: 'function_call',
    id: nextId('fc'),
    call_id: callId,
    name,
    arguments: JSON.stringify(args),
  };
}

const USAGE = {
  input_tokens: 120,
  input_tokens_details: { cached_tokens: 20 },
  output_tokens: 7,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 127,
};

/** Pick a useful line from a function_call_output text (codex wraps it with "Chunk ID:", "Output:" etc.). */
function usefulLine(output) {
  let text = output;
  if (typeof text !== 'string') {
    if (Array.isArray(text)) text = text.map((p) => p?.text ?? '').join('\n');
    else if (text && typeof text.content === 'string') text = text.content;
    else text = JSON.stringify(text ?? '');
  }
  const lines = text.split('\n');
  const idx = lines.findIndex((l) => /^Output:\s*$/.test(l));
  const candidates = idx >= 0 ? lines.slice(idx + 1) : lines;
  // Skip codex's wrapper lines and login-shell noise (bash -lc sources profiles, e.g. "pyenv: cannot rehash").
  const skip = /^(Chunk ID:|Wall time:|Process exited with code|Original token count:|Output:|Exit code:|Process running with session ID|pyenv: |-?bash: |bash: warning|sh: )/;
  for (const l of candidates) {
    if (l.trim() && !skip.test(l)) return l.trim();
  }
  return '';
}

/** Text of a function_call_output's `output` (a string, content parts, or an object). */
function outputText(output) {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) return output.map((p) => p?.text ?? '').join('\n');
  if (output && typeof output.content === 'string') return output.content;
  return JSON.stringify(output ?? '');
}

/**
 * A turn of codex's review sub-agent (`codex exec review …`, `/review`):
 * codex 0.169 sends `x-openai-subagent: review` and, as the first developer
 * message, the review guidelines ("# Review guidelines: …"). The user
 * prompt is then codex's own text for --uncommitted / --base / --commit
 * (the diff itself is NOT sent: the model is expected to run git), or the
 * custom review instructions, trimmed.
 */
export function isReviewRequest(body, headers = {}) {
  if (headers['x-openai-subagent'] === 'review') return true;
  const input = Array.isArray(body?.input) ? body.input : [];
  return input.some((i) => i && i.type === 'message' && i.role === 'developer' && messageText(i).startsWith('# Review guidelines:'));
}

/** The git command a reviewer would run first, read off codex's review prompt. */
export function reviewCommand(prompt) {
  const safe = (s) => /^[0-9A-Za-z._\/~^@{}-]+$/.test(s) && !s.startsWith('-');
  let m = /Run `(git diff [0-9a-f]{7,64})`/.exec(prompt);
  if (m) return m[1];
  m = /^Review the code changes introduced by commit (\S+?)(?: \(|\. )/.exec(prompt);
  if (m && safe(m[1])) return `git show ${m[1]}`;
  m = /^Review the code changes against the base branch '([^']+)'/.exec(prompt);
  if (m && safe(m[1])) return `git diff ${m[1]}`;
  // --uncommitted, or custom instructions.
  return 'git diff HEAD';
}

/**
 * The fake reviewer's answer, in the JSON schema codex's review prompt asks
 * for: one finding per changed file (its first added line), read off the
 * output of the git command (a unified diff). `cwd` makes the paths absolute.
 */
export function reviewAnswer(gitOutput, cwd = '') {
  const files = [];
  let file = null;
  let newLine = 0;
  let added = 0;
  for (const line of gitOutput.split('\n')) {
    let m;
    if ((m = /^\+\+\+ (?:b\/)?(.+)$/.exec(line))) {
      file = { path: m[1], first: null, line: 0 };
      files.push(file);
    } else if ((m = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line))) {
      newLine = Number(m[1]);
    } else if (file && line.startsWith('+')) {
      added++;
      if (file.first === null) {
        file.first = line.slice(1);
        file.line = newLine;
      }
      newLine++;
    } else if (file && line.startsWith(' ')) {
      newLine++;
    }
  }
  const findings = files
    .filter((f) => f.first !== null)
    .map((f) => ({
      title: `[P2] fake finding in ${f.path}`,
      body: `fake review saw the added line: ${f.first}`,
      confidence_score: 0.5,
      priority: 2,
      code_location: {
        absolute_file_path: cwd ? `${cwd.replace(/\/$/, '')}/${f.path}` : f.path,
        line_range: { start: f.line, end: f.line },
      },
    }));
  return {
    findings,
    overall_correctness: 'patch is correct',
    overall_explanation: findings.length
      ? `fake review: ${added} added line(s) in ${findings.length} file(s)`
      : 'fake review: no changes seen',
    overall_confidence_score: 0.5,
  };
}

/** The <cwd> of the request's environment context, or ''. */
function contextCwd(input) {
  for (const item of input) {
    if (!item || item.type !== 'message' || item.role !== 'user') continue;
    const m = /<cwd>([^<]*)<\/cwd>/.exec(messageText(item));
    if (m) return m[1];
  }
  return '';
}

/**
 * Start the fake. opts: { log?: boolean } (log requests to stderr).
 * Returns { url, port, requests, inflight, maxInflight, close() }; `requests` holds
 * { method, url, headers, body, prompt, time } for every POST (POST /responses
 * records also get inflightAtStart and, once answered or dropped, endTime).
 */
export async function startFakeResponses(opts = {}) {
  const requests = [];
  const sockets = new Set();
  const failCounts = new Map(); // prompt text -> 5xx already served
  const cutCounts = new Map(); // prompt text -> answers already cut
  let inflight = 0; // POST /responses being answered right now
  let maxInflight = 0; // highest value inflight reached

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((err) => {
        try {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`fake internal error: ${err?.stack ?? err}`);
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
      body = { _unparsed: raw.toString('utf8') };
    }
    const prompts = userPrompts(body);
    const prompt = prompts.length ? prompts[prompts.length - 1] : '';
    const review = isReviewRequest(body, req.headers);
    const record = { method: req.method, url: req.url, headers: req.headers, body, prompt, review, time: Date.now() };
    if (opts.log) process.stderr.write(`[fake] ${req.method} ${req.url} prompt=${JSON.stringify(prompt).slice(0, 200)}\n`);

    if (req.method !== 'POST' || !/\/responses\/?(\?.*)?$/.test(req.url)) {
      // Codex may probe other endpoints (e.g. /models); answer 404 quickly.
      record.ignored = true;
      requests.push(record);
      res.writeHead(404, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ error: { message: 'not found in fake', type: 'invalid_request_error' } }));
      return;
    }
    requests.push(record);
    // Concurrency bookkeeping: endTime is when the answer was finished or
    // the connection dropped (a stalled answer ends only when codex goes away).
    inflight++;
    if (inflight > maxInflight) maxInflight = inflight;
    record.inflightAtStart = inflight;
    res.on('close', () => {
      inflight--;
      record.endTime = Date.now();
    });

    const input = Array.isArray(body?.input) ? body.input : [];
    const toolOutputs = input.filter((i) => i && typeof i.type === 'string' && i.type.endsWith('_output'));
    let d = parseDirectives(prompt);
    // A review of --uncommitted/--base/--commit has codex's fixed text as its
    // prompt: its follow-up takes directives from what the git command
    // printed (e.g. a changed file containing [[sleep:MS]] or [[reply:…]]).
    const lastOutput = toolOutputs.length ? outputText(toolOutputs[toolOutputs.length - 1].output) : '';
    if (review && d.size === 0 && lastOutput) d = parseDirectives(lastOutput);

    if (d.has('fail400')) {
      res.writeHead(400, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ error: { message: 'fake permanent failure', type: 'invalid_request_error', code: 'fake_400' } }));
      return;
    }
    let recoveredN = null;
    if (d.has('fail5xx')) {
      const n = parseInt(d.get('fail5xx') ?? '1', 10) || 0;
      const served = failCounts.get(prompt) ?? 0;
      if (served < n) {
        failCounts.set(prompt, served + 1);
        res.writeHead(500, { 'content-type': 'application/json', connection: 'close' });
        res.end(JSON.stringify({ error: { message: 'fake transient failure', type: 'server_error' } }));
        return;
      }
      recoveredN = n;
    }
    if (d.has('sleep')) {
      const ms = parseInt(d.get('sleep') ?? '0', 10) || 0;
      await new Promise((r) => setTimeout(r, ms));
    }

    const responseId = nextId('resp');
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'close',
    });
    const send = (obj) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
    send({ type: 'response.created', response: { id: responseId } });

    if (d.has('cut')) {
      const n = d.get('cut') === undefined ? Infinity : parseInt(d.get('cut'), 10) || 0;
      const served = cutCounts.get(prompt) ?? 0;
      if (served < n) {
        cutCounts.set(prompt, served + 1);
        record.cut = true;
        const item = { type: 'message', role: 'assistant', id: nextId('msg'), status: 'in_progress', content: [] };
        send({ type: 'response.output_item.added', item });
        const frame = `data: ${JSON.stringify({ type: 'response.output_text.delta', item_id: item.id, output_index: 0, content_index: 0, delta: 'half of an answer' })}`;
        // What was written reaches codex before the socket goes.
        await new Promise((resolve) => res.write(frame.slice(0, frame.length >> 1), resolve));
        res.socket?.destroy();
        return;
      }
    }

    if (d.has('stall')) {
      // Never finish; close() destroys the socket.
      return;
    }

    const items = [];
    if (req.headers['x-openai-subagent'] === 'guardian') {
      // Codex's approval reviewer (approvals_reviewer = "auto_review" with an
      // approval policy that asks): this one allows whatever it is shown.
      record.guardian = true;
      items.push(messageItem(JSON.stringify({ outcome: 'allow', risk_level: 'low', user_authorization: 'high', rationale: 'fake guardian: allowed' })));
    } else if (d.has('shell')) {
      if (toolOutputs.length === 0) {
        // [[escalated]] with it: the command asks to run outside the sandbox.
        const escalated = d.has('escalated') ? { sandbox_permissions: 'require_escalated', justification: 'the user asked for exactly this' } : {};
        items.push(functionCallItem('exec_command', { cmd: d.get('shell') ?? 'true', ...escalated }));
      } else if (d.has('bigreply')) {
        items.push(messageItem(bigReply(parseInt(d.get('bigreply') ?? '0', 10) || 0)));
      } else {
        const line = usefulLine(toolOutputs[toolOutputs.length - 1].output);
        items.push(messageItem(line ? `shell done: ${line}` : 'shell done'));
      }
    } else if (d.has('reason')) {
      items.push(reasoningItem(d.get('reason') ?? ''));
      items.push(messageItem('reasoned'));
    } else if (d.has('multi')) {
      items.push(messageItem('part one'));
      items.push(messageItem('part two'));
    } else if (d.has('history')) {
      items.push(messageItem(prompts.join(' | ')));
    } else if (d.has('bigreply')) {
      items.push(messageItem(bigReply(parseInt(d.get('bigreply') ?? '0', 10) || 0)));
    } else if (d.has('reply')) {
      items.push(messageItem(d.get('reply') ?? ''));
    } else if (recoveredN !== null) {
      items.push(messageItem(`recovered after ${recoveredN}`));
    } else if (review) {
      // A review without an answer directive: run the git command the
      // prompt implies, then answer in codex's review JSON schema.
      if (toolOutputs.length === 0) items.push(functionCallItem('exec_command', { cmd: reviewCommand(prompt) }));
      else items.push(messageItem(JSON.stringify(reviewAnswer(lastOutput, contextCwd(input)))));
    } else {
      items.push(messageItem(prompt));
    }

    for (const item of items) {
      send({ type: 'response.output_item.added', item });
      send({ type: 'response.output_item.done', item });
    }
    const completed = { id: responseId };
    if (d.has('usage')) completed.usage = USAGE;
    send({ type: 'response.completed', response: completed });
    res.end();
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    /** POST /responses requests being answered right now. */
    get inflight() {
      return inflight;
    },
    /** Highest number of POST /responses answered at once so far. */
    get maxInflight() {
      return maxInflight;
    },
    /** Requests (POST /responses only) whose prompt contains `needle`. */
    requestsFor(needle) {
      return requests.filter((r) => !r.ignored && r.prompt.includes(needle));
    },
    /** Requests (POST /responses only) of one codex session: its `session-id` header is the
     * thread id codex printed in thread.started (for a review too, whose sub-agent thread
     * has an id of its own in `thread-id`). */
    requestsForSession(id) {
      return requests.filter((r) => !r.ignored && r.headers?.['session-id'] === id);
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The fake's first POST /responses whose prompt contains needle (polls). */
export async function waitRequest(fake, needle, timeoutMs = 20000) {
  const r = await pollUntil(() => fake.requestsFor(needle).length > 0, timeoutMs, 25);
  assert.ok(r.ok, `the fake never received a request containing ${JSON.stringify(needle)} within ${timeoutMs} ms`);
  return fake.requestsFor(needle)[0];
}
