/** Lambda's FunctionName and Qualifier: the forms a caller may write, checked as the Lambda API model constrains them. */
import { ok, type Result } from "../../wire/result";
import { constraint } from "../../wire/validation";
import { refusal, validationRefusal, type LambdaErrorSpec } from "./errors";

export interface FunctionIdentifier {
  partition: string;
  accountId: string;
  region: string;
  name: string;
  qualifier?: string;
  /** Unqualified: arn:<partition>:lambda:<region>:<account>:function:<name>. */
  arn: string;
}

// The Lambda API model's constraints, shown to callers exactly as the model writes them.
export const FUNCTION_NAME_PATTERN =
  "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";
const FUNCTION_NAME_REGEX =
  /^(?:arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d:)?(\d{12}:)?(function:)?([a-zA-Z0-9._-]+)(?::(\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9_-]+))?$/;
const FUNCTION_NAME_MAX = 256;
/** "If you specify only the function name, it is limited to 64 characters in length." */
const BARE_NAME_MAX = 64;
const QUALIFIER_PATTERN = "(|[a-zA-Z0-9$_-]+)";
const QUALIFIER_REGEX = /^[a-zA-Z0-9$_-]*$/;
const QUALIFIER_MAX = 128;

export function checkFunctionName(name: string, problems: string[]): void {
  if (name.length < 1) problems.push(constraint(name, "functionName", "have length greater than or equal to 1"));
  if (name.length > FUNCTION_NAME_MAX)
    problems.push(constraint(name, "functionName", `have length less than or equal to ${FUNCTION_NAME_MAX}`));
  if (!FUNCTION_NAME_REGEX.test(name))
    problems.push(constraint(name, "functionName", `satisfy regular expression pattern: ${FUNCTION_NAME_PATTERN}`));
}

export function checkQualifier(qualifier: string, problems: string[]): void {
  if (qualifier.length < 1) problems.push(constraint(qualifier, "qualifier", "have length greater than or equal to 1"));
  if (qualifier.length > QUALIFIER_MAX)
    problems.push(constraint(qualifier, "qualifier", `have length less than or equal to ${QUALIFIER_MAX}`));
  if (!QUALIFIER_REGEX.test(qualifier))
    problems.push(constraint(qualifier, "qualifier", `satisfy regular expression pattern: ${QUALIFIER_PATTERN}`));
}

/**
 * Splits any of Lambda's FunctionName forms (name, name:qualifier, 123456789012:function:name[:q],
 * arn:aws:lambda:region:123456789012:function:name[:q]) into its parts. A bare name belongs to
 * `defaultAccount`; `qualifier` is the Qualifier parameter, which must agree with one in the name.
 */
export function parseFunctionIdentifier(
  name: string,
  defaultAccount: string,
  defaultRegion: string,
  qualifier?: string,
): Result<FunctionIdentifier, LambdaErrorSpec> {
  const problems: string[] = [];
  checkFunctionName(name, problems);
  if (qualifier !== undefined) checkQualifier(qualifier, problems);
  const m = FUNCTION_NAME_REGEX.exec(name);
  if (problems.length > 0 || !m) return validationRefusal(problems);

  const isArn = name.startsWith("arn:");
  const [, partition, regionPart, accountPart, functionPart, bareName, namedQualifier] = m;
  const region = regionPart?.slice(0, -1);
  const account = accountPart?.slice(0, -1);
  // The pattern admits odd combinations; Lambda needs an ARN to be complete and "function:" to follow an account.
  if ((isArn && (!region || !account || !functionPart)) || (!isArn && region !== undefined) || (functionPart !== undefined && !account)) {
    // Not confirmed against AWS: the code is Lambda's, the wording our own.
    return refusal("InvalidParameterValueException", 400, `Unsupported function name: ${name}`);
  }
  if (!account && bareName.length > BARE_NAME_MAX) {
    return validationRefusal([constraint(name, "functionName", `have length less than or equal to ${BARE_NAME_MAX}`)]);
  }
  // A qualifier in the name and a different Qualifier parameter: Lambda's InvalidParameterValueException, in the wording the
  // EventBridge Scheduler user guide quotes from Lambda (troubleshooting universal targets, "Mismatching qualifiers").
  if (qualifier !== undefined && namedQualifier !== undefined && qualifier !== namedQualifier) {
    return refusal(
      "InvalidParameterValueException",
      400,
      "The derived qualifier from the function name does not match the specified qualifier.",
    );
  }
  if (region !== undefined && region !== defaultRegion) {
    return refusal("ResourceNotFoundException", 404, `Functions from '${region}' are not reachable in this region ('${defaultRegion}')`);
  }
  const resolvedPartition = partition || "aws";
  const accountId = account ?? defaultAccount;
  const finalQualifier = namedQualifier ?? qualifier;
  return ok({
    partition: resolvedPartition,
    accountId,
    region: defaultRegion,
    name: bareName,
    ...(finalQualifier !== undefined && { qualifier: finalQualifier }),
    arn: `arn:${resolvedPartition}:lambda:${defaultRegion}:${accountId}:function:${bareName}`,
  });
}
