/**
 * Who can sign requests to the local runtime, and the credentials they sign with.
 *
 * Three kinds of caller exist here, as in AWS: IAM users with long-term keys (each
 * account's administrator, and an outsider account's), role sessions issued by
 * AssumeRole, and the Lambda service itself (which assumes each function's execution role).
 */
import { createHash, randomBytes } from "crypto";
import type { PolicyDocument } from "../model/types";

export const OUTSIDER_ACCOUNT_ID = "333333333333";
export const ADMIN_USER_NAME = "administrator";

/** AWS's managed AdministratorAccess policy document. */
export const ADMINISTRATOR_ACCESS: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};

export interface IdentityPolicy {
  readonly name: string;
  readonly document: PolicyDocument;
}

interface PrincipalBase {
  readonly accountId: string;
  /** What AWS reports as the caller's ARN (GetCallerIdentity, error messages). */
  readonly arn: string;
  /** What AWS sets as `aws:PrincipalArn`: the user, or the role behind a session. */
  readonly principalArn: string;
  /** GetCallerIdentity's UserId. */
  readonly userId: string;
  readonly identityPolicies: readonly IdentityPolicy[];
}

export interface UserPrincipal extends PrincipalBase {
  readonly kind: "user";
  readonly userName: string;
}

export interface RoleSessionPrincipal extends PrincipalBase {
  readonly kind: "role-session";
  readonly roleArn: string;
  readonly roleName: string;
  readonly sessionName: string;
  /** A session made by a role session (role chaining) is capped at one hour by AWS. */
  readonly chained: boolean;
}

export type Principal = UserPrincipal | RoleSessionPrincipal;

export interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

interface StoredKey extends IssuedCredentials {
  readonly principal: Principal;
}

const EXPIRED_KEY_GRACE_MS = 3_600_000;

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** AWS-shaped unique ids (AIDA.. for users, AROA.. for roles, ANPA.. for managed policies): a prefix and 17 base32 characters. */
export function uniqueId(prefix: "AIDA" | "AROA" | "ANPA", seed: string): string {
  const digest = createHash("sha256").update(seed).digest();
  let out = prefix;
  for (let i = 0; i < 17; i++) out += BASE32[digest[i] % 32];
  return out;
}

function randomKeyId(prefix: "AKIA" | "ASIA"): string {
  const bytes = randomBytes(16);
  let out = prefix;
  for (let i = 0; i < 16; i++) out += BASE32[bytes[i] % 32];
  return out;
}

export function adminUser(partition: string, accountId: string): UserPrincipal {
  const arn = `arn:${partition}:iam::${accountId}:user/${ADMIN_USER_NAME}`;
  return {
    kind: "user",
    accountId,
    arn,
    principalArn: arn,
    userId: uniqueId("AIDA", arn),
    userName: ADMIN_USER_NAME,
    identityPolicies: [{ name: "arn:aws:iam::aws:policy/AdministratorAccess", document: ADMINISTRATOR_ACCESS }],
  };
}

export function roleSession(opts: {
  partition: string;
  roleArn: string;
  roleId: string;
  sessionName: string;
  identityPolicies: readonly IdentityPolicy[];
  chained: boolean;
}): RoleSessionPrincipal {
  const { accountId, roleName } = parseRoleArn(opts.roleArn);
  return {
    kind: "role-session",
    accountId,
    arn: `arn:${opts.partition}:sts::${accountId}:assumed-role/${roleName}/${opts.sessionName}`,
    principalArn: opts.roleArn,
    userId: `${opts.roleId}:${opts.sessionName}`,
    roleArn: opts.roleArn,
    roleName,
    sessionName: opts.sessionName,
    identityPolicies: opts.identityPolicies,
    chained: opts.chained,
  };
}

/** Role ARNs may carry a path (role/path/name); the session ARN uses only the name. */
export function parseRoleArn(roleArn: string): { accountId: string; roleName: string } {
  const m = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  if (!m) throw new Error(`not a role ARN: ${roleArn}`);
  return { accountId: m[1], roleName: m[2] };
}

/** Every key the runtime has issued; the SigV4 verifier looks secrets up here. */
export class CredentialStore {
  private readonly keys = new Map<string, StoredKey>();
  private lastPrune = 0;

  issueLongTerm(principal: Principal): IssuedCredentials {
    const creds = { accessKeyId: randomKeyId("AKIA"), secretAccessKey: randomBytes(30).toString("base64") };
    this.keys.set(creds.accessKeyId, { ...creds, principal });
    return creds;
  }

  issueSession(principal: RoleSessionPrincipal, durationSeconds: number, now = new Date()): Required<IssuedCredentials> {
    const creds = {
      accessKeyId: randomKeyId("ASIA"),
      secretAccessKey: randomBytes(30).toString("base64"),
      sessionToken: randomBytes(96).toString("base64"),
      // AWS reports expirations to the second.
      expiration: new Date(Math.floor(now.getTime() / 1000) * 1000 + durationSeconds * 1000),
    };
    this.keys.set(creds.accessKeyId, { ...creds, principal });
    this.pruneExpired(now);
    return creds;
  }

  /**
   * Drops session keys that expired more than an hour ago, so a long run's memory stays flat.
   * Within that hour a late request still gets AWS's ExpiredToken rather than "unknown key".
   */
  private pruneExpired(now: Date): void {
    if (now.getTime() - this.lastPrune < 60_000) return;
    this.lastPrune = now.getTime();
    const cutoff = now.getTime() - EXPIRED_KEY_GRACE_MS;
    for (const [id, key] of this.keys) if (key.expiration !== undefined && key.expiration.getTime() <= cutoff) this.keys.delete(id);
  }

  lookup(accessKeyId: string): StoredKey | undefined {
    return this.keys.get(accessKeyId);
  }

  get size(): number {
    return this.keys.size;
  }
}
