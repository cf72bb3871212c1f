// transport.mjs - a fake fetch for the judges: answers with the SSE
// transcript as a network would, in pieces of at most 16 KiB (a body
// handed over as one 15 MB piece makes the SDKs' line decoders copy their
// buffer once per line: quadratic, minutes for the 1 MiB fixtures).
const PIECE = 16384;

export function sseResponse(bytes) {
  let at = 0;
  const body = new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(new Uint8Array(bytes.subarray(at, at + PIECE)));
      at += PIECE;
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

// A fetch that answers every request with the transcript.
export const fakeFetchOf = (bytes) => async () => sseResponse(bytes);
