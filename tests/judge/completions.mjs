// completions.mjs - the openai SDK as judge of a legacy completions replay.
// The SDK parses the SSE transcript (its Stream: it throws on malformed
// events and error payloads, stops at [DONE]); the chunks are then joined
// as a client of this API does: text per choice index, logprobs per choice
// index (each of tokens, token_logprobs, top_logprobs and text_offset
// concatenated over the chunks; a member that is null stays null), the
// finish_reason and usage from the chunks that carry them. Loaded by
// serve.mjs; args.include_usage asks for the usage chunk.
import OpenAI from 'openai';

import { fakeFetchOf } from './transport.mjs';

// Append one chunk's logprobs to a choice's: arrays concatenated, any
// other value (null) kept as the chunk says.
function joinLogprobs(slot, logprobs) {
  slot.logprobs ??= {};
  for (const [key, value] of Object.entries(logprobs)) {
    if (Array.isArray(value)) slot.logprobs[key] = (slot.logprobs[key] ?? []).concat(value);
    else if (!(key in slot.logprobs)) slot.logprobs[key] = value;
  }
}

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
      if (c.logprobs) joinLogprobs(slot, c.logprobs);
      if (c.finish_reason) slot.finish_reason = c.finish_reason;
    }
  }
  return out;
}
