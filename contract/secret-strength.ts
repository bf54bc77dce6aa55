/** Service and signer secrets shorter than this never match: an empty, blank or truncated value must not become a password. */
export const MIN_SERVICE_SECRET_BYTES = 32;

const WHITESPACE = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20]);

/**
 * Whether secret material is too weak to use: shorter than `minBytes`, or mostly blank (an operator's placeholder
 * of spaces is as guessable as an empty string). Random binary secrets have a whitespace byte now and then, so the
 * rule is at least half the minimum in non-whitespace bytes, not all of them. The authorizer refuses to verify
 * with such a secret, and the rotation function refuses to stage one.
 */
export function isWeakSecret(secret: Uint8Array, minBytes: number): boolean {
  if (secret.length < minBytes) return true;
  let solid = 0;
  for (const b of secret) if (!WHITESPACE.has(b)) solid++;
  return solid < minBytes / 2;
}
