// The part of the WebAssembly JS API that the main-process code uses. Node has it built in, but
// @types/node 20 does not declare it, and the DOM library (which does) is not for main-process code.
declare namespace WebAssembly {
  /** A compiled module (opaque here). */
  type Module = object
  const Module: new (bytes: Uint8Array) => Module
  interface Instance {
    readonly exports: Record<string, unknown>
  }
  const Instance: new (module: Module, imports: Record<string, Record<string, unknown>>) => Instance
  interface Memory {
    readonly buffer: ArrayBuffer
    grow(pages: number): number
  }
}
