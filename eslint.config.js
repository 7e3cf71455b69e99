// Lint: typescript-eslint's type-checked rules over the library, tests, bench and examples.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "build/", "docs/", "node_modules/", "coverage/", "test/fixtures/"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
    },
  },
  {
    files: ["src/**/*.ts"],
    ignores: ["src/threads/node/**", "src/rpc/threads.ts", "src/rpc/nats.ts"],
    rules: {
      // The core runs in browsers too: it imports nothing from Node.js.
      "no-restricted-imports": ["error", { patterns: ["node:*"] }],
    },
  },
  {
    files: ["test/**/*.ts", "bench/**/*.ts", "examples/**/*.ts"],
    rules: {
      // Tests throw and catch arbitrary values on purpose.
      "@typescript-eslint/only-throw-error": "off",
      "@typescript-eslint/no-floating-promises": ["error", { allowForKnownSafeCalls: [{ from: "package", name: ["it", "describe", "test"], package: "node:test" }] }],
    },
  },
  { files: ["**/*.js"], ...tseslint.configs.disableTypeChecked },
  // Plain Node.js scripts that run before the build (npm's pre-scripts).
  { files: ["scripts/**/*.js"], languageOptions: { globals: { process: "readonly", console: "readonly" } } },
);
