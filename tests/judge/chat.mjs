// chat.mjs - the openai SDK as judge of a chat completions replay.
// Feeds an SSE transcript (as the curl CLI printed it under the shim) to
// ChatCompletionStream through a fake fetch, and returns the completion
// the SDK accumulates. Offline: nothing is fetched. Loaded by serve.mjs.
import OpenAI from 'openai';

import { fakeFetchOf } from './transport.mjs';

export default async function judge(sse) {
  const client = new OpenAI({
    apiKey: 'judge', baseURL: 'http://judge.invalid/v1', fetch: fakeFetchOf(sse), maxRetries: 0,
  });
  const stream = client.chat.completions.stream({
    model: 'judge', messages: [{ role: 'user', content: 'judge' }],
  });
  return await stream.finalChatCompletion();
}
