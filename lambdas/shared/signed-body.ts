import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createHash, timingSafeEqual } from 'node:crypto';
import { authContextOf } from './auth-context';
import { HttpError, type ProxyRequest } from './http-errors';
import { rawBody } from './json-body';
import { SIGNATURE_SCHEME } from '../../contract/signing';
import { CONTENT_SHA256_HEADER } from '../../contract/headers';
import { SHA256_HEX_PATTERN } from '../../contract/patterns';

/** Reason code (logs, metrics) of a signed request whose body is not the one signed. */
export const SIGNED_BODY_MISMATCH = 'SIGNED_BODY_MISMATCH';

/**
 * For a `signed` caller, checks that the body this handler received is the body that was signed: its SHA-256, over
 * the bytes exactly as received (base64-decoded when API Gateway encoded them; no body hashes as the empty string),
 * must equal the context's `bodySha256`, the X-Content-SHA256 value the authorizer verified under the signature.
 * API Gateway never shows the body to an authorizer, so without this check a signature would prove nothing about
 * the body. The digests are compared in constant time.
 *
 * A mismatch is 401 `unauthorized` with `WWW-Authenticate: GH-HMAC-SHA256` (reason SIGNED_BODY_MISMATCH); a signed
 * context without a well-formed bodySha256 is a generic 500 (AUTH_CONTEXT_INVALID): it fails closed. Every other
 * kind passes untouched after one comparison. Use right after authContext(); httpHandler always wires it.
 */
export function signedBody(): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const signedBodyBefore = (request: ProxyRequest): void => {
    const auth = authContextOf(request.context);
    if (auth.kind !== 'signed') return;
    // authContext() already refuses a malformed value; checked again so this middleware never trusts its wiring.
    if (typeof auth.bodySha256 !== 'string' || !SHA256_HEX_PATTERN.test(auth.bodySha256)) {
      throw new HttpError(500, 'internal_error', 'internal error', { reason: 'AUTH_CONTEXT_INVALID', log: { fields: ['bodySha256'] } });
    }
    const body = rawBody(request.event);
    const received = createHash('sha256').update(body).digest();
    if (!timingSafeEqual(received, Buffer.from(auth.bodySha256, 'hex'))) {
      throw new HttpError(401, 'unauthorized', `the body does not match ${CONTENT_SHA256_HEADER}`, {
        reason: SIGNED_BODY_MISMATCH,
        headers: { 'WWW-Authenticate': SIGNATURE_SCHEME },
        log: { bodyBytes: body.length },
      });
    }
  };
  return { before: signedBodyBefore };
}
