// Draws build/bench/peers.json (written by bench/peers.mjs) as an SVG bar
// chart: one panel per figure, one bar per server (its median) with a
// min–max whisker, the ratio to the reference server, and where a goal is
// set a dashed line at the goal (a multiple of the official server's
// median). Hand-written SVG, no dependencies.
// Usage: node bench/plot-peers.mjs [in.json] [out.svg]
//        (defaults: build/bench/peers.json, docs/benchmarks-peers.svg)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const inFile = path.resolve(process.argv[2] ?? path.join(repo, 'build', 'bench', 'peers.json'));
const outFile = path.resolve(process.argv[3] ?? path.join(repo, 'docs', 'benchmarks-peers.svg'));
const data = JSON.parse(fs.readFileSync(inFile, 'utf8'));

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (x, unit) => {
  if (x == null || !Number.isFinite(x)) return 'n/a';
  if (unit === 'MB') return x.toFixed(Math.abs(x) < 10 ? 2 : 1);
  return Math.abs(x) < 10 ? x.toFixed(1) : x.toFixed(0);
};

// Colours by server: codexmcp blues (app-server engine darkest), peers grey and orange.
const COLOURS = { 'codexmcp-appserver': '#1f4e99', 'codexmcp-exec': '#6b9bd8', codexmcp: '#3a6fc1', official: '#6d6d6d', 'codex-mcp-server': '#d9822b' };
const colour = (key, i) => COLOURS[key] ?? ['#2a9d8f', '#8e5ea2', '#c0392b'][i % 3];

const servers = data.servers;
const figures = data.figures;
const COLS = 2;
const PANEL_W = 600;
const GAP = 24;
const MARGIN = 24;
const LABEL_W = 190; // server names left of the bars
const VALUE_W = 120; // value labels right of the bars
const ROW_H = 26;
const PANEL_HEAD = 34;
const PANEL_FOOT = 26;
const panelH = PANEL_HEAD + servers.length * ROW_H + PANEL_FOOT;
const rowsOfPanels = Math.ceil(figures.length / COLS);
const HEAD_H = 104;
const width = MARGIN * 2 + COLS * PANEL_W + (COLS - 1) * GAP;
const goalLines = (data.goals ?? []).filter((g) => g.reference);
const height = HEAD_H + rowsOfPanels * panelH + (rowsOfPanels - 1) * GAP + MARGIN + 20 + (goalLines.length ? 18 + goalLines.length * 16 : 0);

/** A tick's label: as many decimals as the scale's span needs. */
function tickLabel(t, span) {
  const d = span >= 20 ? 0 : span >= 2 ? 1 : 2;
  return Number(t.toFixed(d)).toString();
}

/** Round a scale's top up to 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^k. */
function niceTop(x) {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= x * 1.0001) return m * p;
  return 10 * p;
}

