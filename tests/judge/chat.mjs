// chat.mjs - the openai SDK as judge of a chat completions replay.
// Feeds an SSE transcript (a file, as the curl CLI printed it under the
// shim) to ChatCompletionStream through a fake fetch, and prints the
// completion the SDK accumulates, as JSON. Offline: nothing is fetched.
//   node chat.mjs STREAM_FILE
import fs from 'node:fs';
import OpenAI from 'openai';

const sse = fs.readFileSync(process.argv[2]);
const fakeFetch = async () =>
  new Response(sse, { status: 200, headers: { 'content-type': 'text/event-stream' } });
const client = new OpenAI({
  apiKey: 'judge', baseURL: 'http://judge.invalid/v1', fetch: fakeFetch, maxRetries: 0,
});
const stream = client.chat.completions.stream({
  model: 'judge', messages: [{ role: 'user', content: 'judge' }],
});
const final = await stream.finalChatCompletion();
process.stdout.write(JSON.stringify(final));
