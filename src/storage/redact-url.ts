/** Query parameters that carry secrets in the URLs we may print (presigned S3 URLs, tokens). */
const SECRET_PARAMS =
  /^(x-amz-signature|x-amz-credential|x-amz-security-token|signature|password|secret|token)$/i;

/**
 * `url` with its password, user name and secret-bearing query parameters replaced by `***`, for
 * messages and logs. A string that is not a URL is returned unchanged.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (parsed.password) parsed.password = '***';
  if (parsed.username) parsed.username = '***';
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAMS.test(name)) parsed.searchParams.set(name, '***');
  }
  return parsed.href;
}
