/** The template and expression parser (core/model/template.ts), case by case, without the stacks. */
import { parseExpression, parseTemplate, templateExpressions, UnsupportedSyntax, type Expr } from "../../../core/model/template";

const ref = (...parts: string[]): Expr => ({ kind: "traversal", parts });
const lit = (value: string | number | boolean | null): Expr => ({ kind: "literal", value });

describe("parseExpression", () => {
  it.each<[string, Expr]>([
    ["aws_iam_role.invoker.arn", ref("aws_iam_role", "invoker", "arn")],
    [
      "data.terraform_remote_state.callee.outputs.invoker_role_arn",
      ref("data", "terraform_remote_state", "callee", "outputs", "invoker_role_arn"),
    ],
    ["  aws_kms_key.k-1.arn  ", ref("aws_kms_key", "k-1", "arn")],
    ['"text"', lit("text")],
    ['"a\\"b\\\\c\\n\\u0041"', lit('a"b\\c\nA')],
    ["42", lit(42)],
    ["1.5", lit(1.5)],
    ["true", lit(true)],
    ["false", lit(false)],
    ["null", lit(null)],
    ['x.y.z == "v"', { kind: "compare", op: "==", left: ref("x", "y", "z"), right: lit("v") }],
    ["a.b != null", { kind: "compare", op: "!=", left: ref("a", "b"), right: lit(null) }],
  ])("%s", (body, expected) => {
    expect(parseExpression(body)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['jsonencode({"a" = 1})', "function call jsonencode(...) is not supported"],
    ["aws_subnet.s[0].id", "index expressions ([...]) are not supported"],
    ["a.b ==", "incomplete expression"],
    ["a.", "incomplete expression"],
    ["a + b", "unsupported expression at '+' (the model evaluates references, literals, == and != only)"],
    ["a == b == c", "unsupported expression at '==' (the model evaluates references, literals, == and != only)"],
    ['"unterminated', "unterminated string literal"],
    ['"bad \\q escape"', "unsupported escape \\q in a string literal"],
    ['"nested ${x}"', "templates inside string literals are not supported"],
  ])("refuses %s: %s", (body, reason) => {
    const source = "${" + body + "}";
    expect(() => parseExpression(body)).toThrow(new UnsupportedSyntax(source, reason));
    try {
      parseExpression(body);
    } catch (err) {
      expect(err).toBeInstanceOf(UnsupportedSyntax);
      expect((err as UnsupportedSyntax).expression).toBe(source);
      expect((err as UnsupportedSyntax).reason).toBe(reason);
    }
  });
});

describe("parseTemplate", () => {
  it.each<[string, ReturnType<typeof parseTemplate>]>([
    ["plain text", [{ kind: "text", text: "plain text" }]],
    ["", []],
    ["${a.b.c}", [{ kind: "interpolation", source: "${a.b.c}", expr: ref("a", "b", "c") }]],
    [
      "arn:${x.y.arn}:*",
      [
        { kind: "text", text: "arn:" },
        { kind: "interpolation", source: "${x.y.arn}", expr: ref("x", "y", "arn") },
        { kind: "text", text: ":*" },
      ],
    ],
    ["$${literal} and %%{directive}", [{ kind: "text", text: "${literal} and %{directive}" }]],
    ['${"}"}', [{ kind: "interpolation", source: '${"}"}', expr: lit("}") }]],
  ])("%j", (text, expected) => {
    expect(parseTemplate(text)).toEqual(expected);
  });

  it.each<[string, string]>([
    ["before ${a.b", "unterminated interpolation"],
    ["%{ if a }x%{ endif }", "template directives (%{...}) are not supported"],
    ["${f(x)}", "function call f(...) is not supported"],
  ])("refuses %j: %s", (text, reason) => {
    expect(() => parseTemplate(text)).toThrow(reason);
  });
});

describe("templateExpressions", () => {
  it.each<[string, string[]]>([
    ["no interpolation", []],
    ["${a.b} and ${c.d}", ["a.b", "c.d"]],
    ['${jsonencode({"k" = aws_x.y.arn})}', ['jsonencode({"k" = aws_x.y.arn})']],
    ["%{ for x in y }${x}%{ endfor }", [" for x in y ", "x", " endfor "]],
    ["$${escaped} ${real.one}", ["real.one"]],
    ["${unterminated", ["unterminated"]],
  ])("%j", (template, expected) => {
    expect(templateExpressions(template)).toEqual(expected);
  });
});
