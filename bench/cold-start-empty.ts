/**
 * The cold-start baseline: an empty handler, bundled with the same esbuild options as the authorizer. Given
 * `{ fetch: url }` it fetches that URL once, the part of a first JWT decision no authorizer can avoid.
 */
export const handler = async (event?: { fetch?: string }): Promise<{ statusCode: number; body: string }> => {
  if (event?.fetch) await (await fetch(event.fetch)).text();
  return { statusCode: 200, body: '' };
};
