// check.mjs PARQUET JSONL reads a profile_export.parquet with two Parquet
// implementations other than loadstar's own writer — hyparquet (JavaScript)
// and arrow-rs (Rust, through parquet-wasm) — and compares every row with
// the profile_export.jsonl line of the same request (by x_request_id):
// every metric (the inter-chunk latencies element by element), the ids,
// the phase and the wall-clock ns. Exit status 1 on any difference.
import fs from 'node:fs';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import * as arrowrs from 'parquet-wasm';
import { tableFromIPC } from 'apache-arrow';

const [pqPath, jsonlPath] = process.argv.slice(2);
const buf = fs.readFileSync(pqPath);
const hyRows = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), compressors });
const arrow = tableFromIPC(arrowrs.readParquet(new Uint8Array(buf)).intoIPCStream());
// JSON.parse loses the low digits of ns timestamps: those are read from the
// line's text.
const lines = fs.readFileSync(jsonlPath, 'utf8').trim().split('\n').map(text => ({ text, ...JSON.parse(text) }));
const byID = new Map(lines.map(l => [l.metadata.x_request_id, l]));

let bad = 0, compared = 0, errors = 0;
const report = (...a) => { if (bad++ < 10) console.log(...a); };
const near = (a, b) => a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
if (hyRows.length !== lines.length || arrow.numRows !== lines.length) {
  report(`rows: hyparquet ${hyRows.length}, arrow-rs ${arrow.numRows}, JSONL ${lines.length}`);
}
for (let i = 0; i < hyRows.length; i++) {
  const hy = hyRows[i], ar = arrow.get(i).toJSON(), line = byID.get(hy.x_request_id);
  if (!line) { report(`row ${i}: x_request_id ${hy.x_request_id} is not in the JSONL`); continue; }
  for (const [tag, { value }] of Object.entries(line.metrics)) {
    compared++;
    if (Array.isArray(value)) {
      const h = Array.from(hy[tag] ?? []), a = Array.from(ar[tag] ?? []);
      if (h.length !== value.length || a.length !== value.length || !value.every((x, j) => near(h[j], x) && near(a[j], x))) {
        report(`row ${i} ${tag}: JSONL ${value.length} values, hyparquet ${h.length}, arrow-rs ${a.length}`);
      }
    } else if (!near(Number(hy[tag]), value) || !near(Number(ar[tag]), value)) {
      report(`row ${i} ${tag}: JSONL ${value}, hyparquet ${hy[tag]}, arrow-rs ${ar[tag]}`);
    }
  }
  for (const k of ['x_correlation_id', 'conversation_id', 'benchmark_phase']) {
    const want = line.metadata[k];
    if (want !== undefined && (hy[k] !== want || ar[k] !== want)) report(`row ${i} ${k}: JSONL ${want}, hyparquet ${hy[k]}, arrow-rs ${ar[k]}`);
  }
  for (const k of ['session_num', 'turn_index', 'request_start_ns', 'request_end_ns']) {
    const m = line.text.match(new RegExp(`"${k}":(-?[0-9]+)`));
    if (m && (BigInt(hy[k]) !== BigInt(m[1]) || BigInt(ar[k]) !== BigInt(m[1]))) report(`row ${i} ${k}: JSONL ${m[1]}, hyparquet ${hy[k]}, arrow-rs ${ar[k]}`);
  }
  if (line.error) {
    errors++;
    if (hy.error_type !== line.error.type || ar.error_type !== line.error.type || Number(hy.error_code) !== line.error.code) {
      report(`row ${i} error: JSONL ${line.error.code} ${line.error.type}, hyparquet ${hy.error_code} ${hy.error_type}, arrow-rs ${ar.error_code} ${ar.error_type}`);
    }
  }
}
console.log(`${pqPath}: ${hyRows.length} rows (${errors} errors), ${compared} metric values and every row's ids, phase and times compared with the JSONL by hyparquet and arrow-rs: ${bad} differences`);
process.exit(bad ? 1 : 0);
