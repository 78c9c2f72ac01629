// A .wasm file imported by a module: compiled by the runtime ahead of time (Workers refuse
// WebAssembly built from bytes at run time), instantiated by whoever imports it.
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
