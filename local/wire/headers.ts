/** Request headers as node delivers them (lower-cased names), or as a test writes them. */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** A header's value (the first, when repeated), its name matched regardless of case. */
export function headerValue(headers: RequestHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}
