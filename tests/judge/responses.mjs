// responses.mjs - the openai SDK as judge of a Responses API replay.
// Feeds an SSE transcript (as the curl CLI printed it under the shim) to
// client.responses.stream() through a fake fetch, and returns the response
// the SDK's ResponseStream ends with (finalResponse(): it throws on an
// event its accumulator cannot apply, e.g. a delta for a part that was
// never added). Offline: nothing is fetched. Loaded by serve.mjs.
//
// args.items: also return, for every response.output_item.done event, the
// item as the SDK's own accumulator (accumulateResponse) rebuilt it from
// output_item.added and the events after it, just before the done event
// replaces it: { final, items: [...] }.
import OpenAI from 'openai';
import { accumulateResponse } from 'openai/lib/responses/ResponseAccumulator';

import { fakeFetchOf } from './transport.mjs';

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

export default async function judge(sse, args) {
  const client = new OpenAI({
    apiKey: 'judge', baseURL: 'http://judge.invalid/v1', fetch: fakeFetchOf(sse), maxRetries: 0,
  });
  const stream = client.responses.stream({ model: 'judge', input: 'judge' });
  const items = [];
  let snapshot;
  stream.on('event', (event) => {
    if (!args.items || TERMINAL.has(event.type)) return;
    if (event.type === 'response.output_item.done') {
      items.push(structuredClone(snapshot.output[event.output_index]));
    }
    snapshot = accumulateResponse(event, snapshot);
  });
  const final = await stream.finalResponse();
  return args.items ? { final, items } : final;
}
