/** Vite's `?raw` imports (a file's text), as the consumer test reads wrangler.toml. */
declare module "*?raw" {
  const text: string;
  export default text;
}
