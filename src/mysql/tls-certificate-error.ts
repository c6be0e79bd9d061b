import { PitrError, messageOf } from '../errors/index.js';

/** What is wrong with the server certificate. */
export type TlsCertificateProblem = 'unknown-ca' | 'host-mismatch' | 'expired' | 'not-yet-valid' | 'other';

/**
 * The server's TLS certificate was rejected: it does not chain to a trusted CA, does not name the
 * host, has expired, or is otherwise invalid. Permanent: retrying cannot fix it (the archiver does
 * not retry it), and the message says which setting or certificate to change.
 */
export class TlsCertificateError extends PitrError {
  /** The server as `host:port`. */
  readonly target: string;
  readonly problem: TlsCertificateProblem;

  constructor(message: string, target: string, problem: TlsCertificateProblem, options?: ErrorOptions) {
    super('MYSQL_TLS', message, options);
    this.target = target;
    this.problem = problem;
  }
}

// OpenSSL verify results as Node reports them (code, or message after mysql2 replaced the code
// with HANDSHAKE_SSL_ERROR): https://docs.openssl.org/3.0/man1/openssl-verify/#diagnostics
const PROBLEMS: [RegExp, TlsCertificateProblem][] = [
  [/CERT_HAS_EXPIRED|certificate has expired/i, 'expired'],
  [/CERT_NOT_YET_VALID|certificate is not yet valid/i, 'not-yet-valid'],
  [
    /ERR_TLS_CERT_ALTNAME_INVALID|does not match certificate's altnames|Hostname\/IP does not match/i,
    'host-mismatch',
  ],
  [
    /SELF_SIGNED|self[- ]signed certificate|unable to get (local )?issuer certificate|unable to verify the first certificate|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/i,
    'unknown-ca',
  ],
  [
    /certificate (signature failure|revoked)|CERT_(SIGNATURE_FAILURE|REVOKED)|invalid CA certificate/i,
    'other',
  ],
];

const ADVICE: Record<TlsCertificateProblem, string> = {
  'unknown-ca':
    'the server certificate is not signed by a trusted CA: give the CA that signed it with --tls-ca FILE ' +
    '(MYSQL_PITR_TLS_CA; for RDS the regional bundle from https://truststore.pki.rds.amazonaws.com), ' +
    'or check that this is the server you meant',
  'host-mismatch':
    'the server certificate is valid but was issued for another host name: connect with a host name the ' +
    'certificate names (its subjectAltName), or reissue the certificate; --tls-mode verify-ca skips the ' +
    'name check, at the price of trusting any server holding a certificate of that CA',
  expired: 'the server certificate has expired: renew it on the server (then FLUSH SSL, or restart it)',
  'not-yet-valid':
    "the server certificate is not valid yet: check the clocks of this host and the server, or the certificate's dates",
  other: 'the server certificate was rejected: check it and the CA given with --tls-ca',
};

/** The certificate problem `err` (a TLS handshake error) reports, or undefined for anything else. */
export function tlsCertificateProblem(err: unknown): TlsCertificateProblem | undefined {
  if (!(err instanceof Error)) return undefined;
  const text = `${(err as { code?: unknown }).code as string} ${err.message}`;
  return PROBLEMS.find(([re]) => re.test(text))?.[1];
}

/**
 * A TlsCertificateError for a handshake error that is a certificate problem, else undefined.
 * `attempted` says what was being done ("connect to mysql://repl@db1:3306").
 */
export function toTlsCertificateError(
  err: unknown,
  attempted: string,
  target: string,
): TlsCertificateError | undefined {
  const problem = tlsCertificateProblem(err);
  if (!problem) return undefined;
  return new TlsCertificateError(
    `${attempted} failed: TLS certificate rejected (${messageOf(err)}): ${ADVICE[problem]}`,
    target,
    problem,
    { cause: err },
  );
}
