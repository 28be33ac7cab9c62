/**
 * AWS's wording for requests that break the API model's constraints, shared by every service:
 * one clause per broken constraint, gathered into "N validation error(s) detected: …".
 */

/** "Value '…' at '…' failed to satisfy constraint: Member must <rule>". */
export function constraint(value: string, at: string, rule: string): string {
  return `Value '${value}' at '${at}' failed to satisfy constraint: Member must ${rule}`;
}

/** AWS's aggregate wording: "N validation error(s) detected: …", clauses joined by "; ". */
export function validationMessage(problems: readonly string[]): string {
  const count = problems.length === 1 ? "1 validation error detected" : `${problems.length} validation errors detected`;
  return `${count}: ${problems.join("; ")}`;
}

export interface StringRule {
  min: number;
  max?: number;
  /** Shown to the caller exactly as the API model writes it. */
  pattern: string;
  regex: RegExp;
}

/** One "Value … at '…' failed to satisfy constraint: …" clause per broken constraint, as AWS words them. */
export function checkString(value: string, at: string, rule: StringRule, problems: string[]): void {
  if (value.length < rule.min) problems.push(constraint(value, at, `have length greater than or equal to ${rule.min}`));
  if (rule.max !== undefined && value.length > rule.max)
    problems.push(constraint(value, at, `have length less than or equal to ${rule.max}`));
  if (!rule.regex.test(value)) problems.push(constraint(value, at, `satisfy regular expression pattern: ${rule.pattern}`));
}
