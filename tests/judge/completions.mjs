// completions.mjs - the openai SDK as judge of a legacy completions replay.
// The SDK parses the SSE transcript (its Stream: it throws on malformed
// events and error payloads, stops at [DONE]); the chunks are then joined
// as a client of this API does: text per choice index, the finish_reason
// and usage from the chunks that carry them. Prints the result as JSON.
//   node completions.mjs STREAM_FILE [include_usage]
import fs from 'node:fs';
import OpenAI from 'openai';

const sse = fs.readFileSync(process.argv[2]);
const fakeFetch = async () =>
  new Response(sse, { status: 200, headers: { 'content-type': 'text/event-stream' } });
const client = new OpenAI({
  apiKey: 'judge', baseURL: 'http://judge.invalid/v1', fetch: fakeFetch, maxRetries: 0,
});
const stream = await client.completions.create({
  model: 'judge', prompt: 'judge', stream: true,
  ...(process.argv[3] ? { stream_options: { include_usage: true } } : {}),
});
let out = null;
for await (const chunk of stream) {
  out ??= { id: chunk.id, object: chunk.object, created: chunk.created, model: chunk.model,
            choices: [] };
  if (chunk.system_fingerprint !== undefined) out.system_fingerprint = chunk.system_fingerprint;
  if (chunk.usage) out.usage = chunk.usage;
  for (const c of chunk.choices) {
    const slot = (out.choices[c.index] ??= { text: '', index: c.index, logprobs: null,
                                             finish_reason: null });
    slot.text += c.text;
    if (c.finish_reason) slot.finish_reason = c.finish_reason;
  }
}
process.stdout.write(JSON.stringify(out));
