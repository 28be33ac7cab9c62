/**
 * KMS alias names allow only letters, digits, '/', '_' and '-' after "alias/", at most 256 characters in all,
 * and never the "alias/aws/" prefix AWS keeps for itself
 * (https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html).
 */
export const KMS_ALIAS_NAME = /^alias\/(?!aws\/)[A-Za-z0-9/_-]+$/;
export const KMS_ALIAS_MAX_LENGTH = 256;

/**
 * The alias for a key named after `base` (a bucket or function name): every character an alias does not
 * allow (the dots S3 bucket names may hold) becomes '-'. Throws when the result is still not a valid alias.
 */
export function kmsAliasName(base: string): string {
  const name = `alias/${base.replace(/[^A-Za-z0-9/_-]/g, "-")}`;
  if (name.length > KMS_ALIAS_MAX_LENGTH || !KMS_ALIAS_NAME.test(name)) {
    throw new Error(
      `cannot derive a valid KMS alias from '${base}': got '${name}' (allowed: ${KMS_ALIAS_NAME.source}, at most ${KMS_ALIAS_MAX_LENGTH} characters)`,
    );
  }
  return name;
}
