/** XML as AWS's XML protocols (awsQuery, S3) write it. */

/** XML text/attribute escaping; also drops characters XML 1.0 cannot carry at all. */
export function xmlEscape(value: string): string {
  return (
    value
      // eslint-disable-next-line no-control-regex -- removing the control characters XML 1.0 forbids is the point
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&apos;")
      .replace(/\r/g, "&#xD;")
  );
}

/** One element with escaped text. */
export const el = (name: string, value: string | number | boolean): string => `<${name}>${xmlEscape(String(value))}</${name}>`;
