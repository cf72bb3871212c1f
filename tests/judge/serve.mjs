// serve.mjs - the SDK judges as one long-running process, so that the test
// suite pays Node's start-up once instead of once per judged stream.
// Reads one JSON request per line on stdin:
//   {"kind": "chat", "file": "/path/stream.sse", "args": {...}}
// loads ./<kind>.mjs (its default export: async (sseBytes, args) => result)
// and answers one JSON line on stdout: {"ok": result} or {"error": "..."}.
// Offline: each judge feeds the transcript to an SDK through a fake fetch.
import fs from 'node:fs';
import readline from 'node:readline';

const judges = new Map();
const KINDS = /^[a-z]+$/;

async function judgeFor(kind) {
  if (!KINDS.test(kind)) throw new Error(`bad judge kind ${kind}`);
  if (!judges.has(kind)) judges.set(kind, (await import(`./${kind}.mjs`)).default);
  return judges.get(kind);
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let answer;
  try {
    const req = JSON.parse(line);
    const judge = await judgeFor(req.kind);
    answer = { ok: await judge(fs.readFileSync(req.file), req.args ?? {}) };
  } catch (e) {
    answer = { error: String(e && e.stack ? e.stack : e) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
