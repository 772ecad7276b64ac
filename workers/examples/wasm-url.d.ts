// Vite's `?url` imports (vite/client declares them for page code; workers are checked without it).
declare module '*.wasm?url' {
  const url: string;
  export default url;
}