function panel(fig, x0, y0) {
  const out = [];
  const plotX = x0 + LABEL_W;
  const plotW = PANEL_W - LABEL_W - VALUE_W;
  const vals = servers.map((s) => fig.values?.[s.key] ?? null);
  const official = fig.values?.official?.median;
  const goalLine = fig.goal && official != null ? parseGoal(fig.goal) * official : null;
  const hi = Math.max(0, ...vals.filter(Boolean).flatMap((v) => [v.median, v.max ?? v.median]), goalLine ?? 0);
  const lo = Math.min(0, ...vals.filter(Boolean).flatMap((v) => [v.median, v.min ?? v.median]));
  const top = niceTop(hi);
  const bottom = lo < 0 ? -niceTop(-lo) : 0;
  const X = (v) => plotX + ((v - bottom) / (top - bottom)) * plotW;

  out.push(`<rect x="${x0}" y="${y0}" width="${PANEL_W}" height="${panelH}" rx="6" fill="#fafafa" stroke="#dddddd"/>`);
  out.push(`<text x="${x0 + 12}" y="${y0 + 21}" class="ptitle">${esc(fig.title)} <tspan class="unit">(${esc(fig.unit)}${fig.extra ? ', extra' : ''})</tspan></text>`);

  // Grid: 0, the top, and the midpoint.
  const gy0 = y0 + PANEL_HEAD - 4;
  const gy1 = y0 + PANEL_HEAD + servers.length * ROW_H;
  const ticks = [...new Set([bottom, bottom < 0 ? 0 : null, (top + Math.max(bottom, 0)) / 2, top].filter((t) => t != null))];
  for (const t of ticks) {
    out.push(`<line x1="${X(t).toFixed(1)}" y1="${gy0}" x2="${X(t).toFixed(1)}" y2="${gy1}" stroke="${t === 0 ? '#999999' : '#e4e4e4'}" stroke-width="1"/>`);
    out.push(`<text x="${X(t).toFixed(1)}" y="${gy1 + 14}" class="tick" text-anchor="middle">${esc(tickLabel(t, top - bottom))}</text>`);
  }
  if (fig.key === 'start' && data.harnessFloor?.median != null) {
    const fx = X(data.harnessFloor.median).toFixed(1);
    out.push(`<line x1="${fx}" y1="${gy0}" x2="${fx}" y2="${gy1}" stroke="#2a9d8f" stroke-width="1.2" stroke-dasharray="1 2"><title>${esc(`harness floor: spawn \`cat\`, write the initialize line, read it back: ${num(data.harnessFloor.median, 'ms')} ms`)}</title></line>`);
    out.push(`<text x="${x0 + PANEL_W - 12}" y="${y0 + 21}" class="floor" text-anchor="end">${esc(`dotted: harness floor ${num(data.harnessFloor.median, 'ms')} ms (spawn cat, echo)`)}</text>`);
  }
  if (goalLine != null) {
    out.push(`<line x1="${X(goalLine).toFixed(1)}" y1="${gy0}" x2="${X(goalLine).toFixed(1)}" y2="${gy1}" stroke="#c0392b" stroke-width="1.2" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${(X(goalLine) + 3).toFixed(1)}" y="${gy0 + 8}" class="goal">goal ${esc(fig.goal)}</text>`);
  }

  servers.forEach((s, i) => {
    const v = vals[i];
    const cy = y0 + PANEL_HEAD + i * ROW_H + ROW_H / 2;
    out.push(`<text x="${plotX - 8}" y="${cy + 4}" class="label" text-anchor="end">${esc(s.short ?? s.label)}${s.key === data.reference ? ' ★' : ''}</text>`);
    if (!v) {
      out.push(`<text x="${X(0) + 4}" y="${cy + 4}" class="na">n/a</text>`);
      return;
    }
    const xa = X(Math.min(0, v.median));
    const xb = X(Math.max(0, v.median));
    out.push(`<rect x="${xa.toFixed(1)}" y="${(cy - 8).toFixed(1)}" width="${Math.max(1, xb - xa).toFixed(1)}" height="16" fill="${colour(s.key, i)}"><title>${esc(`${s.label}: median ${num(v.median, fig.unit)} ${fig.unit}, min ${num(v.min, fig.unit)}, max ${num(v.max, fig.unit)}, n=${v.n}`)}</title></rect>`);
    if (v.min != null && v.max != null && v.n > 1) {
      const w1 = X(v.min).toFixed(1);
      const w2 = X(v.max).toFixed(1);
      out.push(`<line x1="${w1}" y1="${cy}" x2="${w2}" y2="${cy}" stroke="#222222" stroke-width="1.2"/>`);
      out.push(`<line x1="${w1}" y1="${cy - 5}" x2="${w1}" y2="${cy + 5}" stroke="#222222" stroke-width="1.2"/>`);
      out.push(`<line x1="${w2}" y1="${cy - 5}" x2="${w2}" y2="${cy + 5}" stroke="#222222" stroke-width="1.2"/>`);
    }
    const ratio = v.ratio != null && Number.isFinite(v.ratio) && fig.key !== 'overhead' ? `${v.ratio < 0.1 ? v.ratio.toFixed(3) : v.ratio.toFixed(2)}×` : '';
    out.push(`<text x="${x0 + PANEL_W - VALUE_W + 8}" y="${cy + 4}" class="value">${esc(num(v.median, fig.unit))}</text>`);
    if (ratio) out.push(`<text x="${x0 + PANEL_W - 12}" y="${cy + 4}" class="ratio" text-anchor="end">${esc(ratio)}</text>`);
  });
  return out.join('\n');
}

/** '≤ 1/20 of official' → 0.05, '≤ 0.8× official' → 0.8. */
function parseGoal(text) {
  const m = /([\d.]+)\s*\/\s*([\d.]+)/.exec(text);
  if (m) return Number(m[1]) / Number(m[2]);
  const n = /([\d.]+)\s*×/.exec(text);
  return n ? Number(n[1]) : NaN;
}

const ref = servers.find((s) => s.key === data.reference);
const versions = [...new Set(servers.map((s) => (s.family === 'official' ? `${s.version ?? s.key} mcp-server` : s.version ?? s.key)))].join(' · ');
const head = [
  `<text x="${MARGIN}" y="${MARGIN + 14}" class="title">codexmcp and its peers</text>`,
  `<text x="${MARGIN}" y="${MARGIN + 36}" class="sub">${esc(`${data.machine.cpu ?? ''}, ${data.machine.nproc} cores, ${data.machine.arch}; node ${data.versions.node}; engine of codexmcp and codex-mcp-server ${data.versions.codex ?? ''}; fake Responses endpoint (answers at once)`)}</text>`,
  `<text x="${MARGIN}" y="${MARGIN + 54}" class="sub">${esc(`median of ${data.config.rounds} rounds, whiskers min–max; ratios to ${ref ? (ref.short ?? ref.label) + ' ★' : 'n/a'}; ${data.config.parallel} parallel calls (codexmcp --max-parallel ${data.config.codexmcpMaxParallel}); ${data.date.slice(0, 10)}`)}</text>`,
  `<text x="${MARGIN}" y="${MARGIN + 70}" class="sub">${esc(versions)}</text>`,
];
const panels = figures.map((f, i) => panel(f, MARGIN + (i % COLS) * (PANEL_W + GAP), HEAD_H + Math.floor(i / COLS) * (panelH + GAP)));
const footY = HEAD_H + rowsOfPanels * panelH + (rowsOfPanels - 1) * GAP + 30;
const foot = goalLines.length
  ? [`<text x="${MARGIN}" y="${footY}" class="ptitle">${esc(`goals, ${ref ? ref.short ?? ref.label : 'codexmcp'} ÷ official (medians of this run)`)}</text>`,
     ...goalLines.map((g, i) => `<text x="${MARGIN}" y="${footY + 18 + i * 16}" class="label"><tspan class="${g.pass ? 'pass' : 'miss'}">${g.pass ? 'PASS' : 'MISS'}</tspan>  ${esc(`${g.title}: ${g.ratio != null ? g.ratio.toFixed(3) + '×' : 'n/a'}, goal ${g.goal}`)}</text>`)].join('\n')
  : '';

