// @ts-check
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "cdktf.out/", "build/", ".venv/", ".gen/", "coverage/", "**/*.js", "**/*.mjs"] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // Deep imports of @cdktf/provider-aws classes only: the package barrel costs seconds and a GB per synth.
      "no-restricted-imports": [
        "error",
        { paths: [{ name: "@cdktf/provider-aws", message: "Import the class by deep path, e.g. '@cdktf/provider-aws/lib/iam-role'." }] },
      ],
    },
  },
  {
    // The access proof sees the IAM and model core through its one entry point, and nothing of the local runtime.
    files: ["verify/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [{ name: "@cdktf/provider-aws", message: "Import the class by deep path, e.g. '@cdktf/provider-aws/lib/iam-role'." }],
          patterns: [
            {
              regex: "^(\\.\\.?/)+local(/|$)",
              message: "verify/ does not use the local runtime: what it shares lives in core/ (import it from core/index.ts).",
            },
            { regex: "^(\\.\\.?/)+core/(?!index$)", message: "Import the core from its entry point (core/index.ts), e.g. '../core'." },
          ],
        },
      ],
    },
  },
);
