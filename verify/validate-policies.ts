/**
 * A policy AWS would refuse to store is bad input, not something to judge: the proof stops
 * with exit 2 and names the policy, the statement path and the problem. Syntax is checked by
 * @cloud-copilot/iam-policy (the simulator's own parser); a few shapes it lets through are
 * checked here (a Resource that is not an ARN, a Principal string other than "*", an unknown
 * condition operator), since the simulator would otherwise judge them as if AWS had stored them.
 */
import { validateIdentityPolicy, validateResourcePolicy, validateTrustPolicy } from "@cloud-copilot/iam-policy";
import type { PolicyDocument } from "../core";
import { asList, describeSource, statementsOf, VerifyInputError, type AccessModel } from "./access-model";
import { keyName } from "./capabilities";

const OPERATOR =
  /^(ForAllValues:|ForAnyValue:)?(String(Not)?Equals(IgnoreCase)?|String(Not)?Like|Numeric(Not)?Equals|Numeric(LessThan|GreaterThan)(Equals)?|Date(Not)?Equals|Date(LessThan|GreaterThan)(Equals)?|Bool|BinaryEquals|(Not)?IpAddress|Arn(Not)?Equals|Arn(Not)?Like)(IfExists)?$|^Null$/;

type Kind = "identity" | "trust" | "resource";

function extraProblems(document: PolicyDocument, kind: Kind): string[] {
  const problems: string[] = [];
  statementsOf(document).forEach((statement, i) => {
    for (const element of ["Resource", "NotResource"]) {
      for (const value of asList(statement[element])) {
        if (value !== "*" && !value.startsWith("arn:")) problems.push(`Statement[${i}].${element}: "${value}" is neither "*" nor an ARN`);
      }
    }
    for (const element of ["Principal", "NotPrincipal"]) {
      const principal = statement[element];
      if (typeof principal === "string" && principal !== "*")
        problems.push(`Statement[${i}].${element}: a string Principal may only be "*"; write {"AWS": "${principal}"}`);
    }
    if (kind === "identity" && statement.Principal !== undefined)
      problems.push(`Statement[${i}].Principal: an identity policy names no Principal`);
    const condition = statement.Condition;
    if (condition !== undefined && (condition === null || typeof condition !== "object" || Array.isArray(condition))) {
      problems.push(`Statement[${i}].Condition: must be an object of operators`);
      return;
    }
    for (const [operator, entries] of Object.entries((condition ?? {}) as Record<string, unknown>)) {
      if (!OPERATOR.test(operator)) problems.push(`Statement[${i}].Condition.${operator}: not a condition operator AWS knows`);
      for (const [key, value] of Object.entries((entries ?? {}) as Record<string, unknown>)) {
        const values = Array.isArray(value) ? value : [value];
        if (values.some((v) => v === null || typeof v === "object"))
          problems.push(`Statement[${i}].Condition.${operator}.${key}: values must be strings, numbers or booleans`);
      }
    }
  });
  return problems;
}

/** What AWS would refuse in a policy of this kind, one line per problem; empty when it would store it. */
export function policyProblems(document: PolicyDocument, kind: Kind): string[] {
  const validate = kind === "identity" ? validateIdentityPolicy : kind === "trust" ? validateTrustPolicy : validateResourcePolicy;
  const syntax = validate(document).map((e) => `${e.path}: ${e.message}`);
  return [...new Set([...syntax, ...extraProblems(document, kind)])];
}

/** Throws one VerifyInputError listing every malformed policy of the model. */
export function validatePolicies(model: AccessModel): void {
  const reports: string[] = [];
  const check = (name: string, document: PolicyDocument, kind: Kind) => {
    const problems = policyProblems(document, kind);
    if (problems.length > 0) reports.push(`${name}:\n${problems.map((p) => `    ${p}`).join("\n")}`);
  };
  for (const role of model.roles) {
    check(`trust policy of role/${role.name} (${describeSource(role.source)})`, role.trustPolicy, "trust");
    for (const policy of role.policies)
      check(`policy ${policy.name} of role/${role.name} (${describeSource(policy.source)})`, policy.document, "identity");
  }
  for (const fn of model.functions)
    if (fn.resourcePolicy) check(`resource policy of function ${fn.name} (${describeSource(fn.source)})`, fn.resourcePolicy, "resource");
  for (const bucket of model.buckets)
    if (bucket.policy) check(`bucket policy of ${bucket.name} (${describeSource(bucket.source)})`, bucket.policy, "resource");
  for (const key of model.keys) check(`key policy of ${keyName(key)} (${describeSource(key.source)})`, key.policy, "resource");
  if (reports.length > 0) {
    throw new VerifyInputError(
      `${reports.length === 1 ? "a policy AWS would refuse" : `${reports.length} policies AWS would refuse`}, so nothing was judged; fix the stack (or the deployed policy):\n  ${reports.join("\n  ")}`,
    );
  }
}
