// messages.mjs - the Anthropic SDK as judge of a Messages replay.
// Feeds an SSE transcript (as the curl CLI printed it under the shim) to
// MessageStream through a fake fetch, and returns the message the SDK
// accumulates (finalMessage()). Offline: nothing is fetched. Loaded by
// serve.mjs. The SDK drops events without an `event:` line and skips
// `ping`, so a replay that forgets either framing rule fails here.
import Anthropic from '@anthropic-ai/sdk';

import { fakeFetchOf } from './transport.mjs';

export default async function judge(sse) {
  const client = new Anthropic({
    apiKey: 'judge', baseURL: 'http://judge.invalid', fetch: fakeFetchOf(sse), maxRetries: 0,
  });
  const stream = client.messages.stream({
    model: 'judge', max_tokens: 1, messages: [{ role: 'user', content: 'judge' }],
  });
  return await stream.finalMessage();
}
