// completions.mjs - the openai SDK as judge of a legacy completions replay.
// The SDK parses the SSE transcript (its Stream: it throws on malformed
// events and error payloads, stops at [DONE]); the chunks are then joined
// as a client of this API does: text per choice index, the finish_reason
// and usage from the chunks that carry them. Loaded by serve.mjs;
// args.include_usage asks for the usage chunk.
import OpenAI from 'openai';

import { fakeFetchOf } from './transport.mjs';

export default async function judge(sse, args) {
  const client = new OpenAI({
    apiKey: 'judge', baseURL: 'http://judge.invalid/v1', fetch: fakeFetchOf(sse), maxRetries: 0,
  });
  const stream = await client.completions.create({
    model: 'judge', prompt: 'judge', stream: true,
    ...(args.include_usage ? { stream_options: { include_usage: true } } : {}),
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
  return out;
}
