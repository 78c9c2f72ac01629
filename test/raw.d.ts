// Vite's `?raw` imports (a file's text), as tests read the README.
declare module "*?raw" {
  const text: string;
  export default text;
}
