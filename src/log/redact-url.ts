/** Query parameters that carry secrets in the URLs we may print (presigned S3 URLs, tokens). */
const SECRET_PARAMS =
  /([?&](?:x-amz-signature|x-amz-credential|x-amz-security-token|signature|password|secret|token)=)[^&#]*/gi;

/** `scheme://user:password@`: the password part of the authority. */
const PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*):[^@/?#]*@/i;

/**
 * The one redaction of URLs for messages and logs: `url` with its password and the values of
 * secret-bearing query parameters (`X-Amz-Signature`, `token`, ...) replaced by `***`. The user
 * name stays (it names the account, and is no secret). Works on the text, so it also redacts what
 * `new URL` rejects (a MySQL URL naming several hosts) and otherwise leaves the text as it was
 * written; a string that is not a URL comes back unchanged.
 */
export function redactUrl(url: string): string {
  return url.replace(PASSWORD, '$1:***@').replace(SECRET_PARAMS, '$1***');
}
