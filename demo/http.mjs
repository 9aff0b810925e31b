/**
 * The demo's HTTP plumbing, apart from sessions and pages: form bodies, redirects, the
 * security headers of every response, whether a request came over HTTPS, and the
 * same-origin check of form posts.
 */
import { Buffer } from 'node:buffer';
import { URLSearchParams } from 'node:url';

/** @typedef {import('sealed-session/node').HTTPEvent} HTTPEvent */

/** Largest form body accepted, in bytes: the demo's forms hold a name or a button value. */
const BODY_LIMIT = 4 * 1024;

/** A failure to answer with its status and a message page, not with a 500. */
export class HttpError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * The node:http request behind an event of the `sealed-session/node` listener, which
 * HTTPEvent does not type (it is the same for every runtime).
 *
 * @param {HTTPEvent} event
 */
export function nodeRequestOf(event) {
  return /** @type {import('node:http').IncomingMessage} */ (
    /** @type {unknown} */ (event.node?.req)
  );
}

/**
 * Whether this request arrived over HTTPS.
 *
 * @param {import('node:http').IncomingMessage} req
 * @param {boolean} trustProxy - believe X-Forwarded-Proto, which any client can send
 */
export function isHttps(req, trustProxy) {
  if (/** @type {{ encrypted?: boolean }} */ (req.socket).encrypted === true) return true;
  if (!trustProxy) return false;
  const proto = req.headers['x-forwarded-proto'];
  // A chain of proxies appends: the first value is what the client spoke to the outermost.
  const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim();
  return first === 'https';
}

/**
 * Reads an application/x-www-form-urlencoded body of at most BODY_LIMIT bytes.
 *
 * @param {import('node:http').IncomingMessage} req
 * @returns {Promise<URLSearchParams>}
 */
export function readForm(req) {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    return Promise.reject(
      new HttpError(415, 'Forms must be sent as application/x-www-form-urlencoded.'),
    );
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > BODY_LIMIT) {
    req.resume();
    return Promise.reject(new HttpError(413, 'The form is too large.'));
  }
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    let done = false;
    req.on('data', (/** @type {Buffer} */ chunk) => {
      if (done) return;
      size += chunk.length;
      // Chunked bodies declare no length: count what actually arrives.
      if (size > BODY_LIMIT) {
        done = true;
        req.resume(); // discard the rest
        reject(new HttpError(413, 'The form is too large.'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    });
    req.on('error', (error) => {
      if (done) return;
      done = true;
      reject(error);
    });
  });
}

/**
 * 303 See Other, so that a reload after a form post repeats the GET, not the post.
 *
 * @param {string} location
 */
export function redirect(location) {
  return new Response(null, { status: 303, headers: { location } });
}

/**
 * Headers of every response: pages show session data, so no cache keeps them, and the
 * pages have no scripts, so the content security policy allows none.
 *
 * @param {HTTPEvent} event
 */
export function setSecurityHeaders(event) {
  event.setResponseHeader('cache-control', 'no-store');
  event.setResponseHeader('x-content-type-options', 'nosniff');
  event.setResponseHeader('referrer-policy', 'no-referrer');
  event.setResponseHeader(
    'content-security-policy',
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  );
}

/**
 * Same-origin check for POSTs. SameSite=Lax already keeps the cookie off cross-site
 * POSTs; this also refuses them outright.
 *
 * @param {HTTPEvent} event
 * @param {boolean} trustProxy
 * @throws {HttpError} 403 when the Origin header names another origin
 */
export function checkOrigin(event, trustProxy) {
  const origin = event.getRequestHeader('origin');
  // No Origin (older browsers, curl) or an opaque one: nothing to compare against.
  if (origin === undefined || origin === 'null') return;
  const scheme = isHttps(nodeRequestOf(event), trustProxy) ? 'https' : 'http';
  if (origin !== `${scheme}://${event.getRequestHeader('host') ?? ''}`) {
    throw new HttpError(403, 'Cross-origin form posts are refused.');
  }
}
