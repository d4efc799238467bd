// Build outputs embedded with `import x from "...": with { type: "file" }`: the import is their path.
declare module "*.so" {
  const path: string;
  export default path;
}
declare module "*.elf" {
  const path: string;
  export default path;
}
