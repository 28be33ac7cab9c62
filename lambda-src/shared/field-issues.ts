import type { z } from "zod";

/** One bad field of a request, as both functions report it. */
export interface FieldIssue {
  /** Dotted path of the bad field, e.g. `payload` or `items.0.quantity`; `(root)` when the input itself is wrong. */
  readonly path: string;
  readonly message: string;
}

/** Flattens a zod error into field issues, one entry per unknown key so every offending field is named. */
export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((issue): FieldIssue[] => {
    const base = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: base ? `${base}.${key}` : key, message: "Unknown field" }));
    }
    return [{ path: base || "(root)", message: issue.message }];
  });
}
