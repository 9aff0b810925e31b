// Chosen through the package's "#crypto-backend" import on Node, Bun and Deno.
export { nodeBackend as cryptoBackend } from './node.js';
