import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import type { CallerConfig } from "./config";
import { StsCredentialError } from "./errors";

type CredentialProvider = ReturnType<typeof fromTemporaryCredentials>;

/**
 * Role chaining (the Lambda execution role assuming another role) caps sessions at
 * one hour, so 3600 s is both the longest allowed and the fewest STS calls.
 */
export const SESSION_DURATION_SECONDS = 3600;

/**
 * Wraps a credential provider so any failure becomes a {@link StsCredentialError}.
 * Errors thrown by the SDK don't say which service produced them; this does.
 */
export function tagStsErrors(provider: CredentialProvider): CredentialProvider {
  return async (props) => {
    try {
      return await provider(props);
    } catch (err) {
      throw new StsCredentialError(err);
    }
  };
}

/**
 * Credentials for the invoker role in the callee's account.
 *
 * No AssumeRole happens here: the LambdaClient memoizes this provider and calls it
 * again only when the session is within five minutes of expiry, so a warm
 * container does one AssumeRole per hour, not one per invocation.
 */
export function invokerRoleCredentials(config: CallerConfig): CredentialProvider {
  return tagStsErrors(
    fromTemporaryCredentials({
      params: {
        RoleArn: config.invokerRoleArn,
        RoleSessionName: config.roleSessionName,
        DurationSeconds: SESSION_DURATION_SECONDS,
        ...(config.externalId !== undefined ? { ExternalId: config.externalId } : {}),
      },
      // The caller's own region: STS is called from account A, close to where it runs.
      clientConfig: { region: config.region },
    }),
  );
}