const svg = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, 'DejaVu Sans', 'Liberation Sans', sans-serif">
<style>
.title { font-size: 20px; font-weight: bold; fill: #222222; }
.sub { font-size: 11.5px; fill: #555555; }
.ptitle { font-size: 13px; font-weight: bold; fill: #222222; }
.unit { font-weight: normal; fill: #666666; }
.label { font-size: 12px; fill: #333333; }
.value { font-size: 12px; fill: #222222; }
.ratio { font-size: 12px; fill: #777777; }
.tick { font-size: 10px; fill: #888888; }
.goal { font-size: 10px; fill: #c0392b; }
.floor { font-size: 10px; fill: #2a9d8f; }
.na { font-size: 11px; fill: #999999; font-style: italic; }
.pass { font-weight: bold; fill: #1e8449; }
.miss { font-weight: bold; fill: #c0392b; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
${head.join('\n')}
${panels.join('\n')}
${foot}
</svg>
`;
fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, svg);
console.log(`wrote ${path.relative(process.cwd(), outFile) || outFile}`);

// The same data as a table in docs/benchmarks.md, between its markers (the
// rest of that page is written by hand).
const mdFile = path.join(path.dirname(outFile), 'benchmarks.md');
const BEGIN = '<!-- peers table: written by bench/plot-peers.mjs from build/bench/peers.json -->';
const END = '<!-- end of peers table -->';
const cell = (v, unit) => (v ? `${num(v.median, unit)} (${num(v.min, unit)}–${num(v.max, unit)})` : 'n/a');
const ratio = (v) => (v && Number.isFinite(v.ratio) ? `${v.ratio.toFixed(2)}×` : '—');
const lines = [];
lines.push(`Medians over ${figures[0]?.values?.[servers[0].key]?.n ?? '?'} rounds, (min–max), and the ratio to ${servers[0].label}.`, '');
lines.push(`| figure | ${servers.map((s) => s.label).join(' | ')} |`);
lines.push(`|---|${servers.map(() => '---|').join('')}`);
for (const f of figures) {
  const row = servers.map((s) => {
    const v = f.values[s.key];
    return f.key === 'overhead' ? cell(v, f.unit) : `${cell(v, f.unit)} · ${ratio(v)}`;
  });
  lines.push(`| ${f.title} (${f.unit})${f.extra ? ' *' : ''} | ${row.join(' | ')} |`);
}
lines.push('', '\\* an extra figure, not one of the goals.', '');
lines.push('| goal | ratio | |', '|---|---|---|');
for (const g of (data.goals ?? []).filter((x) => x.reference)) {
  lines.push(`| ${g.title}: ${g.goal} | ${g.ratio.toFixed(3)}× | ${g.pass ? 'met' : '**missed**'} |`);
}
const m = data.machine ?? {};
lines.push(
  '',
  `Machine: ${m.cpu ?? '?'}, ${m.nproc ?? '?'} cores, ${m.arch ?? '?'}, ${m.kernel ?? '?'}; load average ${m.loadavgStart?.[0] ?? '?'} at the start, ${m.loadavgEnd?.[0] ?? '?'} at the end.`,
  `Versions: ${Object.entries(data.versions ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
  `Command: \`${data.command}\` (${data.date ?? ''}).`,
);
let md = fs.existsSync(mdFile) ? fs.readFileSync(mdFile, 'utf8') : `# Benchmarks\n\n${BEGIN}\n${END}\n`;
const i = md.indexOf(BEGIN);
const j = md.indexOf(END);
if (i < 0 || j < i) md += `\n${BEGIN}\n${END}\n`;
const a = md.indexOf(BEGIN);
const b = md.indexOf(END);
md = md.slice(0, a + BEGIN.length) + '\n' + lines.join('\n') + '\n' + md.slice(b);
fs.writeFileSync(mdFile, md);
console.log(`wrote ${path.relative(process.cwd(), mdFile) || mdFile}`);
