/**
 * `.local-aws/config` and `.local-aws/credentials`: the stock AWS CLI and SDKs find the runtime
 * through `endpoint_url` in each profile, with AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE.
 */
import * as fs from "fs";
import * as path from "path";
import type { NamedCredentials } from "./server/runtime";

export interface ProfileFiles {
  readonly configFile: string;
  readonly credentialsFile: string;
}

export function renderConfig(profiles: readonly NamedCredentials[], endpoint: string, region: string): string {
  const header = "# Written by `make local` for the local runtime at " + endpoint + ". Regenerated on every start.\n";
  return (
    header +
    profiles
      .map((p) => `\n# ${p.principalArn}\n[profile ${p.profile}]\nregion = ${region}\nendpoint_url = ${endpoint}\noutput = json\n`)
      .join("")
  );
}

export function renderCredentials(profiles: readonly NamedCredentials[]): string {
  const header = "# Written by `make local`: credentials issued by the local runtime; they mean nothing to AWS.\n";
  return (
    header +
    profiles
      .map((p) => {
        const lines = [`[${p.profile}]`, `aws_access_key_id = ${p.accessKeyId}`, `aws_secret_access_key = ${p.secretAccessKey}`];
        if (p.sessionToken !== undefined) lines.push(`aws_session_token = ${p.sessionToken}`);
        return "\n" + lines.join("\n") + "\n";
      })
      .join("")
  );
}

/** Writes both files atomically, readable by the owner only (they hold secrets, even if local ones). */
export function writeProfiles(dir: string, profiles: readonly NamedCredentials[], endpoint: string, region: string): ProfileFiles {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const configFile = path.join(dir, "config");
  const credentialsFile = path.join(dir, "credentials");
  writeAtomic(configFile, renderConfig(profiles, endpoint, region));
  writeAtomic(credentialsFile, renderCredentials(profiles));
  return { configFile, credentialsFile };
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
}
