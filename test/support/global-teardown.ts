/** Stops the moto that global-setup.ts started (a reused GATEHOUSE_TEST_AWS_ENDPOINT is left running). */
export default async function globalTeardown(): Promise<void> {
  const moto = globalThis.__gatehouseMoto;
  if (!moto) return;
  globalThis.__gatehouseMoto = undefined;
  await moto.stop();
  // Watch mode runs setup again in this process: it must start a new server, not reuse this dead endpoint.
  delete process.env.GATEHOUSE_TEST_AWS_ENDPOINT;
  delete process.env.AWS_ENDPOINT_URL;
}
