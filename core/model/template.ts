/**
 * The small part of Terraform's template and expression language the model evaluates:
 * string templates with `${...}` interpolations, attribute traversals
 * (`aws_iam_role.x.arn`, `data.terraform_remote_state.s.outputs.k`), literals, and
 * `==` / `!=`. Anything else (function calls, operators, indexes, `%{...}` directives)
 * is reported as unsupported rather than approximated.
 */

export type Literal = string | number | boolean | null;

export type Expr =
  | { readonly kind: "literal"; readonly value: Literal }
  | { readonly kind: "traversal"; readonly parts: readonly string[] }
  | { readonly kind: "compare"; readonly op: "==" | "!="; readonly left: Expr; readonly right: Expr };

export type TemplatePart =
  | { readonly kind: "text"; readonly text: string }
  /** `source` is the whole `${...}` as written, for error messages. */
  | { readonly kind: "interpolation"; readonly source: string; readonly expr: Expr };

/** The template or expression uses syntax the model does not evaluate. */
export class UnsupportedSyntax extends Error {
  constructor(
    readonly expression: string,
    readonly reason: string,
  ) {
    super(`${reason}: ${expression}`);
    this.name = "UnsupportedSyntax";
  }
}

/** Index of the `}` closing an interpolation whose body starts at `from`, skipping quoted strings and nested braces. */
function closingBrace(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (c === "{") {
      depth++;
    } else if (c === "}") {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

/**
 * The expressions of a string template, for scans that need no evaluation (references, dependencies): the body of
 * every `${...}` interpolation and `%{...}` directive, whole even when it holds braces (`${jsonencode({...})}`);
 * `$${` and `%%{` are literal text. An unterminated one runs to the end.
 */
export function templateExpressions(template: string): string[] {
  const bodies: string[] = [];
  for (let i = 0; i < template.length; i++) {
    if (template.startsWith("$${", i) || template.startsWith("%%{", i)) {
      i += 2;
    } else if (template.startsWith("${", i) || template.startsWith("%{", i)) {
      const end = closingBrace(template, i + 2);
      bodies.push(template.slice(i + 2, end < 0 ? template.length : end));
      if (end < 0) break;
      i = end;
    }
  }
  return bodies;
}

/** Splits a Terraform string template into literal text and interpolations. `$${` and `%%{` are escapes. */
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let buffer = "";
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("$${", i) || text.startsWith("%%{", i)) {
      buffer += text[i + 1] + "{";
      i += 3;
    } else if (text.startsWith("${", i) || text.startsWith("%{", i)) {
      const end = closingBrace(text, i + 2);
      if (end < 0) throw new UnsupportedSyntax(text.slice(i), "unterminated interpolation");
      const source = text.slice(i, end + 1);
      if (text[i] === "%") throw new UnsupportedSyntax(source, "template directives (%{...}) are not supported");
      if (buffer) parts.push({ kind: "text", text: buffer });
      buffer = "";
      parts.push({ kind: "interpolation", source, expr: parseExpression(text.slice(i + 2, end), source) });
      i = end + 1;
    } else {
      buffer += text[i];
      i++;
    }
  }
  if (buffer) parts.push({ kind: "text", text: buffer });
  return parts;
}

type Token =
  | { readonly kind: "ident"; readonly text: string }
  | { readonly kind: "number"; readonly value: number }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "op"; readonly text: "." | "==" | "!=" }
  | { readonly kind: "other"; readonly text: string };

const SIMPLE_ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };

/** A quoted HCL string without nested templates; returns the value and the index after the closing quote. */
function readQuoted(body: string, start: number, source: string): [string, number] {
  let value = "";
  for (let i = start + 1; i < body.length; i++) {
    const c = body[i];
    if (c === '"') return [value, i + 1];
    if (c === "\\") {
      const next = body[i + 1];
      if (next === "u" && /^[0-9a-fA-F]{4}$/.test(body.slice(i + 2, i + 6))) {
        value += String.fromCharCode(parseInt(body.slice(i + 2, i + 6), 16));
        i += 5;
      } else if (next !== undefined && next in SIMPLE_ESCAPES) {
        value += SIMPLE_ESCAPES[next];
        i++;
      } else {
        throw new UnsupportedSyntax(source, `unsupported escape \\${next ?? ""} in a string literal`);
      }
    } else if ((c === "$" || c === "%") && body[i + 1] === "{") {
      throw new UnsupportedSyntax(source, "templates inside string literals are not supported");
    } else {
      value += c;
    }
  }
  throw new UnsupportedSyntax(source, "unterminated string literal");
}

function tokenize(body: string, source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < body.length) {
    const rest = body.slice(i);
    const space = /^\s+/.exec(rest);
    const ident = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(rest);
    const number = /^\d+(\.\d+)?/.exec(rest);
    if (space) {
      i += space[0].length;
    } else if (ident) {
      tokens.push({ kind: "ident", text: ident[0] });
      i += ident[0].length;
    } else if (number) {
      tokens.push({ kind: "number", value: Number(number[0]) });
      i += number[0].length;
    } else if (rest.startsWith('"')) {
      const [value, next] = readQuoted(body, i, source);
      tokens.push({ kind: "string", value });
      i = next;
    } else if (rest.startsWith("==") || rest.startsWith("!=")) {
      tokens.push({ kind: "op", text: rest.slice(0, 2) as "==" | "!=" });
      i += 2;
    } else if (rest.startsWith(".")) {
      tokens.push({ kind: "op", text: "." });
      i += 1;
    } else {
      tokens.push({ kind: "other", text: rest[0] });
      i += 1;
    }
  }
  return tokens;
}

function isOp(token: Token | undefined, text: "." | "==" | "!="): token is Extract<Token, { kind: "op" }> {
  return token?.kind === "op" && token.text === text;
}

function describeUnsupported(tokens: readonly Token[], at: number): string {
  const token = tokens[at];
  const previous = tokens[at - 1];
  if (token?.kind === "other" && token.text === "(" && previous?.kind === "ident")
    return `function call ${previous.text}(...) is not supported`;
  if (token?.kind === "other" && token.text === "[") return "index expressions ([...]) are not supported";
  if (token === undefined) return "incomplete expression";
  const shown = token.kind === "ident" || token.kind === "op" || token.kind === "other" ? token.text : JSON.stringify(token.value);
  return `unsupported expression at '${shown}' (the model evaluates references, literals, == and != only)`;
}

/**
 * Parses an interpolation body. `source` is the text reported in errors (the whole `${...}`).
 */
export function parseExpression(body: string, source = "${" + body + "}"): Expr {
  const tokens = tokenize(body, source);
  let at = 0;
  const fail = (): never => {
    throw new UnsupportedSyntax(source, describeUnsupported(tokens, at));
  };

  const operand = (): Expr => {
    const token = tokens[at];
    if (token?.kind === "string" || token?.kind === "number") {
      at++;
      return { kind: "literal", value: token.value };
    }
    if (token?.kind !== "ident") return fail();
    const parts = [token.text];
    at++;
    while (isOp(tokens[at], ".")) {
      const next = tokens[at + 1];
      if (next?.kind !== "ident") {
        at++;
        return fail();
      }
      parts.push(next.text);
      at += 2;
    }
    if (parts.length === 1 && ["true", "false", "null"].includes(parts[0])) {
      return { kind: "literal", value: parts[0] === "null" ? null : parts[0] === "true" };
    }
    return { kind: "traversal", parts };
  };

  const left = operand();
  const op = tokens[at];
  let expr: Expr = left;
  if (isOp(op, "==") || isOp(op, "!=")) {
    at++;
    expr = { kind: "compare", op: op.text === "==" ? "==" : "!=", left, right: operand() };
  }
  if (at < tokens.length) fail();
  return expr;
}
